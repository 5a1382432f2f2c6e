"""Self-supervised learning: a denoising autoencoder whose encoder other learners reuse."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from agents.learners.base import Learner, masked
from agents.learners.nets import (
    Decoder,
    Encoder,
    UNet,
    dihedral_together,
    hide_block,
    shift_together,
)


class CleanInput(nn.Module):
    """Feeds clean samples to an encoder trained on masked ones (values + an all-visible mask)."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.features = encoder.features

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.encoder(torch.cat([obs, torch.ones_like(obs)], dim=1))


class AutoencoderLearner(Learner):
    """Reconstructs the clean sample from a corrupted observation (``learnloop/Reconstruct-v0``).

    The action is the reconstruction; the update is the mean squared error against
    ``info["clean"]``, which the env derives from the data itself (no class label is involved).
    :meth:`clean_encoder` hands the trained encoder to other learners (a linear probe, say).

    Hyperparameters: ``arch`` ("auto"), ``width`` (code size, 128), ``learning_rate`` (1e-3),
    ``augment`` (images: shift the observation and its target together by up to this many
    pixels, 1; more varied inputs make features that transfer better), ``block`` (images: also
    hide a random ``block`` x ``block`` square of the observation, which the network must fill
    in from its surroundings; 0, off), ``decay_updates`` (cosine decay of the learning rate to
    zero over this many updates; 0, a constant rate), ``crop`` (images: train on random
    ``crop`` x ``crop`` patches of each observation and its target, which a fully convolutional
    network such as the U-Net denoises as well as whole images, at a fraction of the cost; 0,
    whole images), ``dihedral`` (images: also rotate and mirror each batch by one of the
    square's 8 symmetries; False).

    ``arch="unet"`` (images) maps the observation to the reconstruction with a small U-Net
    (:class:`agents.learners.nets.UNet`, ``width`` channels at full resolution) instead of an
    encoder and a decoder through a code: a denoiser, with no code for a probe to read
    (:meth:`clean_encoder` is None).
    """

    paradigm = "self-supervised"
    uses = "data"
    DEFAULTS: dict[str, Any] = {
        "arch": "auto",
        "width": 128,
        "learning_rate": 1e-3,
        "augment": 1,
        "block": 0,
        "decay_updates": 0,
        "crop": 0,
        "dihedral": False,
    }

    def build(self, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        h = self.hyper
        shape = tuple(observation_space.shape)
        self.unet = h["arch"] == "unet"
        if self.unet:
            if len(shape) != 3 or shape[1] % 4 or shape[2] % 4:
                raise ValueError(f"arch='unet' needs images with sides divisible by 4, got {shape}")
            self.encoder: nn.Module = UNet(shape[0], action_space.shape[0], h["width"])
            self.decoder: nn.Module = nn.Identity()
        else:
            self.encoder = Encoder(shape, h["arch"], h["width"])
            bounded = bool(np.all(action_space.low == 0.0) and np.all(action_space.high == 1.0))
            self.decoder = Decoder(self.encoder.features, tuple(action_space.shape), bounded)
        self.encoder.to(self.device)
        self.decoder.to(self.device)
        self.masked_input = observation_space.shape[0] == 2 * action_space.shape[0]
        params = [*self.encoder.parameters(), *self.decoder.parameters()]
        self.opt = torch.optim.Adam(params, lr=h["learning_rate"])

    def modules(self) -> dict[str, nn.Module]:
        return {"encoder": self.encoder, "decoder": self.decoder}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.opt}

    def clean_encoder(self, trunk: bool = False, pool: int = 0) -> nn.Module | None:
        """The encoder, taking clean samples (of the action's shape) as input; ``trunk=True``
        stops before its last projection (for a CNN, the convolutions' feature maps, max-pooled
        over ``pool`` x ``pool`` windows at stride 2 when ``pool`` > 0). None for a U-Net."""
        if self.unet:
            return None
        encoder = self.encoder.trunk(pool) if trunk else self.encoder
        return CleanInput(encoder) if self.masked_input else encoder

    def set_learning_rate(self) -> None:
        """The cosine schedule's rate for the coming update (from the update count, so a
        resumed run continues where it stopped)."""
        horizon = self.hyper["decay_updates"]
        if horizon:
            progress = min(self.updates / horizon, 1.0)
            rate = 0.5 * self.hyper["learning_rate"] * (1.0 + math.cos(math.pi * progress))
            for group in self.opt.param_groups:
                group["lr"] = rate

    def act_batch(
        self, obs: Any, action_masks: np.ndarray | None = None, deterministic: bool = True
    ) -> np.ndarray:
        obs = np.asarray(obs)
        if self.unet and len(obs) > 64:  # whole images: in chunks, to bound the activations
            return np.concatenate([self.act_batch(obs[i : i + 64]) for i in range(0, len(obs), 64)])
        with torch.no_grad():
            out = self.decoder(self.encoder(self.tensor(obs)))
        low, high = self.action_space.low, self.action_space.high
        return np.clip(out.cpu().numpy(), low, high)

    def observe(
        self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, info: dict[str, Any]
    ) -> dict[str, float]:
        present = masked(info, "clean", len(obs))
        if not present.any():
            return {}
        x = self.tensor(obs[present])
        clean = self.tensor(np.asarray(info["clean"])[present])
        if x.dim() == 4 and self.hyper["crop"]:
            x, clean = crop_together([x, clean], self.hyper["crop"])
        if x.dim() == 4 and self.hyper["dihedral"]:
            x, clean = dihedral_together([x, clean])
        if x.dim() == 4 and self.hyper["augment"]:
            x, clean = shift_together([x, clean], self.hyper["augment"])
        if x.dim() == 4 and self.hyper["block"]:
            x = hide_block(x, self.hyper["block"])
        loss = nn.functional.mse_loss(self.decoder(self.encoder(x)), clean)
        self.set_learning_rate()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.updates += 1
        return {"losses/reconstruction": loss.item()}


def crop_together(batches: list[torch.Tensor], size: int) -> list[torch.Tensor]:
    """A random ``size`` x ``size`` window of each image, the same window for the image at the
    same place of every aligned batch (the whole images when they are not larger)."""
    count, height, width = len(batches[0]), *batches[0].shape[-2:]
    if size >= min(height, width):
        return batches
    offsets = torch.arange(size)
    rows = (torch.randint(0, height - size + 1, (count, 1)) + offsets)[:, :, None]
    cols = (torch.randint(0, width - size + 1, (count, 1)) + offsets)[:, None, :]
    index = torch.arange(count)[:, None, None]
    # (count, size, size, channels) from advanced indexing, back to channels first.
    return [images.permute(0, 2, 3, 1)[index, rows, cols].permute(0, 3, 1, 2) for images in batches]
