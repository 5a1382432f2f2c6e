"""What the highway-env tasks (``drive_highway``, ``drive_steer``) share: the check that
highway-env is installed, making a scenario that can draw frames without a display, and the
strip of frames of one evaluation episode drawn into the report.

highway-env is an optional extra: ``pip install learnloop[drive]``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from tasks.config import ConfigError, EvalConfig, describe
from tasks.runner.evaluation import run_episodes, summarize, wilson_interval

INSTALL_HINT = "pip install learnloop[drive]"
FRAMES_FILE = "frames.png"

# policy(obs, env) -> action, as in tasks.runner.evaluation.run_episodes
Policy = Callable[[Any, Any], Any]
# label(step, info, env) -> the caption of a frame
FrameLabel = Callable[[int, dict[str, Any], Any], str]


@dataclass
class StripConfig:
    """The strip of frames in the report (a task adds ``frame_every``, in its own time unit)."""

    strip_frames: int = describe(
        "Frames of the trained agent drawn into eval/frames.png (0: none).", 6, min=0, max=30
    )


def eval_seed(seed: int) -> int:
    """The first held-out evaluation seed of a run at training ``seed``: training envs take
    seeds ``seed, seed + 1, ...``, evaluation ``10,000 + 1,000 x seed`` onward."""
    return 10_000 + seed * 1_000


VALIDATION_OFFSET = 500  # validation env seeds start this far past the evaluation's
BEST_DIR = "best"  # the run's sub-folder holding the checkpoint that validated best
# The algorithms eval.ensemble takes: Q-learners (the greedy action of the members' mean
# Q-values) and SAC (the members' greedy action their critics rate best on average).
Q_LEARNERS = ("dqn", "qrdqn")
ENSEMBLE_ALGOS = (*Q_LEARNERS, "sac")


@dataclass
class DrivingEvalConfig(EvalConfig):
    """Evaluation, and the choice of the checkpoint it evaluates."""

    validation_episodes: int = describe(
        "Episodes on validation env seeds (apart from the evaluation's) at every eval.every "
        "steps; evaluation takes the weights with the best validation return instead of the "
        "last (0: off; the last weights, as with checkpoint=).",
        0,
        min=0,
        max=VALIDATION_OFFSET,
    )
    ensemble: int = describe(
        "Evaluation plays a checkpoint ensemble of the run's last N checkpoints in place of "
        "one set of weights: DQN and QR-DQN the greedy action of their mean Q-values, SAC the "
        "one of their actors' greedy actions that their critics rate best on average; 0: one "
        "set (the validation's pick or the last). At most train.keep_checkpoints.",
        0,
        min=0,
    )


def validation_seed(seed: int) -> int:
    """The first validation seed of a run at training ``seed``: ``VALIDATION_OFFSET`` past its
    first evaluation seed (evaluation plays at most that many episodes)."""
    return eval_seed(seed) + VALIDATION_OFFSET


def check_eval_seeds(cfg: Any) -> None:
    """Evaluation and validation seeds must not overlap: a clear error when they would."""
    if cfg.eval.episodes > VALIDATION_OFFSET and cfg.eval.validation_episodes:
        raise ConfigError(
            f"eval.episodes={cfg.eval.episodes} with eval.validation_episodes > 0: evaluation "
            f"would reach the validation seeds; play at most {VALIDATION_OFFSET} episodes"
        )
    if cfg.eval.ensemble > cfg.train.keep_checkpoints:
        raise ConfigError(
            f"eval.ensemble={cfg.eval.ensemble} needs that many checkpoints kept; "
            f"train.keep_checkpoints is {cfg.train.keep_checkpoints}"
        )
    if cfg.eval.ensemble and cfg.algo.name not in ENSEMBLE_ALGOS:
        raise ConfigError(
            f"eval.ensemble={cfg.eval.ensemble} averages action values: algo.name="
            f"{cfg.algo.name} has none ({', '.join(ENSEMBLE_ALGOS)} have); set eval.ensemble=0"
        )
    if cfg.eval.validation_episodes and not cfg.eval.every:
        raise ConfigError(
            f"eval.validation_episodes={cfg.eval.validation_episodes} needs eval.every > 0 "
            "(how often to validate)"
        )


class BestOnValidation:
    """A periodic hook: plays ``episodes`` greedy episodes from the validation seeds, logs
    ``eval_periodic/val_<metric>`` and, when the mean return beats every earlier validation
    of the run (a resumed run reads the earlier best back), saves the agent atomically into
    ``<run>/best/step_<step>`` (as a checkpoint; only the newest best kept)."""

    def __init__(
        self, run: Any, meta: dict[str, Any], make_env: Callable[[], gym.Env],
        episodes: int, seed: int, means: tuple[str, ...],
    ) -> None:  # fmt: skip
        from tasks.runner.runs import Checkpoints

        self.make_env, self.episodes, self.seed, self.means = make_env, episodes, seed, means
        self.checkpoints = Checkpoints(run, meta, keep=1, folder=run.path / BEST_DIR)
        self.best = best_validation(run.path)

    def __call__(self, step: int, agent: Any) -> dict[str, float]:
        row = policy_row(
            self.make_env, "validation", lambda obs, env: agent.act(obs, deterministic=True),
            self.episodes, self.seed, self.means, self.means[0],
        )  # fmt: skip
        score = float(row["episode_return_mean"])
        if self.best is None or score > self.best["val_return"]:
            self.best = {"val_return": score, "step": step}
            self.checkpoints.meta = {**self.checkpoints.meta, "val_return": score}
            self.checkpoints.save(step, agent.save)
        metrics = {f"eval_periodic/val_{k}": float(row[k]) for k in self.means}
        return {**metrics, "eval_periodic/val_return": score}


def validation_hooks(
    cfg: Any, run: Any, make_env: Callable[[], gym.Env], means: tuple[str, ...]
) -> list[Any]:
    """A driving task's periodic hooks: a :class:`BestOnValidation` when validation is on."""
    from agents.base import Periodic

    if not cfg.eval.every or not cfg.eval.validation_episodes:
        return []
    meta = {"task": cfg.task, "backend": cfg.backend, "algo": cfg.algo.name}
    hook = BestOnValidation(
        run, meta, make_env, cfg.eval.validation_episodes, validation_seed(cfg.seed), means
    )
    return [Periodic(cfg.eval.every, hook)]


def selected_agent(task: Any, cfg: Any, agent: Any, run: Any) -> tuple[Any, dict[str, float], str]:
    """The agent evaluation plays, unless ``checkpoint=`` names one: with ``eval.ensemble`` the
    mean-Q ensemble of the run's last checkpoints, else with validation on the run's
    best-validating checkpoint, else ``agent``; metrics and a report note saying which."""
    if cfg.eval.ensemble and not cfg.checkpoint:
        return ensemble_agent(task, cfg, agent, run.path)
    if not cfg.eval.validation_episodes or cfg.checkpoint:
        return agent, {}, "evaluated the last weights (no selection on validation episodes)"
    best = best_validation(run.path)
    if best is None:
        return agent, {}, "evaluated the last weights (no validation checkpoint in the run)"
    from tasks.runner.session import load_checkpoint

    loaded = load_checkpoint(task, cfg, best["path"])
    first, count = validation_seed(cfg.seed), cfg.eval.validation_episodes
    note = (
        f"evaluated the weights of step {best['step']:,}: the best mean return "
        f"({best['val_return']:.2f}) of the validations every {cfg.eval.every:,} steps, "
        f"{count} greedy episodes each on env seeds {first}-{first + count - 1}"
    )
    return loaded, {"selected_step": float(best["step"])}, note


def ensemble_agent(
    task: Any, cfg: Any, agent: Any, run_path: Path
) -> tuple[Any, dict[str, float], str]:
    """The ensemble (:mod:`agents.ensemble`; a Q-learner's :class:`QEnsemble`, SAC's
    :class:`CriticEnsemble`) of the last ``eval.ensemble`` checkpoints of the run in
    ``run_path`` (fewer when it kept fewer; ``agent`` when it kept none), with
    ``ensemble_size`` and ``ensemble_first_step``."""
    from agents.ensemble import CriticEnsemble, QEnsemble
    from tasks.runner.runs import list_checkpoints
    from tasks.runner.session import load_checkpoint

    kept = list_checkpoints(run_path / "checkpoints")[-cfg.eval.ensemble :]
    if not kept:
        return agent, {}, "evaluated the last weights (no checkpoint in the run to ensemble)"
    members = [load_checkpoint(task, cfg, checkpoint) for checkpoint in kept]
    steps = [int(checkpoint.name[5:]) for checkpoint in kept]
    note = (
        f"evaluated {ensemble_rule(cfg.algo.name)} of the checkpoints of steps "
        f"{', '.join(f'{step:,}' for step in steps)} (eval.ensemble={cfg.eval.ensemble})"
    )
    metrics = {"ensemble_size": float(len(kept)), "ensemble_first_step": float(steps[0])}
    ensemble = QEnsemble(members) if cfg.algo.name in Q_LEARNERS else CriticEnsemble(members)
    return ensemble, metrics, note


def ensemble_rule(algo: str) -> str:
    """How eval.ensemble picks the action of an ``algo`` agent, in words (notes, tables)."""
    if algo in Q_LEARNERS:
        return "the greedy action of the mean Q-values"
    return "the greedy action their critics rate best on average, among the actors' own,"


def best_validation(run_path: Path) -> dict[str, Any] | None:
    """``{"step", "val_return", "path"}`` of the run's best-validating checkpoint (None: none)."""
    from tasks.runner.runs import newest_checkpoint, read_meta

    found = newest_checkpoint(run_path / BEST_DIR)
    if found is None:
        return None
    meta = read_meta(found)
    if not isinstance(meta.get("val_return"), int | float):
        return None
    return {"step": meta["step"], "val_return": float(meta["val_return"]), "path": found}


def policy_row(
    make_env: Callable[[], gym.Env],
    name: str,
    policy: Policy,
    episodes: int,
    seed: int,
    means: tuple[str, ...],
    rate: str,
) -> dict[str, Any]:
    """Play ``episodes`` episodes from env seed ``seed``; one table row: the mean over episodes
    of each metric in ``means``, a Wilson interval of the rate ``rate``, return and length."""
    per_episode = run_episodes(make_env, policy, episodes, seed)
    row: dict[str, Any] = {"policy": name, **{k: float(np.mean(per_episode[k])) for k in means}}
    low, high = wilson_interval(sum(per_episode[rate]), episodes)
    row[f"{rate}_95ci"] = f"{low:.2f}-{high:.2f}"
    summary = summarize(name, per_episode)
    row.update({k: v for k, v in summary.items() if k.startswith("episode_")})
    row["episodes"] = episodes
    return row


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


class HeadwayCost(gym.Wrapper):
    """Takes ``cost x (1 - headway / limit)`` from each step's reward while ``measure`` (of the
    unwrapped highway-env env: a time or a distance to the car ahead, inf for none) is under
    ``limit``; the measure goes to ``info["headway"]``. highway-env's reward only speaks at a
    crash, which ends the episode; this tells the agent, earlier, that it is closing in."""

    def __init__(
        self, env: gym.Env, measure: Callable[[Any], float], limit: float, cost: float
    ) -> None:
        super().__init__(env)
        self.measure, self.limit, self.cost = measure, limit, cost

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        headway = self.measure(self.env.unwrapped)
        info = {**info, "headway": headway}
        cost = self.cost * max(0.0, 1.0 - headway / self.limit)
        return obs, reward - cost, terminated, truncated, info


class LaneChangeCost(gym.Wrapper):
    """Takes ``cost`` from the reward of each step in which the car starts a lane change (its
    target lane is another after the step than before it), as highway-env's merge and
    roundabout scenarios do with ``lane_change_reward``; ``info["lane_change"]`` says whether
    it did. A lane change asked for where there is no lane changes nothing and costs nothing."""

    def __init__(self, env: gym.Env, cost: float) -> None:
        super().__init__(env)
        self.cost = cost

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        before = self.env.unwrapped.vehicle.target_lane_index
        obs, reward, terminated, truncated, info = self.env.step(action)
        changed = self.env.unwrapped.vehicle.target_lane_index != before
        info = {**info, "lane_change": changed}
        return obs, reward - self.cost * changed, terminated, truncated, info


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
