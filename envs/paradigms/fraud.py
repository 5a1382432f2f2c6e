"""``learnloop/Fraud-v0``: score card transactions; the bank investigates the top cards each day.

After the transaction simulator of the Fraud Detection Handbook (Le Borgne, Siblini, Lebichot,
Bontempi, "Reproducible Machine Learning for Credit Card Fraud Detection", 2022, chapter 3),
written here in vectorised numpy. Vocabulary:

- **customer** (a card): a home point in [0, 100]^2, a mean amount m ~ U(5, 100) (standard
  deviation m / 2) and a mean of U(0, 4) transactions a day (Poisson).
- **terminal**: a point in [0, 100]^2. A customer pays at terminals within ``radius`` (5) of
  home, uniformly; customers without one never pay.
- **transaction**: a customer, a terminal, a day, a second of the day ~ N(43200, 20000) (drawn
  again outside the day: dropped, as the handbook does), an amount ~ N(m, m / 2) (below 0:
  U(0, 2m)), rounded to cents. Day 0 is a Sunday (the handbook starts on 2018-04-01).
- **fraud scenarios**: (1) every amount above 220; (2) each day two terminals are compromised
  for 28 days: every transaction there is a fraud; (3) each day three customers are compromised
  for 14 days: a third of their transactions (chosen at random) are frauds with five times the
  amount.
- **features** (the handbook's 15, in its order): amount, weekend, night (hour <= 6); the
  customer's count and mean amount over the last 1, 7 and 30 days (the transaction included);
  the terminal's count and fraud share over 1, 7 and 30 days ending ``delay_days`` (7) ago,
  when those labels are known.
- **feedback delay**: the labels of day d reach the bank at the end of day d + ``delay_days``;
  a card known to be compromised is blocked (left out of later rankings and scores).
- **card precision@k**: each day the ``daily_budget`` (k) cards with the highest score (the
  maximum over the card's transactions that day) are investigated; the share of k that were
  compromised that day. The handbook's main metric, averaged over days.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from envs.paradigms.metrics import roc_auc

DAY = 86_400
FEATURES = (
    "TX_AMOUNT", "TX_DURING_WEEKEND", "TX_DURING_NIGHT",
    "CUSTOMER_ID_NB_TX_1DAY_WINDOW", "CUSTOMER_ID_AVG_AMOUNT_1DAY_WINDOW",
    "CUSTOMER_ID_NB_TX_7DAY_WINDOW", "CUSTOMER_ID_AVG_AMOUNT_7DAY_WINDOW",
    "CUSTOMER_ID_NB_TX_30DAY_WINDOW", "CUSTOMER_ID_AVG_AMOUNT_30DAY_WINDOW",
    "TERMINAL_ID_NB_TX_1DAY_WINDOW", "TERMINAL_ID_RISK_1DAY_WINDOW",
    "TERMINAL_ID_NB_TX_7DAY_WINDOW", "TERMINAL_ID_RISK_7DAY_WINDOW",
    "TERMINAL_ID_NB_TX_30DAY_WINDOW", "TERMINAL_ID_RISK_30DAY_WINDOW",
)  # fmt: skip
# Columns after the handbook's features: who, where and when (a bank knows them).
CARD, TERMINAL, DAY_INDEX, TIME_OF_DAY = range(len(FEATURES), len(FEATURES) + 4)
OBS_SIZE = len(FEATURES) + 4
PARTS = ("train", "test")
WINDOWS = (1, 7, 30)


@dataclass(frozen=True)
class WorldSize:
    """How big a simulated world is (the handbook: 5,000 customers, 10,000 terminals)."""

    n_customers: int = 5_000
    n_terminals: int = 10_000
    n_days: int = 61
    radius: float = 5.0
    delay_days: int = 7

    def check(self) -> None:
        """ValueError naming the first bad field."""
        for name in ("n_customers", "n_terminals", "n_days"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not self.radius > 0:
            raise ValueError(f"radius must be > 0, got {self.radius!r}")
        if not isinstance(self.delay_days, int | np.integer) or self.delay_days < 0:
            raise ValueError(f"delay_days must be a non-negative integer, got {self.delay_days!r}")


class FraudWorld:
    """One seeded world: profiles, every transaction in time order, labels and features.

    Arrays over transactions (chronological): ``customer``, ``terminal``, ``day``, ``second``
    (of the day), ``amount``, ``fraud`` (bool), ``scenario`` (0 genuine, 1-3), and the features
    (N, 15, float32) from :meth:`compute_features`; ``day_start[d]`` is the first transaction
    of day d. Generation is seeded by ``seed`` alone.
    """

    def __init__(self, seed: int, size: WorldSize = WorldSize()) -> None:
        size.check()
        self.seed, self.size = seed, size
        rng = np.random.default_rng(seed)
        self._profiles(rng)
        self._transactions(rng)
        self._frauds(rng)
        self.day_start = np.searchsorted(self.day, np.arange(size.n_days + 1))
        self.features: np.ndarray | None = None  # computed on first use

    def _profiles(self, rng: np.random.Generator) -> None:
        c, t = self.size.n_customers, self.size.n_terminals
        self.customer_xy = rng.uniform(0, 100, (c, 2))
        self.mean_amount = rng.uniform(5, 100, c)
        self.tx_per_day = rng.uniform(0, 4, c)
        self.terminal_xy = rng.uniform(0, 100, (t, 2)).astype(np.float32)
        # Terminals within the radius, as CSR rows: candidates come from the 3 x 3 grid cells
        # (of side radius) around each customer, so the work grows with C, not C x T.
        radius = self.size.radius
        cells = max(1, int(100 // radius))
        terminal_cell = _grid_cell(self.terminal_xy, cells)
        terminal_key = terminal_cell[:, 0] * cells + terminal_cell[:, 1]
        by_cell = np.argsort(terminal_key, kind="stable")
        cell_start = np.searchsorted(terminal_key[by_cell], np.arange(cells * cells + 1))
        home = _grid_cell(self.customer_xy, cells)
        shifts = np.array([(i, j) for i in (-1, 0, 1) for j in (-1, 0, 1)])
        neighbour = home[:, None, :] + shifts[None]  # (C, 9, 2)
        inside = ((neighbour >= 0) & (neighbour < cells)).all(-1)
        key = np.where(inside, neighbour[..., 0] * cells + neighbour[..., 1], 0)
        low = np.where(inside, cell_start[key], 0).ravel()
        count = np.where(inside, cell_start[key + 1] - cell_start[key], 0).ravel()
        owner = np.repeat(np.arange(c * 9) // 9, count)
        offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        candidate = by_cell[np.repeat(low, count) + offset]
        gap = self.customer_xy[owner] - self.terminal_xy[candidate]
        near = (gap**2).sum(1) < radius**2
        owner, self.near_terminals = owner[near], candidate[near]
        self.near_count = np.bincount(owner, minlength=c)
        self.near_start = np.concatenate([[0], np.cumsum(self.near_count)])

    def _transactions(self, rng: np.random.Generator) -> None:
        c, d = self.size.n_customers, self.size.n_days
        counts = rng.poisson(np.tile(self.tx_per_day, d)).astype(np.int64)  # day-major
        slot = np.repeat(np.arange(d * c, dtype=np.int32), counts)
        day, customer = slot // c, slot % c
        second = (DAY / 2 + 20_000 * rng.standard_normal(len(slot))).astype(np.int64)  # as int()
        mean = self.mean_amount[customer]
        amount = mean + mean / 2 * rng.standard_normal(len(slot))
        negative = np.flatnonzero(amount < 0)
        amount[negative] = rng.uniform(0, 2 * mean[negative])
        keep = (second > 0) & (second < DAY) & (self.near_count[customer] > 0)
        customer, day, second, amount = customer[keep], day[keep], second[keep], amount[keep]
        pick = (rng.random(len(customer)) * self.near_count[customer]).astype(np.int64)
        terminal = self.near_terminals[self.near_start[customer] + pick]
        # Chronological; simultaneous transactions by customer id (the key is unique).
        order = np.argsort((day * DAY + second) * c + customer)
        self.customer, self.terminal = customer[order].astype(np.int64), terminal[order]
        self.day, self.second = day[order].astype(np.int64), second[order]
        self.amount = np.round(amount[order], 2)

    def _frauds(self, rng: np.random.Generator) -> None:
        d = self.size.n_days
        self.scenario = np.where(self.amount > 220, 1, 0).astype(np.int8)
        # Scenario 2: two terminals a day, compromised for 28 days (an event count per day).
        starts = np.stack([rng.choice(self.size.n_terminals, 2, replace=False) for _ in range(d)])
        events = np.zeros((self.size.n_terminals, d + 29), dtype=np.int16)
        np.add.at(events, (starts, np.arange(d)[:, None]), 1)
        np.add.at(events, (starts, np.arange(d)[:, None] + 28), -1)
        compromised = np.cumsum(events, axis=1)[:, :d] > 0
        self.scenario[compromised[self.terminal, self.day]] = 2
        # Scenario 3: three customers a day; a third of their next 14 days' transactions.
        by_customer = np.argsort(self.customer, kind="stable")
        bounds = np.searchsorted(self.customer[by_customer], np.arange(self.size.n_customers + 1))
        for first in range(d):
            for who in rng.choice(self.size.n_customers, 3, replace=False):
                own = by_customer[bounds[who] : bounds[who + 1]]
                own = own[(self.day[own] >= first) & (self.day[own] < first + 14)]
                chosen = rng.choice(own, len(own) // 3, replace=False)
                self.amount[chosen] *= 5
                self.scenario[chosen] = 3
        self.fraud = self.scenario > 0

    def compute_features(self) -> np.ndarray:
        """The handbook's 15 features of every transaction (N, 15), cached."""
        if self.features is not None:
            return self.features
        f = np.empty((len(self.amount), len(FEATURES)), dtype=np.float32)
        t = self.day * DAY + self.second
        f[:, 0] = self.amount
        f[:, 1] = (self.day + 6) % 7 >= 5  # day 0 is a Sunday
        f[:, 2] = self.second // 3600 <= 6
        key, order = _grouped_times(self.customer, t)
        cumulative = np.concatenate([[0.0], np.cumsum(self.amount[order])])
        position = np.arange(len(t))
        for i, window in enumerate(WINDOWS):
            low = np.searchsorted(key, key - window * DAY, side="right")
            count = position - low + 1
            f[order, 3 + 2 * i] = count
            f[order, 4 + 2 * i] = (cumulative[position + 1] - cumulative[low]) / count
        key, order = _grouped_times(self.terminal, t)
        frauds = np.concatenate([[0], np.cumsum(self.fraud[order])])
        high = np.searchsorted(key, key - self.size.delay_days * DAY, side="right")
        for i, window in enumerate(WINDOWS):
            low = np.searchsorted(key, key - (self.size.delay_days + window) * DAY, side="right")
            count = high - low
            f[order, 9 + 2 * i] = count
            f[order, 10 + 2 * i] = (frauds[high] - frauds[low]) / np.maximum(count, 1)
        self.features = f
        return f

    def observations(self, rows: np.ndarray) -> np.ndarray:
        """Observations (len(rows), OBS_SIZE) of the transactions at ``rows``."""
        features = self.compute_features()
        obs = np.empty((len(rows), OBS_SIZE), dtype=np.float32)
        obs[:, : len(FEATURES)] = features[rows]
        obs[:, CARD], obs[:, TERMINAL] = self.customer[rows], self.terminal[rows]
        obs[:, DAY_INDEX], obs[:, TIME_OF_DAY] = self.day[rows], self.second[rows] / DAY
        return obs


def _grid_cell(xy: np.ndarray, cells: int) -> np.ndarray:
    """The (column, row) of each point's cell in a ``cells`` x ``cells`` grid over [0, 100]^2."""
    return np.minimum((xy // (100 / cells)).astype(np.int64), cells - 1)


def _grouped_times(group: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Times made increasing within groups and far apart between them, and that sort order."""
    span = int(times.max()) + 100 * DAY
    key = group.astype(np.int64) * span + times
    order = np.argsort(key, kind="stable")
    return key[order], order


def average_precision(is_positive: np.ndarray, scores: np.ndarray) -> float:
    """Average precision (scikit-learn's definition: sum of precision times recall steps)."""
    is_positive = np.asarray(is_positive, dtype=bool)
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="mergesort")
    ranked, positives = is_positive[order], int(is_positive.sum())
    if positives == 0:
        raise ValueError("average_precision needs at least one positive sample")
    sorted_scores = np.asarray(scores, dtype=np.float64)[order]
    last = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(ranked) - 1]  # ends of tie groups
    hits = np.cumsum(ranked)[last]
    precision, recall = hits / (last + 1), hits / positives
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


@functools.lru_cache(maxsize=4)
def get_world(seed: int, size: WorldSize = WorldSize()) -> FraudWorld:
    """The world of ``seed`` (cached: the train and test envs and the baselines share it; the
    arrays are never written after generation)."""
    world = FraudWorld(seed, size)
    world.compute_features()
    return world


@dataclass
class DayReport:
    """What the bank learned at the end of one day (``info["days"]`` holds these as dicts)."""

    day: int
    investigated: np.ndarray  # the cards investigated, best score first
    compromised: np.ndarray  # bool per investigated card: a fraud that day
    card_precision: float  # compromised investigated cards / daily_budget
    revealed_obs: np.ndarray  # (n, OBS_SIZE) transactions whose labels arrive now
    revealed_fraud: np.ndarray  # bool (n,)
    revealed_now: np.ndarray  # bool (n,): from today's investigations (else the delayed labels)


class FraudStream:
    """One part's days of a world, the daily investigations and the delayed labels (the engine
    of both :class:`FraudEnv` and :class:`FraudVectorEnv`, so their rules cannot drift).

    The stream's origin is day ``history_days``: earlier days only feed the features' windows.
    ``part="train"`` serves the ``train_days`` and the ``delay_days`` after them; ``"test"``
    the ``test_days`` after those (the handbook's training, delay and test periods).
    """

    def __init__(
        self,
        part: str = "train",
        world_seed: int = 0,
        daily_budget: int = 100,
        history_days: int = 40,
        train_days: int = 7,
        delay_days: int = 7,
        test_days: int = 7,
        n_customers: int = 5_000,
        n_terminals: int = 10_000,
    ) -> None:
        if part not in PARTS:
            raise ValueError(f"part must be one of {PARTS}, got {part!r}")
        for name, value, least in (
            ("world_seed", world_seed, 0), ("daily_budget", daily_budget, 1),
            ("history_days", history_days, 0), ("train_days", train_days, 1),
            ("test_days", test_days, 1),
        ):  # fmt: skip
            if not isinstance(value, int | np.integer) or value < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
        days = history_days + train_days + delay_days + test_days
        size = WorldSize(n_customers, n_terminals, days, delay_days=delay_days)
        self.world = get_world(int(world_seed), size)
        self.part, self.budget, self.delay = part, int(daily_budget), int(delay_days)
        self.origin = history_days
        test_start = history_days + train_days + delay_days
        self.first_day, self.end_day = (
            (self.origin, test_start) if part == "train" else (test_start, days)
        )
        starts = self.world.day_start
        self.rows = np.arange(starts[self.first_day], starts[self.end_day])
        self.reset()

    @property
    def size(self) -> int:
        """Transactions in this part."""
        return len(self.rows)

    def reset(self) -> None:
        """Back to the part's first transaction; cards known compromised from earlier days."""
        world = self.world
        self.cursor = 0  # next transaction to serve (part position)
        self.answered = 0  # transactions answered so far
        self.day = self.first_day  # the next day to close
        self.scores = np.zeros(self.size, dtype=np.float32)
        self.known = np.zeros(world.size.n_customers, dtype=bool)
        known_until = self.first_day - self.delay  # labels of days before this are known
        if known_until > self.origin:
            rows = slice(world.day_start[self.origin], world.day_start[known_until])
            self.known[world.customer[rows][world.fraud[rows]]] = True
        self.revealed = np.zeros(len(world.day), dtype=bool)
        self.daily: list[float] = []
        self.scored: list[tuple[np.ndarray, np.ndarray]] = []

    def serve(self, count: int) -> np.ndarray:
        """The world rows of the next ``count`` transactions (fewer at the part's end)."""
        rows = self.rows[self.cursor : self.cursor + count]
        self.cursor += len(rows)
        return rows

    @property
    def done(self) -> bool:
        """Whether every transaction of the part has been answered."""
        return self.answered >= self.size

    def answer(self, scores: np.ndarray) -> list[DayReport]:
        """Record scores for the next served transactions; close the days now complete."""
        self.scores[self.answered : self.answered + len(scores)] = scores
        self.answered += len(scores)
        reports = []
        while self.day < self.end_day and self.world.day_start[self.day + 1] <= self.rows[0] + (
            self.answered
        ):
            reports.append(self.close_day(self.day))
            self.day += 1
        return reports

    def close_day(self, day: int) -> DayReport:
        """Investigate the day's top cards, block the compromised ones, reveal labels."""
        world = self.world
        rows = np.arange(world.day_start[day], world.day_start[day + 1])
        scores = self.scores[rows - self.rows[0]]
        cards, fraud = world.customer[rows], world.fraud[rows]
        open_ = ~self.known[cards]
        self.scored.append((scores[open_], fraud[open_]))
        # Each open card's score is its highest of the day; ties go to the lower card id.
        order = np.lexsort((-scores[open_], cards[open_]))
        first = np.r_[True, np.diff(cards[open_][order]) != 0]
        card_ids, card_scores = cards[open_][order][first], scores[open_][order][first]
        card_fraud = np.zeros(world.size.n_customers, dtype=bool)
        card_fraud[cards[fraud]] = True
        top = card_ids[np.argsort(-card_scores, kind="stable")[: self.budget]]
        compromised = card_fraud[top]
        precision = float(compromised.sum()) / self.budget
        self.daily.append(precision)
        self.known[top[compromised]] = True
        now = rows[np.isin(cards, top)]
        self.revealed[now] = True
        late_day = day - self.delay
        late = np.arange(0)
        if late_day >= self.origin:
            late = np.arange(world.day_start[late_day], world.day_start[late_day + 1])
            self.known[world.customer[late][world.fraud[late]]] = True
            late = late[~self.revealed[late]]  # not told twice (a delay of 0 days)
            self.revealed[late] = True
        told = np.r_[now, late]
        return DayReport(
            day, top, compromised, precision, world.observations(told), world.fraud[told],
            np.r_[np.ones(len(now), bool), np.zeros(len(late), bool)],
        )  # fmt: skip

    def summary(self) -> dict[str, float]:
        """The part's scores: card precision@k (mean over days), ROC-AUC and average precision
        over the transactions of cards not known compromised that day."""
        scores = np.concatenate([s for s, _ in self.scored])
        fraud = np.concatenate([f for _, f in self.scored])
        return {
            "card_precision": float(np.mean(self.daily)),
            "roc_auc": roc_auc(fraud, scores) if 0 < fraud.sum() < len(fraud) else 0.5,
            "average_precision": average_precision(fraud, scores) if fraud.any() else 0.0,
            "days": float(len(self.daily)),
            "transactions": float(len(fraud)),
            "fraud_share": float(fraud.mean()),
        }


def check_scores(action: Any, count: int) -> np.ndarray:
    """Actions as ``count`` finite scores clipped to [0, 1], or ValueError."""
    scores = np.asarray(action, dtype=np.float64).reshape(-1)
    if scores.shape != (count,) or not np.all(np.isfinite(scores)):
        raise ValueError(f"expected {count} finite fraud scores in [0, 1], got {action!r}")
    return np.clip(scores, 0.0, 1.0).astype(np.float32)


def _report_dicts(reports: list[DayReport]) -> list[dict[str, Any]]:
    return [vars(r) for r in reports]


def _spaces() -> tuple[spaces.Box, spaces.Box]:
    """One transaction's observation space and the score's action space (fresh objects)."""
    return (
        spaces.Box(0.0, np.inf, (OBS_SIZE,), np.float32),
        spaces.Box(0.0, 1.0, (1,), np.float32),
    )


class FraudEnv(gymnasium.Env):
    """Score card transactions one at a time; the bank investigates the top cards each day.

    ``gymnasium.make("learnloop/Fraud-v0", world_seed=0, part="train")``: a world after the
    Fraud Detection Handbook's simulator (see the module docstring for the vocabulary). Other
    ``world_seed`` values are other worlds (other customers, terminals and frauds): tune on
    some, report on others.

    ## Observation Space

    ``Box(0, inf, (19,), float32)``: the handbook's 15 features (``FEATURES``: amount,
    weekend, night, the customer's 1/7/30-day counts and mean amounts, the terminal's 1/7/30-day
    counts and fraud shares ending ``delay_days`` ago), then the card id, the terminal id, the
    day and the time of day (a fraction). Never the transaction's label.

    ## Action Space

    ``Box(0, 1, (1,), float32)``: a fraud score (higher: more suspicious). Non-finite scores
    raise ValueError; others are clipped to [0, 1].

    ## Rewards and info

    On the step that answers a day's last transaction, the bank investigates the
    ``daily_budget`` (100) open cards with the highest score that day (a card's score is its
    highest; cards known compromised are blocked and left out). The reward is the number of
    them compromised that day (frauds caught, card-level); 0 on other steps.
    ``info["days"]`` then lists one dict per closed day: ``day``, ``investigated`` (card ids),
    ``compromised`` (bool each), ``card_precision`` (caught / budget), and the labels that
    arrive now: ``revealed_obs`` (observations), ``revealed_fraud`` and ``revealed_now``
    (True: every transaction of today's investigated cards; False: the rest of the day
    ``delay_days`` ago, the handbook's feedback delay). No label arrives any other way.

    ## Episode End

    Terminated after the part's last transaction, with ``info["summary"]``: ``card_precision``
    (mean over the part's days: card precision@``daily_budget``), ``roc_auc`` and
    ``average_precision`` over the transactions of open cards, and counts.

    ## Arguments

    ``part`` ("train": the training and delay periods; "test": the test period after them),
    ``world_seed`` (0), ``daily_budget`` (100), ``history_days`` (40, feature warm-up),
    ``train_days`` (7), ``delay_days`` (7), ``test_days`` (7), ``n_customers`` (5,000),
    ``n_terminals`` (10,000). Bad values raise ValueError naming the option.

    ## Version History

    - v0: initial version.
    """

    metadata = {"render_modes": []}

    def __init__(self, **stream_kwargs: Any) -> None:
        self.stream = FraudStream(**stream_kwargs)
        self.observation_space, self.action_space = _spaces()
        self._row: np.ndarray | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start the part afresh (the world is fixed by ``world_seed``, not by ``seed``)."""
        super().reset(seed=seed)
        self.stream.reset()
        self._row = self.stream.serve(1)
        return self.stream.world.observations(self._row)[0], {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Score the current transaction and serve the next one."""
        if self._row is None:
            raise RuntimeError("call reset() before step()")
        reports = self.stream.answer(check_scores(action, 1))
        info: dict[str, Any] = {}
        if reports:
            info["days"] = _report_dicts(reports)
        reward = float(sum(r.compromised.sum() for r in reports))
        if self.stream.done:
            info["summary"] = self.stream.summary()
            obs = self.stream.world.observations(self._row)[0]
            self._row = None
            return obs, reward, True, False, info
        self._row = self.stream.serve(1)
        return self.stream.world.observations(self._row)[0], reward, False, False, info


class FraudVectorEnv(VectorEnv):
    """``num_envs`` consecutive transactions a step (the same stream and rules as FraudEnv).

    Slot i holds the stream's i-th next transaction. At the part's end the last step is padded
    with copies of the final transaction (``info["valid"]`` False; their scores are ignored),
    every slot terminates, and the same step returns the next pass's first observations
    (autoreset ``same_step``). A day's reward sits on the slot of its last transaction
    (``info["feedback"]`` marks those); ``info["days"]`` and ``info["summary"]`` as in FraudEnv.
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, num_envs: int = 1024, **stream_kwargs: Any) -> None:
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        self.num_envs = num_envs
        self.stream = FraudStream(**stream_kwargs)
        self.single_observation_space, self.single_action_space = _spaces()
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._rows: np.ndarray | None = None

    def _serve(self) -> np.ndarray:
        rows = self.stream.serve(self.num_envs)
        self._valid = np.arange(self.num_envs) < len(rows)
        self._rows = np.r_[rows, np.full(self.num_envs - len(rows), rows[-1])]
        return self.stream.world.observations(self._rows)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start the part afresh."""
        self.stream.reset()
        return self._serve(), {}

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Score the served transactions and serve the next ones."""
        if self._rows is None:
            raise RuntimeError("call reset() before step()")
        scores = check_scores(actions, self.num_envs)[self._valid]
        start = self.stream.rows[0] + self.stream.answered
        reports = self.stream.answer(scores)
        rewards = np.zeros(self.num_envs, dtype=np.float32)
        info: dict[str, Any] = {"valid": self._valid.copy()}
        for report in reports:
            last = self.stream.world.day_start[report.day + 1] - 1 - start
            rewards[last] += report.compromised.sum()
        info["feedback"] = np.zeros(self.num_envs, dtype=bool)
        info["feedback"][[self.stream.world.day_start[r.day + 1] - 1 - start for r in reports]] = (
            True
        )
        if reports:
            info["days"] = _report_dicts(reports)
        done = self.stream.done
        if done:
            info["summary"] = self.stream.summary()
            self.stream.reset()
        terminated = np.full(self.num_envs, done)
        return self._serve(), rewards, terminated, np.zeros(self.num_envs, bool), info
