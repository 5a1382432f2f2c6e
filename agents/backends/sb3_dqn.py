"""SB3's DQN with the two options rl-agents' and RLlib's DQN have and SB3's lacks.

- Double Q-learning (van Hasselt et al. 2016, ``algo.double_q``): the target of a transition is
  the target network's value of the action the *online* network prefers in the next state, not
  the target network's maximum, whose upward bias favours the actions it overrates.
- A dueling head (Wang et al. 2016, ``algo.dueling``): Q(s, a) = V(s) + A(s, a) - mean_a A(s, a),
  the state's value learned apart from the actions' advantages.

Both are off by default; SB3's plain DQN is what ``algo.name=dqn`` trains without them, and
backend=rllib maps the same two knobs to RLlib's ``double_q`` and ``dueling``.
"""

from __future__ import annotations

from typing import Any

import stable_baselines3 as sb3
import torch
from stable_baselines3.common.torch_layers import create_mlp
from stable_baselines3.dqn.policies import CnnPolicy, DQNPolicy, MultiInputPolicy, QNetwork
from torch import nn


class DuelingHead(nn.Module):
    """Q = V + A - mean(A) from one hidden vector: two linear layers, value and advantage."""

    def __init__(self, hidden: int, actions: int) -> None:
        super().__init__()
        self.value = nn.Linear(hidden, 1)
        self.advantage = nn.Linear(hidden, actions)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        advantage = self.advantage(x)
        return self.value(x) + advantage - advantage.mean(dim=1, keepdim=True)


class DuelingQNetwork(QNetwork):
    """SB3's Q-network with its last linear layer replaced by a :class:`DuelingHead`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        trunk = create_mlp(self.features_dim, 0, self.net_arch, self.activation_fn)
        hidden = self.net_arch[-1] if self.net_arch else self.features_dim
        self.q_net = nn.Sequential(*trunk, DuelingHead(hidden, int(self.action_space.n)))


class DuelingOption:
    """Mixed into SB3's DQN policies: ``dueling=True`` (a ``policy_kwargs`` entry) builds the
    Q-network with a dueling head."""

    def __init__(self, *args: Any, dueling: bool = False, **kwargs: Any) -> None:
        self.dueling = dueling  # read by make_q_net, which the policy's constructor calls
        super().__init__(*args, **kwargs)

    def make_q_net(self) -> QNetwork:
        if not self.dueling:
            return super().make_q_net()
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return DuelingQNetwork(**net_args).to(self.device)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return {**super()._get_constructor_parameters(), "dueling": self.dueling}


class QPolicy(DuelingOption, DQNPolicy):
    pass


class CnnQPolicy(DuelingOption, CnnPolicy):
    pass


class MultiInputQPolicy(DuelingOption, MultiInputPolicy):
    pass


class _DoubleTarget:
    """Stands in for the target network inside SB3's ``DQN.train``, which bootstraps from
    ``q_net_target(next_obs).max(dim=1)``: every column holds the Double DQN value (the target
    network's value of the online network's greedy action), so that maximum is it."""

    def __init__(self, online: nn.Module, target: nn.Module) -> None:
        self.online, self.target = online, target

    def __call__(self, next_obs: Any) -> torch.Tensor:
        q_target = self.target(next_obs)
        greedy = self.online(next_obs).argmax(dim=1, keepdim=True)
        return q_target.gather(1, greedy).expand_as(q_target)


class DQN(sb3.DQN):
    """SB3's DQN; ``double_q`` (an attribute, saved with the model) switches its targets to
    Double DQN's, and its policies take ``dueling`` in ``policy_kwargs``."""

    policy_aliases = {
        "MlpPolicy": QPolicy,
        "CnnPolicy": CnnQPolicy,
        "MultiInputPolicy": MultiInputQPolicy,
    }
    double_q = False

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        if not self.double_q:
            super().train(gradient_steps, batch_size)
            return
        target = self.q_net_target
        self.q_net_target = _DoubleTarget(self.q_net, target)
        try:
            super().train(gradient_steps, batch_size)
        finally:
            self.q_net_target = target
