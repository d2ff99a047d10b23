"""Seeds as a batch inside RLlib (``dqn_batched``, ``backend: rllib``): RLlib's own DQN learner
over one RLModule with a member axis trains each seed as it would be trained alone (issue 20
item 2).

Small and fast: the Calvano duopoly, one session per seed, 32x32 networks, 100 updates; a
local learner group (no Ray cluster: ``num_learners: 0`` builds the learner in this process).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("ray.rllib")

from rl_helpers import assert_close as close  # noqa: E402
from rl_helpers import batched_dqn_settings, interrupted_and_whole, member_state  # noqa: E402

from marketsai.rl.batched_dqn import train_batched  # noqa: E402
from marketsai.rl.seed_batched_rllib import MODULE_ID, RLlibMembers, learner_group  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def rllib(**kw) -> dict:
    return batched_dqn_settings(backend="rllib", **kw)


def test_rllib_batched_seeds_equal_seeds_alone(duopoly):
    together = train_batched(duopoly, rllib(), [0, 1, 2], root_seed=5)
    assert isinstance(together.ens, RLlibMembers) and together.updates == 100
    assert together.ens.learner.last_update_ts_by_mid[MODULE_ID] == 90  # RLlib copied the targets at 30, 60, 90
    for k, seed in enumerate([0, 1, 2]):
        alone = train_batched(duopoly, rllib(), [seed], root_seed=5)
        for m in range(2):  # each firm's network
            close(member_state(together, 2 * k + m), member_state(alone, m))
    assert not np.allclose(member_state(together, 0)[0], member_state(together, 2)[0])  # not vacuous


def test_rllibs_loss_is_our_plain_torch_loss(duopoly):
    """RLlib's ``DQNTorchLearner`` (times M) over the stacked module and the plain-torch
    ensemble, from the same streams: the same weights, targets and Adam moments."""
    cfg = {"periods": 90}
    ours = train_batched(duopoly, batched_dqn_settings(**cfg), [0, 3], root_seed=1)
    theirs = train_batched(duopoly, rllib(**cfg), [0, 3], root_seed=1)
    assert type(ours.ens).__name__ == "DQNEnsemble" and ours.updates == theirs.updates == 71
    for m in range(4):
        close(member_state(ours, m), member_state(theirs, m))


def test_a_loss_on_one_member_leaves_the_others_untouched():
    """Two learners, the same batches except member 0's rewards (large enough to be clipped):
    every other member's weights, Adam moments and targets are bit-identical, and member 0's
    differ."""
    M, k, gen = 3, 8, np.random.default_rng(0)
    make = lambda: RLlibMembers(learner_group([11, 12, 13], 2, [16, 16], 5, lr=1e-3, adam_epsilon=1e-8,  # noqa: E731
                                              grad_clip=1.0, gamma=0.9, double_q=True, huber=False,
                                              target_network_update_freq=5))
    a, b = make(), make()
    for t in range(1, 5):  # moments are not zero, a target copy at periods 5 and 10
        batch = {"obs": gen.normal(size=(M, k, 2)).astype(np.float32), "actions": gen.integers(0, 5, (M, k)),
                 "rewards": gen.normal(size=(M, k)).astype(np.float32),
                 "next_obs": gen.normal(size=(M, k, 2)).astype(np.float32)}
        bumped = {c: v.copy() for c, v in batch.items()}
        bumped["rewards"][0] += 1e3
        a.update(batch, 3 * t)
        b.update(bumped, 3 * t)
    assert a.learner.last_update_ts_by_mid[MODULE_ID] == 12
    for net in ("online", "target"):
        for p, q in zip(getattr(a, net).parameters(), getattr(b, net).parameters(), strict=True):
            assert torch.equal(p[1:], q[1:]) and not torch.equal(p[0], q[0]), net
    for p, q in zip(a.online.parameters(), b.online.parameters(), strict=True):
        for key in ("exp_avg", "exp_avg_sq"):
            x, y = a.optimizer.state[p][key], b.optimizer.state[q][key]
            assert torch.equal(x[1:], y[1:]) and not torch.equal(x[0], y[0])


def test_the_same_rllib_batched_run_twice_is_bit_identical(duopoly):
    cfg = rllib(periods=60)
    a, b = (train_batched(duopoly, cfg, [3, 4], root_seed=1) for _ in range(2))
    for x, y in zip(a.ens.online.state_dict().values(), b.ens.online.state_dict().values(), strict=True):
        assert torch.equal(x, y)
    assert np.array_equal(a.buf["actions"], b.buf["actions"])


def test_an_interrupted_rllib_run_resumes_exactly(duopoly, tmp_path, monkeypatch):
    """The learner's RLlib state and its last target-update timestep come back: the resumed
    run equals the uninterrupted one bit for bit (the last target copy before the cut was at
    period 35, the next is due at 50: a learner that forgot it would copy at 41)."""
    cfg = rllib(periods=80, checkpoint_every=40, target_network_update_freq=15)
    whole, resumed = interrupted_and_whole(duopoly, cfg, tmp_path, monkeypatch)
    assert resumed.periods == 80 and resumed.updates == whole.updates
    for m in range(4):
        for x, y in zip(member_state(whole, m), member_state(resumed, m), strict=True):
            assert np.array_equal(x, y)


def test_rllib_backend_logs_go_to_the_run_log():
    from marketsai.runner.kinds import get_kind
    learn = get_kind("learn")
    assert learn.noisy({"learner": {"name": "dqn_batched", "settings": {"backend": "rllib"}}}) is True
    assert learn.noisy({"learner": {"name": "dqn_batched", "settings": {"backend": "torch"}}}) is False
