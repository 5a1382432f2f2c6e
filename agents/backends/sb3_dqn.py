"""SB3's DQN with the two options rl-agents' and RLlib's DQN have and SB3's lacks.

- Double Q-learning (van Hasselt et al. 2016, ``algo.double_q``): the target of a transition is
  the target network's value of the action the *online* network prefers in the next state, not
  the target network's maximum, whose upward bias favours the actions it overrates.
- A dueling head (Wang et al. 2016, ``algo.dueling``): Q(s, a) = V(s) + A(s, a) - mean_a A(s, a),
  the state's value learned apart from the actions' advantages.

Both are off by default; SB3's plain DQN is what ``algo.name=dqn`` trains without them, and
backend=rllib maps the same two knobs to RLlib's ``double_q`` and ``dueling``.

And one neither has: greedy actions from averaged weights (``algo.average_steps``, Polyak
averaging; as stochastic weight averaging does for deep RL, Nikishin et al. 2018). The policy keeps
an exponential moving average of the online Q-network's weights over about that many gradient
steps; exploration acts from the online weights, every greedy action (evaluation, validation,
``play``) from the average, which is saved with the model. SB3 only.
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


class QNetworkOptions:
    """Mixed into SB3's DQN policies: ``dueling=True`` (a ``policy_kwargs`` entry) builds the
    Q-network with a dueling head; ``average_steps=H`` keeps ``q_net_average``, a moving
    average of the Q-network's weights over about ``H`` gradient steps, which greedy actions
    use."""

    def __init__(
        self, *args: Any, dueling: bool = False, average_steps: int = 0, **kwargs: Any
    ) -> None:
        # read by make_q_net and _build, which the policy's constructor calls
        self.dueling, self.average_steps = dueling, average_steps
        super().__init__(*args, **kwargs)

    def make_q_net(self) -> QNetwork:
        if not self.dueling:
            return super().make_q_net()
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return DuelingQNetwork(**net_args).to(self.device)

    def _build(self, lr_schedule: Any) -> None:
        super()._build(lr_schedule)  # the optimizer holds the online network's weights only
        if self.average_steps:
            self.q_net_average = self.make_q_net()
            self.q_net_average.load_state_dict(self.q_net.state_dict())
            self.q_net_average.set_training_mode(False)
            self.q_net_average.requires_grad_(False)
            # gradient steps averaged so far: saved with the weights, so a resumed run goes on
            self.register_buffer("average_updates", torch.zeros((), dtype=torch.long))

    @property
    def greedy_net(self) -> QNetwork:
        """The Q-network greedy actions come from: the average when there is one."""
        return self.q_net_average if self.average_steps else self.q_net

    @torch.no_grad()
    def update_average(self, gradient_steps: int) -> None:
        """Fold the online weights into the average after ``gradient_steps`` gradient steps:
        the plain mean of every step's weights over the first ``H`` steps (so the random
        initial weights fade), then an exponential average with decay ``1 - 1/H`` per step."""
        for _ in range(gradient_steps):
            self.average_updates += 1
            rate = max(1.0 / self.average_steps, 1.0 / float(self.average_updates))
            for average, online in zip(
                self.q_net_average.parameters(), self.q_net.parameters(), strict=True
            ):
                average.lerp_(online, rate)

    def _predict(self, obs: Any, deterministic: bool = True) -> torch.Tensor:
        if deterministic and self.average_steps:
            return self.q_net_average._predict(obs, deterministic=True)
        return super()._predict(obs, deterministic)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        parameters = {**super()._get_constructor_parameters(), "dueling": self.dueling}
        return {**parameters, "average_steps": self.average_steps}


class QPolicy(QNetworkOptions, DQNPolicy):
    pass


class CnnQPolicy(QNetworkOptions, CnnPolicy):
    pass


class MultiInputQPolicy(QNetworkOptions, MultiInputPolicy):
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
        else:
            target = self.q_net_target
            self.q_net_target = _DoubleTarget(self.q_net, target)
            try:
                super().train(gradient_steps, batch_size)
            finally:
                self.q_net_target = target
        if self.policy.average_steps:
            self.policy.update_average(gradient_steps)
