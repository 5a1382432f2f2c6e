"""Small networks and image augmentations shared by the paradigm learners.

An **encoder** maps an observation batch to a feature vector: a two-layer CNN for image
observations (C, H, W), an MLP for flat ones (D,). Heads and decoders sit on top. Everything
is sized from the observation shape, so one learner class serves digits, MNIST and tables.
"""

from __future__ import annotations

import math

import torch
from torch import nn

ARCHITECTURES = ("auto", "cnn", "mlp", "linear")


class Encoder(nn.Module):
    """Observation -> features: CNN (32, 64 channels, 2x2 pooling) or MLP, ReLU throughout;
    "linear" passes the observation through flattened (a head on it is a linear model)."""

    def __init__(self, obs_shape: tuple[int, ...], arch: str = "auto", width: int = 128) -> None:
        super().__init__()
        if arch not in ARCHITECTURES:
            raise ValueError(f"arch must be one of {ARCHITECTURES}, got {arch!r}")
        image = len(obs_shape) == 3
        if arch == "cnn" and not image:
            raise ValueError(f"arch='cnn' needs image observations (C, H, W), got {obs_shape}")
        self.arch = arch if arch != "auto" else ("cnn" if image else "mlp")
        self.obs_shape = tuple(obs_shape)
        self.features = width
        if self.arch == "linear":
            self.body: nn.Module = nn.Flatten()
            self.features = math.prod(obs_shape)
        elif self.arch == "cnn":
            channels, height, width_px = obs_shape
            self.body = nn.Sequential(
                nn.Conv2d(channels, 32, 3, padding=1),
                nn.ReLU(),
                nn.Conv2d(32, 64, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Flatten(),
                nn.Linear(64 * (height // 2) * (width_px // 2), width),
                nn.ReLU(),
            )
        else:
            inputs = math.prod(obs_shape)
            self.body = nn.Sequential(
                nn.Flatten(),
                nn.Linear(inputs, width),
                nn.ReLU(),
                nn.Linear(width, width),
                nn.ReLU(),
            )

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.body(obs)

    def trunk(self, pool: int = 0) -> nn.Module:
        """The layers before the last projection (CNN: the convolutions' output, flattened),
        with a ``features`` attribute; a wider view than the code, for linear probes.

        ``pool`` > 0 (CNN only): max-pool the feature maps over ``pool`` x ``pool`` windows at
        stride 2 first, so each feature tolerates a small shift of the digit.
        """
        if self.arch == "cnn":
            pooling = [nn.MaxPool2d(pool, 2, pool // 2)] if pool > 0 else []
            layers = nn.Sequential(*list(self.body)[:4], *pooling, nn.Flatten())
            sample = torch.zeros(1, *self.obs_shape)
            layers.features = int(layers(sample).shape[1])
            return layers
        return self


class Decoder(nn.Module):
    """Features -> a sample of ``out_shape`` (sigmoid output for [0, 1] images)."""

    def __init__(self, features: int, out_shape: tuple[int, ...], bounded: bool) -> None:
        super().__init__()
        self.out_shape = out_shape
        layers: list[nn.Module] = [
            nn.Linear(features, 256),
            nn.ReLU(),
            nn.Linear(256, math.prod(out_shape)),
        ]
        if bounded:
            layers.append(nn.Sigmoid())
        self.body = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.body(features).view(-1, *self.out_shape)


def _double_conv(inputs: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inputs, outputs, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(outputs, outputs, 3, padding=1),
        nn.ReLU(),
    )


class UNet(nn.Module):
    """A small U-Net (Ronneberger et al. 2015) for image-to-image maps, as a residual denoiser.

    Two poolings down (``width``, 2x, 4x channels, two 3x3 convolutions per level), transposed
    convolutions up with the skip connections concatenated, a 1x1 convolution out. The network
    predicts the correction to its input, so it starts near the identity (the input's first
    ``out_channels`` channels) and learns what the noise is, as DnCNN does. Height and width
    must be divisible by 4.
    """

    def __init__(self, in_channels: int, out_channels: int, width: int = 32) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.features = 4 * width
        self.down1 = _double_conv(in_channels, width)
        self.down2 = _double_conv(width, 2 * width)
        self.bottom = _double_conv(2 * width, 4 * width)
        self.up2 = nn.ConvTranspose2d(4 * width, 2 * width, 2, stride=2)
        self.merge2 = _double_conv(4 * width, 2 * width)
        self.up1 = nn.ConvTranspose2d(2 * width, width, 2, stride=2)
        self.merge1 = _double_conv(2 * width, width)
        self.out = nn.Conv2d(width, out_channels, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        first = self.down1(images)
        second = self.down2(nn.functional.max_pool2d(first, 2))
        bottom = self.bottom(nn.functional.max_pool2d(second, 2))
        second = self.merge2(torch.cat([self.up2(bottom), second], dim=1))
        first = self.merge1(torch.cat([self.up1(second), first], dim=1))
        return images[:, : self.out_channels] + self.out(first)


def dihedral_together(batches: list[torch.Tensor]) -> list[torch.Tensor]:
    """Apply one of the square's 8 symmetries (rotations by 90 degrees, with or without a
    mirror), the same to aligned batches; one symmetry per call."""
    turns, mirror = int(torch.randint(0, 4, ())), bool(torch.randint(0, 2, ()))
    out = []
    for images in batches:
        images = torch.rot90(images, turns, dims=(-2, -1))
        out.append(torch.flip(images, dims=(-1,)) if mirror else images)
    return out


def shift(images: torch.Tensor, max_shift: int) -> torch.Tensor:
    """Move each image by up to ``max_shift`` pixels in each direction (zeros fill the edge)."""
    return shift_together([images], max_shift)[0]


def shift_together(batches: list[torch.Tensor], max_shift: int) -> list[torch.Tensor]:
    """Shift aligned image batches (an input and its target, say) by the same random offsets."""
    if max_shift <= 0:
        return batches
    size = 2 * max_shift + 1
    height, width = batches[0].shape[-2:]
    choice = torch.randint(0, size * size, (len(batches[0]),))
    shifted = []
    for images in batches:
        padded = nn.functional.pad(images, (max_shift,) * 4)
        out = torch.empty_like(images)
        # One slice per distinct offset: at most size**2 tensor ops, whatever the batch size.
        for value in torch.unique(choice).tolist():
            rows, cols = divmod(value, size)
            chosen = choice == value
            out[chosen] = padded[chosen, :, rows : rows + height, cols : cols + width]
        shifted.append(out)
    return shifted


def strong_augment(images: torch.Tensor, noise: float = 0.1) -> torch.Tensor:
    """A larger shift, a 3x3 hole at a random place, and Gaussian noise (clipped to [0, 1])."""
    images = hide_block(shift(images, 2), 3)
    return (images + noise * torch.randn_like(images)).clamp(0.0, 1.0)


def hide_block(images: torch.Tensor, size: int) -> torch.Tensor:
    """Zero a ``size`` x ``size`` square of each image, centred on a random pixel (so it may
    hang over the edge); ``size`` 0 leaves the images as they are."""
    if size <= 0:
        return images
    height, width = images.shape[-2:]
    rows = torch.arange(height)[None] - torch.randint(0, height, (len(images), 1))
    cols = torch.arange(width)[None] - torch.randint(0, width, (len(images), 1))
    low, high = -(size // 2), size - 1 - size // 2

    def inside(offsets: torch.Tensor) -> torch.Tensor:
        return (offsets >= low) & (offsets <= high)

    hole = inside(rows)[:, :, None] & inside(cols)[:, None, :]
    return images * (~hole[:, None]).to(images.dtype)


def weak_augment(obs: torch.Tensor, image: bool) -> torch.Tensor:
    """A light perturbation: a one-pixel shift for images, small noise for flat features."""
    return shift(obs, 1) if image else obs + 0.05 * torch.randn_like(obs)


def strong_view(obs: torch.Tensor, image: bool) -> torch.Tensor:
    """A heavy perturbation: :func:`strong_augment` for images; noise and dropped features
    (set to 0, the train mean after standardising) for flat ones."""
    if image:
        return strong_augment(obs)
    keep = (torch.rand_like(obs) > 0.2).to(obs.dtype)
    return (obs + 0.2 * torch.randn_like(obs)) * keep


def is_image(obs_shape: tuple[int, ...]) -> bool:
    """Whether observations are (C, H, W) images (augmentations apply only to those)."""
    return len(obs_shape) == 3


class AveragedCopy:
    """An exponential moving average of a module's weights (Polyak averaging), for acting.

    Averaging the last few hundred updates smooths the noise of small-batch training; the
    averaged copy acts at evaluation time while the live module keeps learning.
    """

    def __init__(self, module: nn.Module, decay: float) -> None:
        import copy

        self.decay = decay
        self.module = copy.deepcopy(module).requires_grad_(False)
        self.module.eval()

    @torch.no_grad()
    def update(self, live: nn.Module) -> None:
        """Move the average towards the live weights."""
        for average, current in zip(self.module.parameters(), live.parameters(), strict=True):
            average.lerp_(current, 1.0 - self.decay)
        for average, current in zip(self.module.buffers(), live.buffers(), strict=True):
            average.copy_(current)
