"""learnloop/Fraud-v0: the handbook's simulator, its features, the daily investigations and the
feedback delay."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401  (registers the ids)
from envs.paradigms.fraud import (
    CARD,
    DAY,
    DAY_INDEX,
    FEATURES,
    FraudEnv,
    FraudVectorEnv,
    FraudWorld,
    WorldSize,
    average_precision,
)

SMALL = {"n_customers": 400, "n_terminals": 800, "history_days": 8, "train_days": 3,
         "delay_days": 2, "test_days": 3, "daily_budget": 10}  # fmt: skip


@pytest.fixture(scope="module")
def world() -> FraudWorld:
    """The handbook's sizes over 61 days."""
    world = FraudWorld(0, WorldSize(n_days=61))
    world.compute_features()
    return world


def test_gymnasium_checker_passes():
    with pytest.warns(UserWarning, match="infinity"):  # counts and amounts have no upper bound
        check_env(gymnasium.make("learnloop/Fraud-v0", **SMALL).unwrapped)


def test_same_seed_same_world_other_seed_other_world():
    size = WorldSize(300, 600, 20)
    a, b, c = FraudWorld(3, size), FraudWorld(3, size), FraudWorld(4, size)
    for name in ("customer", "terminal", "second", "amount", "fraud"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert len(a.amount) != len(c.amount) or not np.array_equal(a.amount, c.amount)
    assert np.array_equal(a.compute_features(), b.compute_features())


def test_scenarios_occur_at_the_handbooks_rates(world):
    per_day = np.bincount(world.scenario, minlength=4) / world.size.n_days
    # The handbook's 183 days: 978, 9,099 and 4,604 frauds (5.3, 49.7, 25.2 a day), 9.6k tx.
    assert 3 <= per_day[1] <= 9 and 35 <= per_day[2] <= 65 and 15 <= per_day[3] <= 35
    assert 9_000 <= len(world.amount) / world.size.n_days <= 10_500
    assert 0.006 <= world.fraud.mean() <= 0.011
    assert np.all(world.amount[world.scenario == 1] > 220)
    assert np.all(np.diff(world.day * DAY + world.second) >= 0)  # chronological


def test_compromised_customers_pay_five_times_more(world):
    s3 = world.scenario == 3
    ratio = world.amount / world.mean_amount[world.customer]
    assert np.median(ratio[s3]) > 3.5 and np.median(ratio[~world.fraud]) < 1.2


def test_features_match_a_direct_count(world):
    f = world.compute_features()
    rng = np.random.default_rng(0)
    time = world.day * DAY + world.second
    for i in rng.choice(np.flatnonzero(world.day > 40), 30, replace=False):
        same = (world.customer == world.customer[i]) & (time <= time[i])
        last7 = same & (time > time[i] - 7 * DAY)
        assert f[i, FEATURES.index("CUSTOMER_ID_NB_TX_7DAY_WINDOW")] == last7.sum()
        mean = world.amount[last7].mean()
        assert f[i, FEATURES.index("CUSTOMER_ID_AVG_AMOUNT_7DAY_WINDOW")] == pytest.approx(mean)
        # The terminal's 30-day window ends 7 days before the transaction (the delay).
        there = (world.terminal == world.terminal[i]) & (time <= time[i] - 7 * DAY)
        window = there & (time > time[i] - 37 * DAY)
        risk = world.fraud[window].mean() if window.any() else 0.0
        assert f[i, FEATURES.index("TERMINAL_ID_NB_TX_30DAY_WINDOW")] == window.sum()
        assert f[i, FEATURES.index("TERMINAL_ID_RISK_30DAY_WINDOW")] == pytest.approx(risk)


def _run(env: FraudVectorEnv, scorer) -> list[dict]:
    obs, _ = env.reset(seed=0)
    days = []
    while True:
        obs, _, terminated, _, info = env.step(scorer(obs))
        days += info.get("days", [])
        if terminated[0]:
            return days + [info["summary"]]


def test_labels_of_uninvestigated_cards_arrive_only_after_the_delay():
    env = FraudVectorEnv(64, part="train", world_seed=1, **SMALL)
    world, delay = env.stream.world, SMALL["delay_days"]
    *days, _ = _run(env, lambda obs: obs[:, 0] / 1000)  # scores: the amount
    assert [d["day"] for d in days] == list(range(env.stream.first_day, env.stream.end_day))
    late_days = set()
    for report in days:
        obs, now = report["revealed_obs"], report["revealed_now"]
        # At once: only the investigated cards' transactions of that very day.
        assert np.all(obs[now, DAY_INDEX] == report["day"])
        assert set(obs[now, CARD].astype(int)) <= set(report["investigated"].tolist())
        # Everyone else's: exactly `delay` days late, never earlier.
        assert np.all(obs[~now, DAY_INDEX] == report["day"] - delay)
        late_days |= set(obs[~now, DAY_INDEX].astype(int).tolist())
        rows = np.flatnonzero(world.day == report["day"])
        caught = np.isin(world.customer[rows[world.fraud[rows]]], report["investigated"])
        assert report["compromised"].sum() == len(
            np.unique(world.customer[rows[world.fraud[rows]][caught]])
        )
    assert late_days == set(range(env.stream.first_day, env.stream.end_day - delay))


def test_single_and_batched_envs_follow_the_same_rules():
    batched = _run(FraudVectorEnv(97, part="test", world_seed=2, **SMALL), lambda o: o[:, 12])
    env = FraudEnv(part="test", world_seed=2, **SMALL)
    obs, _ = env.reset(seed=0)
    rewards, done = [], False
    while not done:
        obs, reward, done, _, info = env.step(np.array([obs[12]]))
        rewards += [reward] if "days" in info else []
    assert info["summary"] == batched[-1]
    assert rewards == [float(d["compromised"].sum()) for d in batched[:-1]]


def test_an_oracle_beats_chance_and_known_cards_are_blocked():
    env = FraudVectorEnv(128, part="test", world_seed=0, **SMALL)
    world = env.stream.world
    oracle = _run(env, lambda obs: world.fraud[env._rows].astype(np.float32))[-1]
    flat = _run(env, lambda obs: np.zeros(len(obs)))[-1]
    assert oracle["card_precision"] > 3 * max(flat["card_precision"], 0.01)
    assert oracle["roc_auc"] == 1.0 and oracle["average_precision"] == 1.0


def test_average_precision_agrees_with_scikit_learn():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y, s = rng.random(500) < 0.1, np.round(rng.random(500), 1)  # with ties
    assert average_precision(y, s) == pytest.approx(sklearn_metrics.average_precision_score(y, s))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"part": "val"}, "part"), ({"daily_budget": 0}, "daily_budget"),
     ({"n_customers": 0}, "n_customers"), ({"delay_days": -1}, "delay_days"),
     ({"train_days": 1.5}, "train_days"), ({"world_seed": -3}, "world_seed")],
)  # fmt: skip
def test_bad_options_raise_a_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        FraudEnv(**{**SMALL, **kwargs})


def test_bad_scores_raise_a_value_error():
    env = FraudEnv(**SMALL)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="finite fraud scores"):
        env.step(np.array([np.nan]))
    with pytest.raises(RuntimeError, match="reset"):
        FraudEnv(**SMALL).step(np.array([0.5]))


def test_without_a_delay_every_label_arrives_once_the_same_day():
    env = FraudVectorEnv(64, part="train", world_seed=1, **{**SMALL, "delay_days": 0})
    *days, _ = _run(env, lambda obs: obs[:, 0] / 1000)
    told = np.concatenate([d["revealed_obs"] for d in days])
    assert len(told) == env.stream.size
    assert all(np.all(d["revealed_obs"][:, DAY_INDEX] == d["day"]) for d in days)
