"""A small residual CNN for board games, and the policy-value view of an SB3 policy.

:class:`BoardTrunk` is an SB3 features extractor over channels-first planes ``(C, H, W)``:
a 3x3 stem, ``blocks`` residual blocks, then a 1x1 convolution down to ``head_channels``
planes, flattened. SB3's actor-critic policy puts its policy head (a linear layer to one logit
per action) and its value head (a small MLP to one number) on top, so the same network
serves the learner and the tree search (:func:`sb3_policy_value`).

:class:`EgoAttention` is an SB3 features extractor over a list of vehicles (highway-env's
kinematics rows, the car itself first): the car attends to the vehicles present, as in
rl-agents' ego-attention network (Leurent & Mercat 2019).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with a skip connection."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.conv2(torch.relu(self.conv1(x))))


class BoardTrunk(BaseFeaturesExtractor):
    """Residual CNN trunk over board planes; outputs ``head_channels * H * W`` features."""

    def __init__(
        self, observation_space: Any, channels: int = 32, blocks: int = 2, head_channels: int = 4
    ) -> None:
        planes, height, width = observation_space.shape
        super().__init__(observation_space, features_dim=head_channels * height * width)
        self.net = nn.Sequential(
            nn.Conv2d(planes, channels, 3, padding=1),
            nn.ReLU(),
            *[ResidualBlock(channels) for _ in range(blocks)],
            nn.Conv2d(channels, head_channels, 1),
            nn.ReLU(),
            nn.Flatten(),
        )

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.net(observations)


class EgoAttention(BaseFeaturesExtractor):
    """Ego-attention over ``(vehicles, features)`` rows whose first column is presence and
    whose first row is the car itself; outputs ``embed_dim`` features.

    Every row goes through one shared embedding MLP; the car's embedding queries all present
    rows (itself included, absent rows masked out) with ``heads``-head attention; the result is
    averaged with the car's own embedding. The output does not depend on the order of the
    other vehicles or on how many are absent.
    """

    def __init__(self, observation_space: Any, embed_dim: int = 64, heads: int = 2) -> None:
        if len(observation_space.shape) != 2:
            raise ValueError(
                f"EgoAttention needs (vehicles, features) observations, got shape "
                f"{observation_space.shape}"
            )
        super().__init__(observation_space, features_dim=embed_dim)
        columns = observation_space.shape[1]
        self.embed = nn.Sequential(
            nn.Linear(columns, embed_dim), nn.ReLU(), nn.Linear(embed_dim, embed_dim), nn.ReLU()
        )
        self.attention = nn.MultiheadAttention(embed_dim, heads, batch_first=True)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        tokens = self.embed(observations)
        absent = observations[..., 0] < 0.5
        absent[:, 0] = False  # the car itself is always there
        ego = tokens[:, :1]
        attended, _ = self.attention(ego, tokens, tokens, key_padding_mask=absent)
        return (attended[:, 0] + ego[:, 0]) / 2


def board_policy_kwargs(channels: int, blocks: int, value_hidden: int = 64) -> dict[str, Any]:
    """SB3 ``policy_kwargs`` for a board network with a linear policy head and an MLP value."""
    return {
        "features_extractor_class": BoardTrunk,
        "features_extractor_kwargs": {"channels": channels, "blocks": blocks},
        "net_arch": {"pi": [], "vf": [value_hidden]},
    }


def sb3_policy_value(policy: Any) -> Any:
    """``(obs, masks) -> (priors, values)`` for MCTS from an SB3 actor-critic policy.

    Priors are the policy's softmax over legal actions; values its critic, clipped to
    [-1, 1] (game rewards are +-1 and the discount is 1, so it estimates the outcome).
    """

    @torch.no_grad()
    def evaluate(observations: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        obs = torch.as_tensor(observations, dtype=torch.float32, device=policy.device)
        features = policy.extract_features(obs, policy.pi_features_extractor)
        latent_pi, latent_vf = policy.mlp_extractor(features)
        logits = policy.action_net(latent_pi)
        mask = torch.as_tensor(masks, dtype=torch.bool, device=policy.device)
        logits = logits.masked_fill(~mask, -1e9)
        priors = torch.softmax(logits, dim=-1).cpu().numpy()
        values = policy.value_net(latent_vf).squeeze(-1).clamp(-1, 1).cpu().numpy()
        return priors, values

    return evaluate
