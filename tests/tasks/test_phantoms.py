"""phantom_denoise end to end: a U-Net that learns to denoise low-dose scans, beside TV et al."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tasks.paradigms.denoisers import Corruption, denoise_references
from tasks.run import main


def test_a_short_run_denoises_better_than_total_variation_and_shows_the_scans(runs_dir):
    args = ["phantom_denoise", "train.total_steps=4800", "eval.every=2400",
            "eval.references=[total_variation]", f"runs_dir={runs_dir}"]  # fmt: skip
    assert main(args) == 0
    (run,) = (runs_dir / "phantom_denoise").iterdir()
    metrics = json.loads((run / "eval" / "results.json").read_text())["metrics"]
    noisy = metrics["baseline/noisy_input/psnr"]
    assert 21.0 < noisy < 24.5  # dose 30 photons per unit intensity
    assert metrics["psnr"] > noisy + 4.0
    assert metrics["psnr"] > metrics["baseline/total_variation/psnr"] + 0.5
    assert metrics["ssim"] > metrics["baseline/total_variation/ssim"]
    assert metrics["labels_used"] == 0
    assert (run / "eval" / "denoising_strip.png").stat().st_size > 10_000
    report = (run / "report.md").read_text()
    assert "eval/denoising_strip.png" in report and "total_variation" in report


def test_unknown_references_are_named(runs_dir, capsys):
    assert main(["phantom_denoise", "eval.references=[median]", f"runs_dir={runs_dir}"]) == 2
    assert "eval.references: unknown median" in capsys.readouterr().err


@pytest.mark.parametrize(
    "corruption", [Corruption("poisson", 0.0, 30.0), Corruption("noise", 0.1, 0.0)]
)
def test_every_classical_reference_is_tuned_on_val_and_beats_the_noisy_input(corruption):
    from envs.paradigms.datasets import make_phantoms

    rng = np.random.default_rng(0)
    clean = make_phantoms(10, 64, seed=5)

    def observe(images):
        if corruption.kind == "poisson":
            return rng.poisson(images * corruption.dose) / corruption.dose
        return images + rng.normal(0, corruption.noise_std, images.shape)

    names = ["total_variation", "wavelet", "non_local_means", "bm3d"]
    val, test = (observe(clean[:4]), clean[:4]), (observe(clean[4:]), clean[4:])
    rows = {row["model"]: row for row in denoise_references(corruption, names, val, test)}
    assert set(rows) == {"noisy input", *names}
    for name in names:
        gain = 3.0 if name in ("non_local_means", "bm3d") else 1.0  # wavelets gain least
        assert rows[name]["psnr"] > rows["noisy input"]["psnr"] + gain, name
        if name != "wavelet":
            assert rows[name]["ssim"] > rows["noisy input"]["ssim"], name
    assert rows["bm3d"]["psnr"] > rows["wavelet"]["psnr"]
