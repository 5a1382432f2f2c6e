"""Card-fraud scoring from delayed labels and the bank's own investigations (Fraud-v0)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from agents.learners.base import Learner
from agents.learners.supervised import ReplayBuffer

# Observation columns of learnloop/Fraud-v0 (envs.paradigms.fraud.FEATURES, then ids).
AMOUNT, WEEKEND, NIGHT = 0, 1, 2
CUSTOMER_COUNTS, CUSTOMER_MEANS = (3, 5, 7), (4, 6, 8)
TERMINAL_COUNTS, TERMINAL_RISKS = (9, 11, 13), (10, 12, 14)
CARD, TERMINAL, DAY_INDEX, TIME_OF_DAY = 15, 16, 17, 18
INPUTS = 22  # columns of :meth:`FraudLearner.inputs`


class FraudLearner(Learner):
    """An MLP classifier on the labels the bank receives, with a memory of what it confirmed.

    The score of a transaction is P(fraud) from an MLP on the handbook's features, re-expressed
    so that a network reads them easily (log amounts, counts and means; the amount's log-ratio
    to the customer's 1/7/30-day means, which exposes a compromised card's five-fold amounts),
    plus two inputs the handbook's features cannot have, read from the learner's memory: how
    recently a fraud was confirmed at the transaction's terminal (dated by the day it happened,
    from every label that arrived), and how recently the card was investigated and found
    genuine. Investigations answer at the end of the same day, a week before the delayed labels
    reach the terminal risk windows, so a terminal compromised days ago shows up as soon as one
    of its frauds is found on a card investigated for any reason. Every label that arrives
    (``info["days"]``) is trained on with the inputs the learner had when it scored that
    transaction, kept for ``memory_days``; frauds and genuine transactions sit in two replay
    buffers and each update draws ``fraud_share`` of its batch from the frauds.

    Hyperparameters: ``width`` (64), ``learning_rate`` (1e-3), ``batch_size`` (512),
    ``updates_per_step`` (2), ``fraud_share`` (0.2), ``memory_days`` (10), ``capacity``
    (400,000 genuine transactions kept), ``recall_inputs`` (True; False zeroes the two memory
    inputs, an ablation).
    """

    paradigm = "fraud detection"
    uses = "investigations"
    DEFAULTS: dict[str, Any] = {
        "width": 64, "learning_rate": 1e-3, "batch_size": 512, "updates_per_step": 2,
        "fraud_share": 0.2, "memory_days": 10, "capacity": 400_000, "recall_inputs": True,
    }  # fmt: skip

    def build(self, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        if tuple(observation_space.shape) != (19,):
            raise ValueError(
                f"FraudLearner needs Fraud-v0's (19,) observations, got {observation_space}"
            )
        width = self.hyper["width"]
        self.net = nn.Sequential(
            nn.Linear(INPUTS, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
            nn.Linear(width, 1),
        ).to(self.device)  # fmt: skip
        self.opt = torch.optim.Adam(self.net.parameters(), lr=self.hyper["learning_rate"])
        self.frauds = ReplayBuffer(self.hyper["capacity"] // 10)
        self.genuine = ReplayBuffer(self.hyper["capacity"])
        self.terminal_fraud_day = np.full(0, -1e9)  # last day a fraud was confirmed there
        self.card_genuine_day = np.full(0, -1e9)  # last day the card was found genuine
        self.scored: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # day -> (keys, inputs)
        self.labelled_keys = np.zeros(0, dtype=np.int64)
        self.investigated = 0

    def modules(self) -> dict[str, nn.Module]:
        return {"net": self.net}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.opt}

    def extra_state(self) -> dict[str, Any]:
        return {
            "frauds": self.frauds.state(), "genuine": self.genuine.state(),
            "terminal_fraud_day": self.terminal_fraud_day.copy(),
            "card_genuine_day": self.card_genuine_day.copy(), "scored": dict(self.scored),
            "labelled_keys": self.labelled_keys.copy(), "investigated": self.investigated,
        }  # fmt: skip

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.frauds.load(state["frauds"])
        self.genuine.load(state["genuine"])
        self.terminal_fraud_day = state["terminal_fraud_day"].copy()
        self.card_genuine_day = state["card_genuine_day"].copy()
        self.scored = dict(state["scored"])
        self.labelled_keys = state["labelled_keys"].copy()
        self.investigated = state["investigated"]

    def labels_received(self) -> int:
        """Distinct transactions whose label reached the learner through its own
        investigations (a label seen again on a later pass is not counted again)."""
        return self.investigated

    def labels_seen(self) -> int:
        """Distinct transactions whose label reached the learner (delayed or investigated)."""
        return len(self.labelled_keys)

    # -- inputs -----------------------------------------------------------------------------------

    @staticmethod
    def keys(obs: np.ndarray) -> np.ndarray:
        """A unique key per transaction: (day, second of the day, card)."""
        second = np.rint(obs[:, TIME_OF_DAY].astype(np.float64) * 86_400).astype(np.int64)
        day = obs[:, DAY_INDEX].astype(np.int64)
        return (day * 86_400 + second) * 1_000_003 + obs[:, CARD].astype(np.int64)

    def inputs(self, obs: np.ndarray) -> np.ndarray:
        """The network's inputs (B, INPUTS) for observations, with the memory as it is now."""
        obs = np.asarray(obs, dtype=np.float32)
        amount = obs[:, AMOUNT]
        means = obs[:, list(CUSTOMER_MEANS)]
        day = obs[:, DAY_INDEX]
        fraud_age = day - _recall(self.terminal_fraud_day, obs[:, TERMINAL].astype(np.int64))
        recall = float(self.hyper["recall_inputs"])  # off: an ablation without the memory
        genuine_age = day - _recall(self.card_genuine_day, obs[:, CARD].astype(np.int64))
        columns = [
            np.log1p(amount)[:, None] / 3, obs[:, [WEEKEND, NIGHT]],
            np.log1p(obs[:, list(CUSTOMER_COUNTS)]) / 3, np.log1p(means) / 3,
            np.log((amount[:, None] + 1) / (means + 1)),
            (amount > 220).astype(np.float32)[:, None],
            np.log1p(obs[:, list(TERMINAL_COUNTS)]) / 3, obs[:, list(TERMINAL_RISKS)],
            np.exp(-np.clip(fraud_age - 1, 0, None) / 7)[:, None] * recall,
            np.exp(-np.clip(genuine_age - 1, 0, None) / 3)[:, None] * recall,
            obs[:, [TIME_OF_DAY]],
        ]  # fmt: skip
        return np.concatenate(columns, axis=1).astype(np.float32)

    # -- acting -----------------------------------------------------------------------------------

    def fraud_scores(self, obs: Any) -> np.ndarray:
        """P(fraud) of each transaction."""
        with torch.no_grad():
            logits = self.net(self.tensor(self.inputs(obs))).squeeze(1)
        return torch.sigmoid(logits).cpu().numpy()

    def anomaly_scores(self, obs: Any) -> np.ndarray:
        return self.fraud_scores(obs)

    def act_batch(
        self, obs: Any, action_masks: np.ndarray | None = None, deterministic: bool = True
    ) -> np.ndarray:
        return self.fraud_scores(obs)[:, None]

    # -- learning ---------------------------------------------------------------------------------

    def observe(
        self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, info: dict[str, Any]
    ) -> dict[str, float]:
        obs = np.asarray(obs, dtype=np.float32)
        valid = np.asarray(info.get("valid", np.ones(len(obs), bool)), dtype=bool)
        self._remember(obs[valid])
        for report in info.get("days", []):
            self._learn_labels(report)
        metrics = {}
        if self.frauds.size and self.genuine.size:
            losses = [self._update() for _ in range(self.hyper["updates_per_step"])]
            metrics["losses/classifier"] = float(np.mean(losses))
        self.updates += 1
        return metrics

    def _remember(self, obs: np.ndarray) -> None:
        """Keep the inputs each transaction was scored with, by day, for when its label comes."""
        if not len(obs):
            return
        keys, inputs = self.keys(obs), self.inputs(obs)
        days = obs[:, DAY_INDEX].astype(np.int64)
        for day in np.unique(days):
            mine = days == day
            old = self.scored.get(int(day))
            if old is not None:
                keys_day, inputs_day = np.r_[old[0], keys[mine]], np.r_[old[1], inputs[mine]]
            else:
                keys_day, inputs_day = keys[mine], inputs[mine]
            self.scored[int(day)] = (keys_day, inputs_day)
        newest = int(days.max())
        for day in [d for d in self.scored if d < newest - self.hyper["memory_days"]]:
            del self.scored[day]

    def _learn_labels(self, report: dict[str, Any]) -> None:
        """Add a day's revealed labels to the buffers and update the memory."""
        obs, fraud = report["revealed_obs"], np.asarray(report["revealed_fraud"], dtype=bool)
        now = np.asarray(report["revealed_now"], dtype=bool)
        terminals, cards = obs[:, TERMINAL].astype(np.int64), obs[:, CARD].astype(np.int64)
        self.terminal_fraud_day = _grow(self.terminal_fraud_day, terminals)
        self.card_genuine_day = _grow(self.card_genuine_day, cards)
        # A fraud dates its terminal from the day it happened, whenever its label came.
        np.maximum.at(self.terminal_fraud_day, terminals[fraud], obs[fraud, DAY_INDEX])
        day = float(report["day"])
        genuine_cards = np.setdiff1d(cards[now & ~fraud], cards[now & fraud])
        self.card_genuine_day[genuine_cards] = day
        keys = self.keys(obs)
        new = ~np.isin(keys, self.labelled_keys)
        self.investigated += int((new & now).sum())  # distinct transactions, once each
        if not new.any():
            return
        self.labelled_keys = np.r_[self.labelled_keys, keys[new]]
        inputs = self._inputs_when_scored(obs[new], keys[new])
        x = torch.as_tensor(inputs)
        self.frauds.add(x=x[torch.as_tensor(fraud[new])])
        self.genuine.add(x=x[torch.as_tensor(~fraud[new])])

    def _inputs_when_scored(self, obs: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """The inputs each transaction had when scored (now, for one the learner never saw)."""
        inputs = self.inputs(obs)
        days = obs[:, DAY_INDEX].astype(np.int64)
        for day in np.unique(days):
            if int(day) not in self.scored:
                continue
            stored_keys, stored = self.scored[int(day)]
            order = np.argsort(stored_keys)
            mine = np.flatnonzero(days == day)
            at = np.searchsorted(stored_keys[order], keys[mine]).clip(max=len(order) - 1)
            hit = stored_keys[order][at] == keys[mine]
            inputs[mine[hit]] = stored[order][at[hit]]
        return inputs

    def _update(self) -> float:
        size = self.hyper["batch_size"]
        n_fraud = max(1, int(size * self.hyper["fraud_share"]))
        frauds = self.frauds.sample(n_fraud, self.generator)["x"]
        genuine = self.genuine.sample(size - n_fraud, self.generator)["x"]
        x = torch.cat([frauds, genuine]).to(self.device)
        y = torch.cat([torch.ones(n_fraud), torch.zeros(size - n_fraud)]).to(self.device)
        loss = nn.functional.binary_cross_entropy_with_logits(self.net(x).squeeze(1), y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss.item()


def _recall(table: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``table[ids]``, with -1e9 (never) for ids beyond the table."""
    out = np.full(len(ids), -1e9)
    inside = ids < len(table)
    out[inside] = table[ids[inside]]
    return out


def _grow(table: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``table`` long enough to index every id (new entries: never)."""
    needed = int(ids.max()) + 1 if len(ids) else 0
    if needed <= len(table):
        return table
    return np.r_[table, np.full(needed - len(table), -1e9)]
