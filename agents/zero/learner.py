"""AlphaZero's learner: the network trained on replayed self-play positions.

Loss per position (every target from the side of the player to move):
``cross_entropy(search policy, network policy) + value_weight * (z - v)^2
+ ownership_weight * mean over points (o - o_hat)^2 + score_weight * huber(s - s_hat)``,
``z`` the game's result, ``o`` the final ownership and ``s`` the final margin over the number
of points (the last two only for games with territory). Each position is seen under a random
symmetry of the board (data augmentation). AdamW with a learning rate that can decay linearly
to a tenth over the run. With ``ema`` > 0 the learner also keeps an exponential moving average
of the weights (BatchNorm statistics included), the network it hands out as the trained
agent: the last ~1 / (1 - ema) steps averaged, so that their noise partly cancels (at
go_small's default budget it played no better than the newest weights: BENCHMARKS.md).
With ``precision`` bfloat16 (``compute_dtype``) the forward and backward passes run under
torch's autocast, the losses and the weights in float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from agents.zero.game import Positions, move_actions, transform_planes
from agents.zero.network import ZeroNet, compute_dtype
from agents.zero.replay import Samples


def augment(samples: Samples, positions: Positions, rng: np.random.Generator) -> Samples:
    """Each position under a random one of the game's symmetries."""
    codes = positions.symmetry_codes
    drawn = rng.integers(len(codes), size=len(samples))
    out = Samples(*(np.array(getattr(samples, f)) for f in Samples.__dataclass_fields__))
    for i, code in enumerate(codes):
        pick = np.flatnonzero(drawn == i)
        if code == 0 or len(pick) == 0:
            continue
        perm = positions.action_permutation(code)
        out.planes[pick] = transform_planes(samples.planes[pick], code)
        out.ownership[pick] = transform_planes(samples.ownership[pick], code)
        out.policy[pick] = move_actions(samples.policy[pick], perm)
        out.masks[pick] = move_actions(samples.masks[pick], perm)
    return out


class Learner:
    """Owns the network and its optimizer; :meth:`train_step` does one gradient step."""

    def __init__(
        self,
        net: ZeroNet,
        positions: Positions,
        settings: Any,  # agents.zero.config.ZeroConfig
        device: str,
        seed: int = 0,
    ) -> None:
        self.net = net.to(device)
        self.positions = positions
        self.settings = settings
        self.device = device
        self.dtype = compute_dtype(settings.precision, device)
        self.rng = np.random.default_rng(seed + 17)
        self.optimizer = torch.optim.AdamW(
            self.net.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
        )
        self.steps = 0
        self.average: torch.optim.swa_utils.AveragedModel | None = None
        if settings.ema > 0:
            self.average = torch.optim.swa_utils.AveragedModel(
                self.net, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(settings.ema),
                use_buffers=True,
            )  # fmt: skip

    @property
    def trained_net(self) -> ZeroNet:
        """The network to play with: the weights' moving average, or the newest weights."""
        return self.net if self.average is None else self.average.module

    def set_learning_rate(self, fraction_done: float) -> float:
        """The learning rate at this point of the run (linear decay to a tenth, or constant)."""
        lr = self.settings.learning_rate
        if self.settings.lr_schedule == "linear":
            lr *= 1.0 - 0.9 * min(max(fraction_done, 0.0), 1.0)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        return lr

    def _tensor(self, array: np.ndarray, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return torch.as_tensor(np.ascontiguousarray(array)).to(self.device, dtype)

    def train_step(self, batch: Samples) -> dict[str, float]:
        """One AdamW step on ``batch`` (augmented here); returns the losses."""
        settings = self.settings
        if settings.augment:
            batch = augment(batch, self.positions, self.rng)
        self.net.train()
        with torch.autocast(self.device.split(":")[0], self.dtype, self.dtype != torch.float32):
            out = self.net(self._tensor(batch.planes))
        out = {name: value.float() for name, value in out.items()}
        masks = self._tensor(batch.masks, torch.bool)
        log_policy = torch.log_softmax(out["logits"].masked_fill(~masks, -1e4), dim=-1)
        target = self._tensor(batch.policy)
        policy_loss = -(target * log_policy).sum(-1).mean()
        value_loss = F.mse_loss(out["value"], self._tensor(batch.value))
        loss = policy_loss + settings.value_weight * value_loss
        losses = {"policy_loss": policy_loss, "value_loss": value_loss}
        if self.positions.has_ownership:
            losses["ownership_loss"] = F.mse_loss(out["ownership"], self._tensor(batch.ownership))
            losses["score_loss"] = F.smooth_l1_loss(out["score"], self._tensor(batch.score))
            loss = loss + settings.ownership_weight * losses["ownership_loss"]
            loss = loss + settings.score_weight * losses["score_loss"]
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        if self.average is not None:
            self.average.update_parameters(self.net)
        self.steps += 1
        with torch.no_grad():
            entropy = -(log_policy.exp() * log_policy).sum(-1).mean()
            target_entropy = -(target * torch.log(target.clamp_min(1e-12))).sum(-1).mean()
        metrics = {name: float(value.detach()) for name, value in losses.items()}
        metrics["policy_entropy"] = float(entropy)
        metrics["target_entropy"] = float(target_entropy)
        return metrics

    def state(self) -> dict[str, Any]:
        """Weights (the newest and their average), optimizer state and step count, for a
        checkpoint."""
        state = {
            "net": self.net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "steps": self.steps,
            "rng": self.rng.bit_generator.state,
        }
        if self.average is not None:
            state["average"] = self.average.state_dict()
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state`'s output (an average missing from it, as in a
        checkpoint of a run without ``ema``, starts again from the newest weights)."""
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps = int(state["steps"])
        self.rng.bit_generator.state = state["rng"]
        if self.average is not None:
            if "average" in state:
                self.average.load_state_dict(state["average"])
            else:
                self.average.module.load_state_dict(self.net.state_dict())
                self.average.n_averaged.fill_(1)
