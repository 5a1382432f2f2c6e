"""RLlib's side of an agent: an SB3-shaped actor-critic RLModule, and the Agent around a module.

:class:`ActorCriticModule` is the network RLlib trains when a task brings its own features
extractor (the board games' residual CNN) or its observations carry an action mask. It is built
the way SB3's ``ActorCriticPolicy`` is (a shared features extractor, separate policy and value
MLPs from ``net_arch``, tanh, orthogonal init), so that ``backend=sb3`` and ``backend=rllib``
train the same network and their speed can be compared. Masked observations are dicts
``{"observations": ..., "action_mask": ...}``: the layout RLlib's masking examples use.

:class:`RLlibAgent` acts from any torch RLModule (ours, or RLlib's default PPO, DQN or SAC
module), gives MCTS its ``policy_value`` view, and while training can push a snapshot of the
learner into the self-play opponent slots on every env runner.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis.value_function_api import ValueFunctionAPI
from ray.rllib.core.rl_module.torch.torch_rl_module import TorchRLModule
from torch import nn

from agents.base import Agent, Player

OBS_KEY, MASK_KEY, STATE_KEY = "observations", "action_mask", "state"
MODULE_FILE = "rllib_module.json"  # which module of the checkpoint is the agent
ALGORITHM_DIR = "algorithm"  # algo.save_to_path target inside a learnloop checkpoint folder
MASK_MIN = -1e9  # added to illegal logits: softmax gives them exactly 0


def is_masked_space(space: Any) -> bool:
    """True for a Dict space with ``observations`` and ``action_mask`` (and maybe ``state``)."""
    spaces = getattr(space, "spaces", None)
    return (
        isinstance(spaces, dict)
        and {OBS_KEY, MASK_KEY} <= set(spaces)
        and set(spaces) <= {OBS_KEY, MASK_KEY, STATE_KEY}
    )


class _Flatten(nn.Module):
    """The default features extractor: the observation, flattened."""

    def __init__(self, observation_space: Any) -> None:
        super().__init__()
        self.features_dim = int(np.prod(observation_space.shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)


def mlp(width: int, layers: list[int], activation: type[nn.Module]) -> tuple[nn.Module, int]:
    """Linear layers of the given sizes, each followed by ``activation``; and the output width."""
    modules: list[nn.Module] = []
    for size in layers:
        modules += [nn.Linear(width, size), activation()]
        width = size
    return nn.Sequential(*modules), width


def _orthogonal(module: nn.Module, gain: float) -> None:
    for layer in module.modules():
        if isinstance(layer, nn.Linear | nn.Conv2d):
            nn.init.orthogonal_(layer.weight, gain=gain)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


class ActorCriticModule(TorchRLModule, ValueFunctionAPI):
    """SB3's actor-critic layout as an RLlib module (Discrete actions, optional action mask).

    ``model_config`` holds SB3-style policy kwargs: ``features_extractor_class`` and
    ``features_extractor_kwargs`` (default: flatten), ``net_arch`` (a list shared by both heads,
    or ``{"pi": [...], "vf": [...]}``) and ``activation_fn`` (default ``nn.Tanh``). With a
    ``state`` key in the observations (a centralised critic, MAPPO-style), the value MLP reads
    the global state joined to the agent's own observation; the policy never sees the state.
    """

    def setup(self) -> None:
        config = dict(self.model_config or {})
        self.masked = is_masked_space(self.observation_space)
        space = self.observation_space[OBS_KEY] if self.masked else self.observation_space
        if not hasattr(self.action_space, "n"):
            raise ValueError(f"ActorCriticModule needs Discrete actions, got {self.action_space}")
        extractor = config.get("features_extractor_class") or _Flatten
        self.features = extractor(space, **config.get("features_extractor_kwargs", {}))
        arch = config.get("net_arch", [64, 64])
        pi, vf = (arch["pi"], arch["vf"]) if isinstance(arch, dict) else (arch, arch)
        activation = config.get("activation_fn") or nn.Tanh
        self.pi_net, pi_width = mlp(self.features.features_dim, list(pi), activation)
        self.central = self.masked and STATE_KEY in self.observation_space.spaces
        critic_width = self.features.features_dim
        if self.central:  # agent-specific global state: state + own observation, flattened
            critic_width = int(np.prod(self.observation_space[STATE_KEY].shape))
            critic_width += int(np.prod(space.shape))
        self.vf_net, vf_width = mlp(critic_width, list(vf), activation)
        self.action_head = nn.Linear(pi_width, int(self.action_space.n))
        self.value_head = nn.Linear(vf_width, 1)
        # SB3's initialisation, so both backends start from the same kind of network.
        for part, gain in ((self.features, 2**0.5), (self.pi_net, 2**0.5), (self.vf_net, 2**0.5),
                           (self.action_head, 0.01), (self.value_head, 1.0)):  # fmt: skip
            _orthogonal(part, gain)

    def _split(self, obs: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.masked:
            return obs[OBS_KEY], obs[MASK_KEY]
        return obs, None

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        planes, mask = self._split(batch[Columns.OBS])
        embeddings = self.features(planes.float())
        logits = self.action_head(self.pi_net(embeddings))
        if mask is not None:
            logits = logits.masked_fill(mask <= 0, MASK_MIN)
        return {Columns.ACTION_DIST_INPUTS: logits, Columns.EMBEDDINGS: embeddings}

    def compute_values(self, batch: dict[str, Any], embeddings: Any = None) -> torch.Tensor:
        if self.central:
            obs = batch[Columns.OBS]
            joined = torch.cat([obs[STATE_KEY].flatten(1), obs[OBS_KEY].flatten(1)], dim=1)
            return self.value_head(self.vf_net(joined.float())).squeeze(-1)
        if embeddings is None:
            planes, _ = self._split(batch[Columns.OBS])
            embeddings = self.features(planes.float())
        return self.value_head(self.vf_net(embeddings)).squeeze(-1)


def _as_batch(value: Any) -> torch.Tensor:
    return torch.as_tensor(np.asarray(value, dtype=np.float32))


class RLlibAgent(Agent):
    """An agent acting from an RLlib torch module (see :class:`agents.base.Agent`).

    ``peers`` are the other trained modules when each agent of a multi-agent env has its own
    policy (in agent order after ``module``): a batch with one row per agent then acts row i
    with agent i's module. ``action_shape`` is the env's where the module saw flattened boxes.

    How an action comes out of the module: a Q-network (DQN) takes the argmax of its Q-values
    (also when ``deterministic=False``: it has no stochastic policy); SAC's squashed Gaussian gives
    tanh of its mean (or a sample) rescaled from [-1, 1] to the box; PPO's Gaussian gives its mean
    (or a sample) clipped to the box, as SB3 does; a categorical, its mode (or a sample).
    """

    def __init__(
        self,
        module: Any,
        module_id: str,
        peers: dict[str, Any] | None = None,
        action_shape: list[int] | None = None,
    ) -> None:
        self.module = module
        self.module_id = module_id
        self.peers = dict(peers or {})
        self.masked = is_masked_space(module.observation_space)
        self.action_shape = list(action_shape) if action_shape else None

    # -- acting ---------------------------------------------------------------------------------

    def _inputs(self, obs: Any, masks: np.ndarray | None) -> Any:
        if isinstance(obs, dict):  # already in the module's layout
            return {key: _as_batch(value) for key, value in obs.items()}
        if self.masked:
            n = int(self.module.action_space.n)
            masks = np.ones((len(obs), n), np.float32) if masks is None else masks
            return {OBS_KEY: _as_batch(obs), MASK_KEY: _as_batch(masks)}
        obs = _as_batch(obs)
        shape = getattr(self.module.observation_space, "shape", None)
        if shape is not None and len(shape) == 1 and obs.dim() > 2:  # trained on flat boxes
            obs = obs.flatten(1)
        return obs

    @torch.no_grad()
    def _logits(self, module: Any, obs: Any, masks: np.ndarray | None) -> tuple[Any, bool]:
        """The module's action-distribution inputs (or Q-values: then True), masked."""
        inputs = {Columns.OBS: self._inputs(obs, masks)}
        out = module.forward_inference(inputs)
        # DQN's inference pass gives only its greedy actions: mask its Q-values instead
        q_network = Columns.ACTION_DIST_INPUTS not in out
        logits = (
            module.compute_q_values(inputs)["qf_preds"]
            if q_network
            else out[Columns.ACTION_DIST_INPUTS]
        )
        if masks is not None and not self.masked:  # a plain module: mask here
            logits = logits.masked_fill(_as_batch(masks) <= 0, MASK_MIN)
        return logits, q_network

    def _actions(
        self, module: Any, obs: Any, masks: np.ndarray | None, deterministic: bool
    ) -> np.ndarray:
        logits, q_network = self._logits(module, obs, masks)
        if q_network:
            return logits.argmax(-1).cpu().numpy()
        return self._sample(module, logits, deterministic)

    def _probabilities(self, module: Any, obs: Any, masks: np.ndarray | None) -> np.ndarray:
        logits, q_network = self._logits(module, obs, masks)
        if q_network or not hasattr(module.action_space, "n"):
            raise ValueError(f"module {self.module_id!r} has no categorical policy")
        return torch.softmax(logits, dim=-1).cpu().numpy()

    def _sample(self, module: Any, logits: torch.Tensor, deterministic: bool) -> np.ndarray:
        from ray.rllib.core.distribution.torch.torch_distribution import TorchSquashedGaussian

        dist_cls = module.get_inference_action_dist_cls()
        dist = dist_cls.from_logits(logits)
        squashed = isinstance(dist_cls, type) and issubclass(dist_cls, TorchSquashedGaussian)
        if squashed:  # SAC: in [-1, 1]; RLlib's deterministic view would drop the tanh
            actions = torch.tanh(dist.loc) if deterministic else dist.sample()
        else:
            actions = (dist.to_deterministic() if deterministic else dist).sample()
        actions = actions.cpu().numpy()
        space = module.action_space
        if hasattr(space, "low") and hasattr(space, "high"):  # a Box
            if squashed:
                actions = space.low + (actions + 1.0) * (space.high - space.low) / 2.0
            actions = np.clip(actions, space.low, space.high).astype(space.dtype)
        if self.action_shape is not None:
            actions = actions.reshape(len(actions), *self.action_shape)
        return actions

    def q_values(self, obs: Any) -> np.ndarray:
        """(batch, actions) Q-values of a DQN module."""
        logits, q_network = self._logits(self.module, obs, None)
        if not q_network:
            raise ValueError(f"module {self.module_id!r} has no Q-values (a DQN's have)")
        return logits.cpu().numpy()

    @torch.no_grad()
    def action_values(self, obs: Any, actions: np.ndarray) -> np.ndarray:
        """(batch,) values of continuous actions by a SAC module's critic (the smaller of its
        twin Q-heads), the actions given in the env's space as ``act_batch`` returns them."""
        space = self.module.action_space
        if hasattr(space, "n") or not hasattr(self.module, "qf"):
            raise ValueError(f"module {self.module_id!r} has no critic of continuous actions")
        actions = np.asarray(actions, np.float32).reshape(len(actions), -1)
        low, high = (np.ravel(bound) for bound in (space.low, space.high))
        normalized = 2.0 * (actions - low) / (high - low) - 1.0  # the module's [-1, 1]
        batch = {Columns.OBS: self._inputs(obs, None), Columns.ACTIONS: _as_batch(normalized)}
        return self.module.compute_q_values(batch).double().cpu().numpy()

    def act_batch(
        self, obs: Any, action_masks: np.ndarray | None = None, deterministic: bool = True
    ) -> np.ndarray:
        """Actions for a batch of observations (illegal actions, mask 0, are never chosen)."""
        return self._per_module(
            lambda module, o, m: self._actions(module, o, m, deterministic), obs, action_masks
        )

    def action_probabilities(
        self, obs: np.ndarray, action_masks: np.ndarray | None = None
    ) -> np.ndarray:
        """(batch, actions) probabilities of a categorical policy (masked actions get 0)."""
        return self._per_module(self._probabilities, obs, action_masks)

    def _per_module(self, fn: Any, obs: Any, action_masks: np.ndarray | None) -> np.ndarray:
        """``fn(module, obs, masks)`` on the whole batch, or, with one policy per agent and a
        row per agent, row i with agent i's module."""
        modules = [self.module, *self.peers.values()]
        rows = len(next(iter(obs.values()))) if isinstance(obs, dict) else len(obs)
        if len(modules) == 1 or rows != len(modules):
            return fn(self.module, obs, action_masks)
        picked = []
        for i, module in enumerate(modules):
            one = (
                {k: v[i : i + 1] for k, v in obs.items()}
                if isinstance(obs, dict)
                else obs[i : i + 1]
            )
            mask = None if action_masks is None else action_masks[i : i + 1]
            picked.append(fn(module, one, mask))
        return np.concatenate(picked)

    def act(
        self, obs: Any, action_mask: np.ndarray | None = None, deterministic: bool = True
    ) -> Any:
        """The action for one observation."""
        single = (
            {k: np.asarray(v)[None] for k, v in obs.items()}
            if isinstance(obs, dict)
            else np.asarray(obs)[None]
        )
        masks = None if action_mask is None else np.asarray(action_mask)[None]
        action = self._actions(self.module, single, masks, deterministic)[0]
        return action.item() if np.ndim(action) == 0 else action

    @torch.no_grad()
    def policy_value(
        self, observations: np.ndarray, masks: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(priors, values)`` for MCTS: softmax over legal actions, the critic in [-1, 1]."""
        inputs = {Columns.OBS: self._inputs(observations, masks)}
        out = self.module.forward_inference(inputs)
        logits = out[Columns.ACTION_DIST_INPUTS].masked_fill(_as_batch(masks) <= 0, MASK_MIN)
        priors = torch.softmax(logits, dim=-1).cpu().numpy()
        if not hasattr(self.module, "compute_values"):
            raise ValueError(f"module {self.module_id} has no value function for search")
        values = self.module.compute_values(inputs, out.get(Columns.EMBEDDINGS))
        return priors, values.clamp(-1, 1).cpu().numpy()

    def snapshot(self) -> Player:
        """A sampling player on a copy of the module, which later training does not change."""
        import copy

        frozen = RLlibAgent(copy.deepcopy(self.module), self.module_id,
                            action_shape=self.action_shape)  # fmt: skip
        return frozen.player(deterministic=False)

    def save(self, path: Path) -> None:
        """Write the modules into the folder ``path`` (:func:`load_agent` reads it back)."""
        modules = {self.module_id: self.module, **self.peers}
        for module_id, module in modules.items():
            module.save_to_path(path / module_id)
        info = {"module_id": self.module_id, "modules": list(modules),
                "action_shape": self.action_shape}  # fmt: skip
        (path / MODULE_FILE).write_text(json.dumps(info) + "\n")


def load_modules(checkpoint: Path) -> dict[str, Any]:
    """The trained modules in a learnloop checkpoint folder, the agent's first (no Ray needed)."""
    from ray.rllib.core.rl_module.rl_module import RLModule

    info_file = checkpoint / MODULE_FILE
    if not info_file.is_file():
        raise ValueError(f"checkpoint {checkpoint} is not an RLlib checkpoint (no {MODULE_FILE})")
    info = json.loads(info_file.read_text())
    modules = {}
    for module_id in info.get("modules", [info["module_id"]]):
        module_dir = checkpoint / ALGORITHM_DIR / "learner_group" / "learner" / "rl_module"
        module_dir = module_dir / module_id
        if not module_dir.is_dir():  # written by RLlibAgent.save rather than by training
            module_dir = checkpoint / module_id
        if not module_dir.is_dir():
            raise ValueError(f"checkpoint {checkpoint} has no module {module_id!r} ({module_dir})")
        try:
            modules[module_id] = RLModule.from_checkpoint(module_dir)
        except Exception as error:  # pickle, torch and RLlib raise many kinds on damaged files
            raise ValueError(f"checkpoint {module_dir} could not be loaded: {error}") from None
        modules[module_id].eval()
    return modules


def load_agent(checkpoint: Path) -> RLlibAgent:
    """The agent stored in a learnloop checkpoint folder."""
    modules = load_modules(checkpoint)
    (first, module), *others = modules.items()
    info = json.loads((checkpoint / MODULE_FILE).read_text())
    return RLlibAgent(module, first, peers=dict(others), action_shape=info.get("action_shape"))
