"""Replay buffer, augmentation, the network's inference copy, and checkpoints of the network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from agents.zero.backend import ZeroAgent, load_network
from agents.zero.learner import augment
from agents.zero.network import NetworkShape, ZeroNet
from agents.zero.replay import ReplayBuffer, Samples
from envs.classic.connect_four import ConnectFourPositions
from envs.go.kernels import GoPositions


def samples(count: int, shape: tuple[int, int, int], actions: int, start: int = 0) -> Samples:
    rng = np.random.default_rng(start)
    policy = rng.random((count, actions)).astype(np.float32)
    return Samples(
        planes=rng.integers(0, 2, (count, *shape)).astype(np.uint8),
        masks=np.ones((count, actions), dtype=bool),
        policy=policy / policy.sum(1, keepdims=True),
        value=np.arange(start, start + count, dtype=np.float32),
        score=np.zeros(count, dtype=np.float32),
        ownership=np.zeros((count, *shape[1:]), dtype=np.int8),
    )


def test_replay_keeps_the_newest_and_round_trips(tmp_path: Path) -> None:
    buffer = ReplayBuffer(10, (2, 3, 3), 9)
    buffer.add(samples(7, (2, 3, 3), 9, start=0))
    buffer.add(samples(6, (2, 3, 3), 9, start=7))
    assert buffer.size == 10
    assert sorted(buffer.data.value.tolist()) == list(range(3, 13))  # 0-2 fell out
    buffer.save(tmp_path / "replay.npz")
    other = ReplayBuffer(10, (2, 3, 3), 9)
    other.load(tmp_path / "replay.npz")
    assert sorted(other.data.value.tolist()) == list(range(3, 13))
    other.add(samples(1, (2, 3, 3), 9, start=13))  # the oldest (3) goes first
    assert sorted(other.data.value.tolist()) == list(range(4, 14))
    with pytest.raises(ValueError, match="this game needs"):
        ReplayBuffer(10, (2, 4, 4), 17).load(tmp_path / "replay.npz")
    (tmp_path / "bad.npz").write_bytes(b"not an archive")
    with pytest.raises(ValueError, match="unreadable"):
        other.load(tmp_path / "bad.npz")


@pytest.mark.parametrize("positions", [GoPositions(5, komi=0.5), ConnectFourPositions()])
def test_augmentation_moves_targets_with_the_board(positions) -> None:  # noqa: ANN001
    """A policy that points at the player's own stones still does after any symmetry."""
    height, width = positions.board_shape
    batch = samples(64, positions.obs_shape, positions.num_actions)
    if positions.num_actions == height * width + 1:  # Go: actions are points
        policy = batch.planes[:, 0].reshape(64, -1).astype(np.float32)
        batch.policy = np.concatenate([policy, np.ones((64, 1), np.float32)], axis=1)
        batch.ownership = batch.planes[:, 1].astype(np.int8)
    out = augment(batch, positions, np.random.default_rng(0))
    assert not np.array_equal(out.planes, batch.planes)  # some positions moved
    if positions.num_actions == height * width + 1:
        np.testing.assert_array_equal(out.policy[:, :-1].reshape(64, height, width),
                                      out.planes[:, 0])  # fmt: skip
        np.testing.assert_array_equal(out.ownership, out.planes[:, 1])
    else:  # connect four: a column's target follows the column under the flip
        flipped = np.flatnonzero((out.planes != batch.planes).any(axis=(1, 2, 3)))
        np.testing.assert_array_equal(out.policy[flipped], batch.policy[flipped][:, ::-1])


def test_the_inference_copy_computes_what_the_network_does() -> None:
    torch.manual_seed(0)
    net = ZeroNet(NetworkShape(5, 7, 7, 50, channels=16, blocks=2))
    optimizer = torch.optim.AdamW(net.parameters(), 1e-3)
    for _ in range(5):  # move the batch-norm statistics off their start
        out = net(torch.rand(32, 5, 7, 7))
        loss = out["value"].pow(2).mean() + out["logits"].pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    net.eval()
    planes = torch.rand(8, 5, 7, 7)
    with torch.no_grad():
        plain, fused = net(planes), net.fused()(planes)
    for name in plain:
        torch.testing.assert_close(plain[name], fused[name], atol=1e-5, rtol=1e-4)


def test_agent_saves_loads_and_refuses_a_corrupt_file(tmp_path: Path) -> None:
    net = ZeroNet(NetworkShape(2, 3, 3, 9, channels=8, blocks=1, ownership=False))
    agent = ZeroAgent(net)
    agent.save(tmp_path)
    loaded = ZeroAgent(load_network(tmp_path, "cpu"))
    planes = np.random.default_rng(0).integers(0, 2, (4, 2, 3, 3)).astype(np.float32)
    masks = np.ones((4, 9), dtype=bool)
    masks[:, 4] = False
    for got, want in zip(loaded.policy_value(planes, masks), agent.policy_value(planes, masks),
                         strict=True):  # fmt: skip
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert (loaded.action_probabilities(planes, masks)[:, 4] == 0).all()
    assert agent.act(planes[0], masks[0]) != 4
    (tmp_path / "network.pt").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="could not be loaded"):
        load_network(tmp_path, "cpu")


def test_score_utility_mixes_the_margin_into_the_values() -> None:
    """With weight w the search's values are (1 - w) value + w tanh(margin / scale), the margin
    in points (the head predicts margin / points); w = 0 leaves the value head's own."""
    torch.manual_seed(1)
    net = ZeroNet(NetworkShape(5, 7, 7, 50, channels=8, blocks=1)).eval()
    agent = ZeroAgent(net)
    planes = np.random.default_rng(1).integers(0, 2, (6, 5, 7, 7)).astype(np.float32)
    masks = np.ones((6, 50), dtype=bool)
    with torch.no_grad():
        out = net(torch.from_numpy(planes))
    value, margin = out["value"].numpy(), out["score"].numpy() * 49
    priors, mixed = agent.score_policy_value(0.25, 4.0)(planes, masks)
    np.testing.assert_allclose(mixed, 0.75 * value + 0.25 * np.tanh(margin / 4.0), atol=1e-5)
    np.testing.assert_allclose(priors, agent.policy_value(planes, masks)[0], atol=1e-6)
    assert np.abs(mixed - value).max() > 1e-3  # the score head did move the values


@pytest.mark.parametrize("positions", [GoPositions(5, komi=0.5), ConnectFourPositions()])
def test_symmetry_averaged_evaluation_sees_every_view_of_a_board_alike(positions) -> None:  # noqa: ANN001
    """Averaged over all the board's symmetries, the network's answer on a turned board is its
    answer on the board, turned; one symmetry is the network itself."""
    from agents.zero.game import transform_planes
    from agents.zero.network import make_evaluate
    from agents.zero.player import averaged

    torch.manual_seed(2)
    height, width = positions.board_shape
    net = ZeroNet(NetworkShape(positions.obs_shape[0], height, width, positions.num_actions,
                               channels=8, blocks=1))  # fmt: skip
    evaluate = make_evaluate(net)
    planes = np.random.default_rng(2).integers(0, 2, (3, *positions.obs_shape)).astype(np.float32)
    masks = np.ones((3, positions.num_actions), dtype=bool)
    masks[:, 1] = False
    every = averaged(evaluate, positions, 8)
    logits, values = every(planes, masks)
    assert np.isneginf(logits[:, 1]).all() and np.allclose(np.exp(logits).sum(1), 1, atol=1e-5)
    for code in positions.symmetry_codes[1:]:
        perm = positions.action_permutation(code)
        moved_masks = np.empty_like(masks)
        moved_masks[:, perm] = masks
        moved_logits, moved_values = every(transform_planes(planes, code), moved_masks)
        np.testing.assert_allclose(moved_values, values, atol=1e-5)
        np.testing.assert_allclose(np.exp(moved_logits[:, perm]), np.exp(logits), atol=1e-5)
    plain = evaluate(planes, masks)
    one = averaged(evaluate, positions, 1)(planes, masks)
    np.testing.assert_allclose(one[1], plain[1], atol=1e-6)
    assert np.abs(values - plain[1]).max() > 1e-4  # a random network is not symmetric itself


@pytest.mark.parametrize("ema", [0.0, 0.5])
def test_the_weights_moving_average_is_the_trained_network_and_is_checkpointed(ema: float) -> None:
    """zero.ema=0.5: after two steps the trained network is half the first step's weights and
    half the second's (BatchNorm statistics too) while the learner trains the newest; a
    checkpoint's state brings the average back. zero.ema=0: the newest weights."""
    from agents.zero.config import ZeroConfig
    from agents.zero.learner import Learner

    positions = GoPositions(5, komi=0.5)
    shape = NetworkShape(positions.obs_shape[0], 5, 5, positions.num_actions, channels=8,
                         blocks=1, ownership=True)  # fmt: skip
    torch.manual_seed(0)
    learner = Learner(ZeroNet(shape), positions, ZeroConfig(ema=ema, batch_size=8), "cpu")
    batch = samples(8, positions.obs_shape, positions.num_actions)
    seen = []
    for _ in range(2):
        learner.train_step(batch)
        seen.append({k: v.detach().clone() for k, v in learner.net.state_dict().items()})
    trained = learner.trained_net.state_dict()
    if ema == 0:
        assert learner.trained_net is learner.net
        return
    for name in ("stem.0.weight", "stem.1.running_mean"):
        assert not torch.allclose(seen[0][name], seen[1][name])
        torch.testing.assert_close(trained[name], 0.5 * seen[0][name] + 0.5 * seen[1][name])
    other = Learner(ZeroNet(shape), positions, ZeroConfig(ema=ema, batch_size=8), "cpu")
    other.load_state(learner.state())
    torch.testing.assert_close(other.trained_net.state_dict(), trained)
    torch.testing.assert_close(other.net.state_dict(), learner.net.state_dict())
    state = learner.state()
    del state["average"]  # a checkpoint of a run without ema: the average starts again
    other.load_state(state)
    torch.testing.assert_close(other.trained_net.state_dict(), learner.net.state_dict())


def test_precision_names_a_number_format_and_refuses_others() -> None:
    from agents.zero.network import compute_dtype

    assert compute_dtype("float32", "cpu") is torch.float32
    assert compute_dtype("bfloat16", "cpu") is torch.bfloat16
    assert compute_dtype("auto", "cuda") is torch.float32  # GPUs keep float32 until measured
    native = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    assert compute_dtype("auto", "cpu") is (torch.bfloat16 if native else torch.float32)
    with pytest.raises(ValueError, match="zero.precision: 'half'"):
        compute_dtype("half", "cpu")


@pytest.mark.parametrize("compiled", [False, True])
def test_bfloat16_self_play_calls_give_float32_priors_and_values_near_float32s(compiled) -> None:  # noqa: ANN001
    from agents.zero.network import make_evaluate

    torch.manual_seed(2)
    net = ZeroNet(NetworkShape(5, 7, 7, 50, channels=16, blocks=2)).eval()
    planes = np.random.default_rng(2).integers(0, 2, (64, 5, 7, 7)).astype(np.float32)
    masks = np.ones((64, 50), dtype=bool)
    masks[:, 7] = False
    want = make_evaluate(net, compiled=compiled)(planes, masks)
    got = make_evaluate(net, compiled=compiled, dtype=torch.bfloat16)(planes, masks)
    assert got[0].dtype == np.float32 and got[1].dtype == np.float32
    assert np.isneginf(got[0][:, 7]).all()
    np.testing.assert_allclose(np.exp(got[0]), np.exp(want[0]), atol=0.02)
    np.testing.assert_allclose(got[1], want[1], atol=0.02)
    assert np.abs(got[1] - want[1]).max() > 0  # bfloat16 did run


def test_a_bfloat16_learner_keeps_float32_weights_and_follows_float32s_losses() -> None:
    """zero.precision=bfloat16 trains under autocast: the weights stay float32 and the losses
    track a float32 learner's from the same start, falling as it fits one batch."""
    from agents.zero.config import ZeroConfig
    from agents.zero.learner import Learner

    positions = GoPositions(5, komi=0.5)
    shape = NetworkShape(positions.obs_shape[0], 5, 5, positions.num_actions, channels=8,
                         blocks=1, ownership=True)  # fmt: skip
    batch = samples(32, positions.obs_shape, positions.num_actions)
    batch.value[:] = np.where(np.arange(32) % 2, 1.0, -1.0)
    losses = {}
    for precision in ("float32", "bfloat16"):
        torch.manual_seed(0)
        config = ZeroConfig(precision=precision, batch_size=32, augment=False)
        learner = Learner(ZeroNet(shape), positions, config, "cpu")
        losses[precision] = [learner.train_step(batch)["policy_loss"] for _ in range(30)]
        assert all(p.dtype == torch.float32 for p in learner.net.parameters())
    assert losses["bfloat16"][0] == pytest.approx(losses["float32"][0], rel=0.02)
    assert losses["bfloat16"][-1] < losses["bfloat16"][0] - 0.1
    assert losses["bfloat16"][-1] == pytest.approx(losses["float32"][-1], rel=0.1)
