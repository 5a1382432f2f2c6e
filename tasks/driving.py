"""What the highway-env tasks (``drive_highway``, ``drive_steer``) share: the check that
highway-env is installed, making a scenario that can draw frames without a display, and the
strip of frames of one evaluation episode drawn into the report.

highway-env is an optional extra: ``pip install learnloop[drive]``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from tasks.config import ConfigError

INSTALL_HINT = "pip install learnloop[drive]"
FRAMES_FILE = "frames.png"

# policy(obs, env) -> action, as in tasks.runner.evaluation.run_episodes
Policy = Callable[[Any, Any], Any]
# label(step, info, env) -> the caption of a frame
FrameLabel = Callable[[int, dict[str, Any], Any], str]


def require_highway_env(task: str) -> None:
    """Import highway-env (which registers its Gymnasium ids) or fail with one clear line."""
    try:
        import highway_env  # noqa: F401
    except ImportError:
        raise ConfigError(
            f"task {task} needs highway-env, which is not installed: {INSTALL_HINT}"
        ) from None


def make_highway_env(
    task: str, env_id: str, config: dict[str, Any], render: bool = False
) -> gym.Env:
    """``gym.make(env_id)`` with highway-env's ``config``; ``render`` gives rgb_array frames
    without a display."""
    require_highway_env(task)
    if render and os.environ.get("SDL_VIDEODRIVER", "dummy") == "dummy":
        # Without a display pygame needs a headless SDL driver; highway-env draws nothing under
        # the "dummy" one (all frames come out black), so use SDL's "offscreen" driver.
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
    if render:
        config = {**config, "offscreen_rendering": True}
    return gym.make(env_id, config=config, render_mode="rgb_array" if render else None)


def draw_strip(
    make_env: Callable[[], gym.Env],
    policy: Policy,
    seed: int,
    frames_wanted: int,
    frame_every: int,
    label: FrameLabel,
    path: Path,
) -> int:
    """Play one episode (env seed ``seed``) and draw its first frame and every
    ``frame_every``-th action's (and the last) into a vertical strip at ``path``, at most
    ``frames_wanted`` frames; returns the number of frames drawn."""
    env = make_env()
    try:
        obs, info = env.reset(seed=seed)
        frames = [(env.render(), label(0, info, env))]
        step, done = 0, False
        while not done and len(frames) < frames_wanted:
            obs, _, terminated, truncated, info = env.step(policy(obs, env))
            step += 1
            done = terminated or truncated
            if done or step % frame_every == 0:
                frames.append((env.render(), label(step, info, env)))
    finally:
        env.close()
    save_strip(frames, path)
    return len(frames)


def save_strip(frames: list[tuple[np.ndarray, str]], path: Path) -> None:
    """Draw ``(frame, caption)`` pairs one above the other into a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    height, width = frames[0][0].shape[:2]
    scale = 6.0 / width
    figure, axes = plt.subplots(
        len(frames), 1, figsize=(6.0, len(frames) * (height * scale + 0.3)), squeeze=False
    )
    for axis, (frame, caption) in zip(axes.flat, frames, strict=True):
        axis.imshow(frame)
        axis.set_title(caption, fontsize=8, loc="left")
        axis.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
