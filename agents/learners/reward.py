"""Reward-only learning: a policy gradient with a learned baseline, never reading labels."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from agents.learners.base import Learner
from agents.learners.nets import AveragedCopy, Encoder
from agents.learners.supervised import ReplayBuffer


class PolicyNet(nn.Module):
    """An encoder with a policy head (logits, or a Gaussian mean) and a value head."""

    def __init__(self, encoder: Encoder, outputs: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.policy = nn.Linear(encoder.features, outputs)
        self.value = nn.Linear(encoder.features, 1)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.encoder(obs)
        return self.policy(features), self.value(features).squeeze(-1)


class PolicyGradientLearner(Learner):
    """REINFORCE with a learned baseline, from the reward alone (``info`` is read only for
    ``info["feedback"]``, which says whether a reward was a real signal).

    Discrete actions: a softmax policy; the loss on each step with feedback is
    ``-(r - V(x)) log pi(a|x)`` plus a value regression, minus ``ent_coef`` times the policy's
    entropy and ``marginal_coef`` times the entropy of the batch's mean policy (so no action is
    abandoned everywhere early on). Two replayed terms reuse past rewards: self-imitation
    (``sil_coef``, Oh et al. 2018: raise ``log pi(a|x)`` for past actions that beat the
    baseline, weighted by ``(r - V(x))+``) and avoidance (``avoid_coef``: lower
    ``pi(a|x)`` through ``-log(1 - pi(a|x))`` for actions that did worse than the baseline).

    Box actions (regression): a Gaussian policy with a learned, state-independent log std;
    advantages normalised per batch.

    Hyperparameters: ``arch``, ``width``, ``learning_rate`` (3e-3), ``ent_coef`` (0.05),
    ``marginal_coef`` (1.0), ``sil_coef`` (1.0), ``avoid_coef`` (1.0), ``memory`` (20000),
    ``decay_steps`` (env steps over which the learning rate falls linearly to 0; 0: constant),
    ``average`` (Polyak decay of the acting copy, 0.99; 0: act with the live weights),
    ``init_std`` (0.5, Gaussian policies).
    """

    paradigm = "reward-only"
    uses = "reward"
    DEFAULTS: dict[str, Any] = {
        "arch": "auto", "width": 128, "learning_rate": 3e-3, "ent_coef": 0.05,
        "marginal_coef": 1.0, "sil_coef": 1.0, "avoid_coef": 1.0, "memory": 20_000,
        "decay_steps": 0, "average": 0.99, "init_std": 0.5,
    }  # fmt: skip

    def build(self, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        h = self.hyper
        self.discrete = isinstance(action_space, spaces.Discrete)
        outputs = int(action_space.n) if self.discrete else int(np.prod(action_space.shape))
        encoder = Encoder(tuple(observation_space.shape), h["arch"], h["width"])
        self.net = PolicyNet(encoder, outputs).to(self.device)
        self.log_std = nn.Parameter(torch.full((outputs,), math.log(h["init_std"])))
        self.opt = torch.optim.Adam([*self.net.parameters(), self.log_std], lr=h["learning_rate"])
        self.average = AveragedCopy(self.net, h["average"]) if h["average"] > 0 else None
        self.good = ReplayBuffer(h["memory"])  # past actions that beat the baseline
        self.seen = 0

    def modules(self) -> dict[str, nn.Module]:
        modules: dict[str, nn.Module] = {"net": self.net}
        if self.average is not None:
            modules["average"] = self.average.module
        return modules

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.opt}

    def extra_state(self) -> dict[str, Any]:
        return {
            "log_std": self.log_std.detach().clone(),
            "good": self.good.state(),
            "seen": self.seen,
        }

    def load_extra_state(self, state: dict[str, Any]) -> None:
        with torch.no_grad():
            self.log_std.copy_(state["log_std"])
        self.good.load(state["good"])
        self.seen = state["seen"]

    def act_batch(
        self, obs: Any, action_masks: np.ndarray | None = None, deterministic: bool = True
    ) -> np.ndarray:
        net = self.average.module if deterministic and self.average is not None else self.net
        with torch.no_grad():
            out, _ = net(self.tensor(obs))
            if self.discrete:
                if deterministic:
                    return out.argmax(dim=1).cpu().numpy()
                probs = torch.softmax(out, dim=1)
                return (
                    torch.multinomial(probs, 1, generator=self.generator).squeeze(1).cpu().numpy()
                )
            if not deterministic:
                noise = torch.randn(out.shape, generator=self.generator)
                out = out + noise * self.log_std.exp()
        low, high = self.action_space.low, self.action_space.high
        return np.clip(out.cpu().numpy(), low, high).reshape(-1, *self.action_space.shape)

    def scores(self, obs: Any) -> np.ndarray:
        """Probability of the last action (for Discrete(2) envs: of flagging)."""
        net = self.average.module if self.average is not None else self.net
        with torch.no_grad():
            out, _ = net(self.tensor(obs))
        return torch.softmax(out, dim=1)[:, -1].cpu().numpy()

    def observe(
        self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, info: dict[str, Any]
    ) -> dict[str, float]:
        self.seen += len(obs)
        self._decay()
        feedback = torch.as_tensor(np.asarray(info.get("feedback", np.ones(len(obs), bool))))
        x = self.tensor(obs)
        r = torch.as_tensor(rewards, dtype=torch.float32, device=self.device)
        a = torch.as_tensor(actions, device=self.device)
        out, value = self.net(x)
        if self.discrete:
            loss, metrics = self._discrete_loss(x, a.long(), r, out, value, feedback)
        else:
            loss, metrics = self._gaussian_loss(a.float().view(len(a), -1), r, out, value, feedback)
        self.opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_([*self.net.parameters(), self.log_std], 5.0)
        self.opt.step()
        self.updates += 1
        if self.average is not None:
            self.average.update(self.net)
        return metrics

    def _decay(self) -> None:
        steps = self.hyper["decay_steps"]
        if steps:
            scale = max(0.0, 1.0 - self.seen / steps)
            for group in self.opt.param_groups:
                group["lr"] = self.hyper["learning_rate"] * scale

    def _discrete_loss(
        self,
        x: torch.Tensor,
        a: torch.Tensor,
        r: torch.Tensor,
        logits: torch.Tensor,
        value: torch.Tensor,
        feedback: torch.Tensor,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        h = self.hyper
        log_probs = torch.log_softmax(logits, dim=1)
        probs = log_probs.exp()
        entropy = -(probs * log_probs).sum(dim=1).mean()
        mean_policy = probs.mean(dim=0)
        marginal_entropy = -(mean_policy * torch.log(mean_policy + 1e-8)).sum()
        loss = -h["ent_coef"] * entropy - h["marginal_coef"] * marginal_entropy
        metrics = {"losses/entropy": entropy.item()}
        if feedback.any():
            fb = feedback
            chosen = log_probs[fb].gather(1, a[fb, None]).squeeze(1)
            advantage = (r[fb] - value[fb]).detach()
            loss = loss - (advantage * chosen).mean() + 0.5 * ((r[fb] - value[fb]) ** 2).mean()
            if h["avoid_coef"]:
                worse = (advantage < 0).float()
                avoid = -(worse * torch.log((1 - chosen.exp()).clamp(min=1e-6))).mean()
                loss = loss + h["avoid_coef"] * avoid
            better = advantage > 0
            self.good.add(
                obs=x[fb][better].cpu(), action=a[fb][better].cpu(), reward=r[fb][better].cpu()
            )
            metrics["losses/policy_gradient"] = -(advantage * chosen).mean().item()
        if h["sil_coef"] and self.good.size:
            loss = loss + h["sil_coef"] * self._self_imitation(len(x))
        return loss, metrics

    def _self_imitation(self, count: int) -> torch.Tensor:
        past = self.good.sample(count, self.generator)
        logits, value = self.net(past["obs"].to(self.device))
        chosen = torch.log_softmax(logits, dim=1).gather(1, past["action"][:, None].to(self.device))
        gap = (past["reward"].to(self.device) - value).clamp(min=0)
        return -(gap.detach() * chosen.squeeze(1)).mean() + 0.5 * (gap**2).mean()

    def _gaussian_loss(
        self,
        a: torch.Tensor,
        r: torch.Tensor,
        mean: torch.Tensor,
        value: torch.Tensor,
        feedback: torch.Tensor,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        if not feedback.any():
            return (mean.sum() * 0.0), {}
        fb = feedback
        std = self.log_std.exp()
        log_prob = (-0.5 * ((a[fb] - mean[fb]) / std) ** 2 - self.log_std).sum(dim=1)
        advantage = (r[fb] - value[fb]).detach()
        advantage = advantage / (advantage.std() + 1e-8) if len(advantage) > 1 else advantage
        loss = -(advantage * log_prob).mean() + 0.5 * ((r[fb] - value[fb]) ** 2).mean()
        return loss, {"losses/policy_gradient": loss.item(), "charts/policy_std": std.mean().item()}
