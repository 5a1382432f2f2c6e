"""phantom_denoise on held-out phantoms: the U-Net against classical denoisers at four noise levels.

The default config (U-Net width, patches, budget) was chosen on split seed 0 with training seed
0 at Poisson dose 30. This script runs ``python -m tasks.run phantom_denoise seeds=...`` on
split seed 1 (other phantoms in train, val and test) at each noise level: Poisson (low-dose)
at dose 30 and 10 photons per unit intensity, Gaussian at sigma 0.1 and 0.2. The classical
references (total variation, wavelet, non-local means, BM3D) are tuned on the same val scans
and scored on the same test scans (they do not depend on the training seed, so they run once
per level). It writes one table: the U-Net's mean PSNR and SSIM over the training seeds with a
95% bootstrap interval, each reference's, and the margin over the best one (goal: >= 1 dB).

    python benchmarks/phantoms_heldout.py            # split 1, seeds 100,101,102, four levels
    python benchmarks/phantoms_heldout.py --write    # also BENCHMARKS.md
    python benchmarks/phantoms_heldout.py --levels poisson:30 --seeds 100 --steps 2000  # a look
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.sections import write_section  # noqa: E402

SECTION = "phantom_denoise"
LEVELS = ("poisson:30", "poisson:10", "noise:0.1", "noise:0.2")
GOAL_DB = 1.0


def level_overrides(level: str) -> list[str]:
    """Config overrides for a level written ``poisson:DOSE`` or ``noise:SIGMA``."""
    kind, _, value = level.partition(":")
    if kind == "poisson":
        return ["env.corruption=poisson", f"env.dose={value}"]
    if kind == "noise":
        return ["env.corruption=noise", f"env.noise_std={value}"]
    raise SystemExit(f"unknown level {level!r}: use poisson:DOSE or noise:SIGMA")


def level_words(level: str) -> str:
    kind, _, value = level.partition(":")
    return f"Poisson, dose {value}" if kind == "poisson" else f"Gaussian, sigma {value}"


def train(level: str, seeds: list[int], split_seed: int, steps: int, runs_dir: Path) -> dict:
    """Train and evaluate the U-Net at each seed; the seeds summary and mean wall time."""
    command = [sys.executable, "-m", "tasks.run", "phantom_denoise",
               f"seeds={','.join(map(str, seeds))}", f"env.split_seed={split_seed}",
               "eval.baselines=false", f"runs_dir={runs_dir}", *level_overrides(level)]  # fmt: skip
    if steps:
        command.append(f"train.total_steps={steps}")
    print(" ".join(command[1:]), file=sys.stderr, flush=True)
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True)
    wall = (time.perf_counter() - started) / len(seeds)
    (folder,) = (runs_dir / "phantom_denoise").glob("*-seeds")
    return {"metrics": json.loads((folder / "results.json").read_text())["metrics"], "wall": wall}


def references(level: str, split_seed: int) -> list[dict]:
    """The classical references' rows at ``level`` on the split (tuned on val, scored on test)."""
    from tasks.paradigms.phantoms import PhantomDenoiseConfig, PhantomDenoiseTask

    cfg = PhantomDenoiseConfig()
    cfg.env.split_seed = split_seed
    for override in level_overrides(level):
        key, _, value = override.removeprefix("env.").partition("=")
        setattr(cfg.env, key, type(getattr(cfg.env, key))(value))
    return PhantomDenoiseTask().references(cfg)


def table(rows: list[dict], seeds: list[int], split_seed: int, steps: int) -> str:
    names = [r["model"] for r in rows[0]["references"] if r["model"] != "noisy input"]
    lines = [
        f"`python benchmarks/phantoms_heldout.py` (`python -m tasks.run phantom_denoise "
        f"seeds={','.join(map(str, seeds))} env.split_seed={split_seed}` at each level"
        + (f", train.total_steps={steps}" if steps else ", default budget")
        + f"): split seed {split_seed} (240 test phantoms never served in training, 120 val) and "
        f"training seeds {', '.join(map(str, seeds))}; the config was chosen on split seed 0, "
        "seed 0, Poisson dose 30. References are tuned on the val scans (strength as a multiple "
        "of the noise's sigma; Poisson through Anscombe's transform) and scored on the same test "
        "scans. PSNR in dB (data range 1), mean over test phantoms; the U-Net's mean over seeds "
        "with its 95% bootstrap interval. Wall s: one seed's training and evaluation on 2 cores.",
        "",
        "| noise | noisy input | " + " | ".join(names) + " | U-Net PSNR (95% CI) | per seed | "
        f"U-Net SSIM | best reference SSIM | margin over best | goal >= {GOAL_DB:g} dB | wall s |",
        "|---|---|" + "---|" * len(names) + "---|---|---|---|---|---|---|",
    ]
    for row in rows:
        refs = {r["model"]: r for r in row["references"]}
        psnr, ssim = row["metrics"]["psnr"], row["metrics"]["ssim"]
        best = max((refs[n] for n in names), key=lambda r: r["psnr"])
        margin = psnr["mean"] - best["psnr"]
        low, high = psnr["ci95"]
        per_seed = ", ".join(f"{v:.2f}" for v in psnr["per_seed"].values())
        lines.append(
            f"| {level_words(row['level'])} | {refs['noisy input']['psnr']:.2f} | "
            + " | ".join(f"{refs[n]['psnr']:.2f}" for n in names)
            + f" | {psnr['mean']:.2f} ({low:.2f}-{high:.2f}) | {per_seed} | {ssim['mean']:.3f} | "
            f"{best['ssim']:.3f} ({best['model']}) | {margin:+.2f} dB | "
            f"{'met' if margin >= GOAL_DB else 'missed'} | {row['wall']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="100,101,102", help="training seeds, comma-separated")
    parser.add_argument("--split-seed", type=int, default=1)
    parser.add_argument("--levels", default=",".join(LEVELS), help="poisson:DOSE / noise:SIGMA")
    parser.add_argument("--steps", type=int, default=0, help="training budget (0: the default)")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.split_seed == 0:
        print("warning: split seed 0 is the tuning data", file=sys.stderr)
    rows = []
    for level in args.levels.split(","):
        runs_dir = Path(tempfile.mkdtemp(prefix="phantoms-"))
        row = {"level": level, **train(level, seeds, args.split_seed, args.steps, runs_dir)}
        row["references"] = references(level, args.split_seed)
        rows.append(row)
        markdown = table(rows, seeds, args.split_seed, args.steps)
        print(markdown, flush=True)
        if args.write:  # after each level, so a long run publishes what it has measured
            write_section(SECTION, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
