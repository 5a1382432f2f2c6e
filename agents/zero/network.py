"""AlphaZero's network: a residual CNN with policy, value, ownership and score heads.

Input: the game's planes (C, H, W). Trunk: a 3x3 convolution, then ``blocks`` residual blocks
of two 3x3 convolutions with batch norm. Heads:

- policy: a 1x1 convolution to 2 planes, then a linear layer to one logit per action;
- value: a 1x1 convolution to 2 planes, a hidden layer, then tanh: the expected result for the
  player to move (+1 win, -1 loss);
- ownership (games with territory, KataGo's auxiliary target): a 1x1 convolution to one plane,
  tanh: who owns each point at the end (+1 the player to move, -1 the opponent);
- score: from the value head's hidden layer, the final score margin for the player to move,
  divided by the number of points.

The auxiliary heads give the trunk a dense signal (one target per point, a margin rather than
a bit) where the game result alone is one noisy bit per game (Wu 2019, "Accelerating
Self-Play Learning in Go"). For search, :func:`make_evaluate` runs a copy with batch norm folded
into the convolutions, under ``torch.inference_mode``, in float32 or (``zero.precision``,
:func:`compute_dtype`) bfloat16.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


@dataclass
class NetworkShape:
    """What the network is built from (saved with its weights)."""

    planes: int
    height: int
    width: int
    num_actions: int
    channels: int = 32
    blocks: int = 4
    value_hidden: int = 64
    ownership: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Plain values for a checkpoint."""
        return asdict(self)


def _conv_bn(cin: int, cout: int, kernel: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(cout)
    )


class _Block(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.first = _conv_bn(channels, channels, 3)
        self.second = _conv_bn(channels, channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.second(torch.relu(self.first(x))))


class ZeroNet(nn.Module):
    """Policy, value, ownership and score from board planes (see the module docstring)."""

    def __init__(self, shape: NetworkShape) -> None:
        super().__init__()
        self.shape = shape
        c, points = shape.channels, shape.height * shape.width
        self.stem = _conv_bn(shape.planes, c, 3)
        self.blocks = nn.Sequential(*[_Block(c) for _ in range(shape.blocks)])
        self.policy_conv = _conv_bn(c, 2, 1)
        self.policy_fc = nn.Linear(2 * points, shape.num_actions)
        self.value_conv = _conv_bn(c, 2, 1)
        self.value_fc = nn.Linear(2 * points, shape.value_hidden)
        self.value_out = nn.Linear(shape.value_hidden, 2)  # value, score
        self.ownership_conv = nn.Conv2d(c, 1, 1) if shape.ownership else None

    def forward(self, planes: torch.Tensor) -> dict[str, torch.Tensor]:
        """``logits`` (B, A), ``value`` (B,) in [-1, 1], ``score`` (B,), and ``ownership``
        (B, H, W) in [-1, 1] when the network has that head."""
        x = self.blocks(torch.relu(self.stem(planes)))
        logits = self.policy_fc(torch.relu(self.policy_conv(x)).flatten(1))
        hidden = torch.relu(self.value_fc(torch.relu(self.value_conv(x)).flatten(1)))
        value_score = self.value_out(hidden)
        out = {"logits": logits, "value": torch.tanh(value_score[:, 0]), "score": value_score[:, 1]}
        if self.ownership_conv is not None:
            out["ownership"] = torch.tanh(self.ownership_conv(x)[:, 0])
        return out

    def fused(self) -> ZeroNet:
        """An inference copy (eval mode) with every batch norm folded into its convolution."""
        net = copy.deepcopy(self).eval()
        for module in net.modules():
            if isinstance(module, nn.Sequential) and len(module) == 2:
                conv, bn = module[0], module[1]
                if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                    module[0] = fuse_conv_bn_eval(conv, bn)
                    module[1] = nn.Identity()
        return net


def compute_dtype(precision: str, device: str) -> torch.dtype:
    """The number format for ``zero.precision`` on ``device``: 'auto' is bfloat16 on a CPU
    whose oneDNN has native bfloat16 (AVX-512 BF16 or AMX: about twice the positions per
    second of float32 for self-play's batches and ~1.7x the learner's steps), float32 elsewhere
    (emulated bfloat16 is slower; GPUs keep float32 until measured)."""
    if precision == "float32":
        return torch.float32
    if precision == "bfloat16":
        return torch.bfloat16
    if precision != "auto":
        raise ValueError(f"zero.precision: {precision!r} is not auto, float32 or bfloat16")
    if device != "cpu" or not torch.backends.mkldnn.is_available():
        return torch.float32
    try:  # oneDNN's own check (private in torch 2.13): AVX-512 BF16, AMX or an ARM equivalent
        native = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch without it: do not guess
        native = False
    return torch.bfloat16 if native else torch.float32


def make_evaluate(
    net: ZeroNet,
    device: str = "cpu",
    compiled: bool = False,
    score_utility: float = 0.0,
    score_scale: float = 10.0,
    dtype: torch.dtype = torch.float32,
) -> Any:
    """``(planes, masks) -> (log priors, values)`` for the search, on an inference copy of
    ``net`` (later training does not change it: call again for newer weights).

    ``score_utility`` > 0 mixes the score head into the values, KataGo's score utility:
    ``(1 - w) * value + w * tanh(margin / score_scale)`` with the margin in points, so that
    among moves that all win (or all lose) by the value head the search prefers the larger
    margin.

    ``compiled`` (for self-play's large batches on a CPU) traces the copy with TorchScript,
    freezes it and lets ``optimize_for_inference`` fuse it for oneDNN: about twice the
    positions per second at batch 128 here, for ~0.25 s of compiling; on one position at a
    time the plain copy is faster.

    ``dtype`` bfloat16 (self-play's large batches, :func:`compute_dtype`) runs the copy in
    bfloat16; priors and values come back in float32 (against float32 on a trained 7x7
    network: values within 0.002 on average, the same best move in 99% of positions).
    """
    frozen = net.fused().to(device=device, dtype=dtype)
    if compiled and device == "cpu":
        sample = torch.zeros((8, net.shape.planes, net.shape.height, net.shape.width), dtype=dtype)
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            frozen = torch.jit.optimize_for_inference(
                torch.jit.freeze(torch.jit.trace(frozen, sample, strict=False))
            )

    points = net.shape.height * net.shape.width  # the score head predicts margin / points

    def evaluate(planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(planes, dtype=np.float32))
            out = frozen(x.to(device=device, dtype=dtype))
            mask = torch.from_numpy(np.asarray(masks, dtype=np.bool_)).to(device)
            logits = out["logits"].float().masked_fill(~mask, -torch.inf)
            logits = torch.log_softmax(logits, dim=-1)
            value = out["value"].float()
            if score_utility > 0:
                margin = torch.tanh(out["score"].float() * (points / score_scale))
                value = (1 - score_utility) * value + score_utility * margin
            return logits.cpu().numpy(), value.cpu().numpy()

    return evaluate
