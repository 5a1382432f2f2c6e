"""The autoencoder learner's U-Net denoiser and its patch / symmetry augmentations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces

from agents.learners.autoencoder import AutoencoderLearner, crop_together
from agents.learners.nets import UNet, dihedral_together


def test_the_unet_keeps_the_image_size_and_starts_as_a_correction_to_its_input():
    net = UNet(1, 1, width=8)
    with torch.no_grad():
        torch.nn.init.zeros_(net.out.weight)
        torch.nn.init.zeros_(net.out.bias)
    images = torch.rand(3, 1, 32, 48)
    assert torch.equal(net(images), images)  # a zero correction: the identity


def test_crops_and_symmetries_move_the_input_and_its_target_together():
    images = torch.rand(5, 1, 16, 16)
    noisy, clean = crop_together([images + 1.0, images], 8)
    assert noisy.shape == (5, 1, 8, 8) and torch.allclose(noisy, clean + 1.0)
    assert not all(torch.equal(clean[0], clean[i]) for i in range(1, 5))  # windows differ
    turned, target = dihedral_together([images * 2.0, images])
    assert torch.allclose(turned, target * 2.0)
    assert {tuple(sorted(t.flatten().tolist())) for t in (turned[0] / 2, images[0])} == {
        tuple(sorted(images[0].flatten().tolist()))
    }  # the same pixels, moved


def test_an_autoencoder_with_arch_unet_denoises_whole_scans_and_has_no_code_to_probe():
    box = spaces.Box(0.0, 1.0, (1, 16, 16), np.float32)
    learner = AutoencoderLearner(box, box, 0, "cpu", arch="unet", width=8, crop=8)
    assert learner.clean_encoder() is None
    obs = np.random.default_rng(0).random((70, 1, 16, 16), dtype=np.float32)
    assert learner.act_batch(obs).shape == obs.shape  # 70 scans: in chunks of 64
    before = float(((learner.act_batch(obs) - 0.5) ** 2).mean())
    for _ in range(60):  # learn to map anything to a flat grey image
        learner.observe(obs[:16], obs[:16], np.zeros(16), {"clean": np.full((16, 1, 16, 16), 0.5)})
    assert float(((learner.act_batch(obs) - 0.5) ** 2).mean()) < 0.85 * before
    with pytest.raises(ValueError, match="divisible by 4"):
        AutoencoderLearner(
            spaces.Box(0.0, 1.0, (1, 10, 10), np.float32), box, 0, "cpu", arch="unet"
        )
