"""``ppo_batched``: RLlib's own PPO learner and loss over one RLModule with a member axis
trains each seed as it would be trained alone (issue 20 item 2, for PPO on the grid):
advantages standardised and minibatches cut per member, no KL penalty.

Small and fast: the Calvano duopoly, one session per seed, 16x16 networks, rollouts of 25
periods, 100 updates; a local learner group (``num_learners: 0``).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("ray.rllib")

from rl_helpers import (  # noqa: E402
    DUOPOLY,
    batched_ppo_settings,
    bumped_updates,
    interrupted_and_whole,
    stacked_state,
    unchanged,
)
from rl_helpers import assert_close as close  # noqa: E402

from marketsai.economy import load_economy  # noqa: E402
from marketsai.errors import SpecError  # noqa: E402
from marketsai.rl.batched_dqn import train_batched  # noqa: E402
from marketsai.rl.batched_ppo import BatchedPPORun  # noqa: E402
from marketsai.rl.seed_batched_ppo import RLlibPPOMembers, ppo_learner_group  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def train(economy, seeds, root_seed=5, **kw):
    return train_batched(economy, batched_ppo_settings(**kw), seeds, root_seed=root_seed, run_class=BatchedPPORun)


def state(ens: RLlibPPOMembers, m: int) -> list:
    """Member ``m``'s policy, value function and Adam moments."""
    return stacked_state(m, [*ens.module.pi.parameters(), *ens.module.vf.parameters()], [ens.optimizer])


def test_ppo_batched_seeds_equal_seeds_alone(duopoly):
    together = train(duopoly, [0, 1, 2])
    assert together.updates == 100
    for k, seed in enumerate([0, 1, 2]):
        alone = train(duopoly, [seed])
        for m in range(2):
            close(state(together.ens, 2 * k + m), state(alone.ens, m))
    assert not np.allclose(state(together.ens, 0)[0], state(together.ens, 2)[0])  # not vacuous


def test_a_loss_on_one_member_leaves_the_others_untouched():
    """Two learners, the same minibatches except member 0's advantages (large enough to be
    clipped): every other member's weights and Adam moments are bit-identical, member 0's differ."""
    M, k, A, gen = 3, 8, 5, np.random.default_rng(0)
    make = lambda: RLlibPPOMembers(ppo_learner_group([11, 12, 13], 2, [16, 16], A, lr=1e-3, clip_param=0.3,  # noqa: E731
                                                     vf_clip_param=10.0, vf_loss_coeff=1.0, entropy_coeff=0.01,
                                                     grad_clip=1.0))
    a, b = make(), make()
    batches = []
    for _ in range(4):
        obs = gen.normal(size=(M, k, 2)).astype(np.float32)
        batches.append({"obs": obs, "actions": gen.integers(0, A, (M, k)),
                        "logp": np.full((M, k), -np.log(A), np.float32), "logits": a.evaluate(obs)[0],
                        "advantages": gen.normal(size=(M, k)).astype(np.float32),
                        "value_targets": gen.normal(size=(M, k)).astype(np.float32)})

    def bump(batch):
        batch["advantages"][0] += 1e3
    bumped_updates(a, b, batches, bump)
    same = unchanged(state, a, b, M)
    assert all(all(s) for s in same[1:])
    policy = 2 * len(a.module.pi.weights)  # the policy's weights and biases come first
    assert not any(same[0][:policy])


def test_the_same_ppo_batched_run_twice_is_bit_identical(duopoly):
    a, b = (train(duopoly, [3, 4], root_seed=1, periods=50) for _ in range(2))  # 40 updates
    assert all(all(same) for same in unchanged(state, a.ens, b.ens, 4))
    assert np.array_equal(a.buf["actions"], b.buf["actions"])


def test_an_interrupted_ppo_batched_run_resumes_exactly(duopoly, tmp_path, monkeypatch):
    """Cut at period 40, in the middle of a 15-period rollout: the rollout so far, RLlib's
    learner state and the streams come back, and the resumed run equals the uninterrupted one."""
    cfg = batched_ppo_settings(periods=80, checkpoint_every=40, rollout_periods=15, minibatch_size=5, num_epochs=1)
    whole, resumed = interrupted_and_whole(duopoly, cfg, tmp_path, monkeypatch, run_class=BatchedPPORun)
    assert resumed.periods == 80 and resumed.updates == whole.updates == 5 * 3
    assert all(all(same) for same in unchanged(state, whole.ens, resumed.ens, 4))


def test_the_kl_penalty_is_not_a_setting():
    with pytest.raises(SpecError, match="kl_coeff"):
        batched_ppo_settings(kl_coeff=0.2)
    with pytest.raises(SpecError, match="minibatch"):
        BatchedPPORun(load_economy(DUOPOLY), batched_ppo_settings(minibatch_size=26), [0])


def test_the_rllib_only_learners_log_to_the_run_log():
    from marketsai.rl.batched_dqn import BatchedDQN
    from marketsai.rl.batched_ppo import BatchedPPO
    from marketsai.rl.batched_sac import BatchedSAC
    assert BatchedPPO().is_noisy({}) and BatchedSAC().is_noisy({})
    assert not BatchedDQN().is_noisy({}) and BatchedDQN().is_noisy({"backend": "rllib"})
