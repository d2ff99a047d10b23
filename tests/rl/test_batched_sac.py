"""``sac_batched``: RLlib's own SAC learner (continuous loss) over one RLModule with a member
axis trains each seed as it would be trained alone (issue 20 item 2, for SAC on the price
interval).

Small and fast: the Calvano duopoly with prices from an interval, one session per seed,
16x16 networks, 100 updates; a local learner group (``num_learners: 0``).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("ray.rllib")

from rl_helpers import (  # noqa: E402
    DUOPOLY,
    assert_only_member_0_differs,
    assert_sac_resumes_exactly,
    assert_sac_run_twice_identical,
    assert_sac_seeds_alone,
    batched_sac_settings,
    bumped_updates,
    continuous_duopoly,
    sac_member_state,
)

from marketsai.economy import Economy, load_economy  # noqa: E402
from marketsai.errors import SpecError  # noqa: E402
from marketsai.rl.batched_dqn import train_batched  # noqa: E402
from marketsai.rl.batched_sac import BatchedSAC, BatchedSACRun  # noqa: E402
from marketsai.rl.seed_batched_sac import RLlibSACMembers, sac_learner_group  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

state = sac_member_state


@pytest.fixture(scope="module")
def interval():
    return Economy.from_dict(continuous_duopoly())


def train(economy, seeds, root_seed=5, **kw):
    return train_batched(economy, batched_sac_settings(**kw), seeds, root_seed=root_seed, run_class=BatchedSACRun)


def test_sac_batched_seeds_equal_seeds_alone(interval):
    assert_sac_seeds_alone(train, interval)


def test_a_loss_on_one_member_leaves_the_others_untouched():
    """Two learners, the same batches except member 0's rewards and draws (rewards large
    enough to be clipped; the temperature's gradient is not, or both would clip to the same
    unit step): every other member's weights, targets, temperature and Adam
    moments are bit-identical; member 0's differ, its temperature included."""
    M, k, gen = 3, 8, np.random.default_rng(0)
    make = lambda: RLlibSACMembers(sac_learner_group([11, 12, 13], 2, [16, 16], actor_lr=1e-3,  # noqa: E731
                                                     critic_lr=1e-3, alpha_lr=1e-2, initial_alpha=0.5,
                                                     target_entropy=None, tau=0.1, grad_clip=10.0, gamma=0.9))
    a, b = make(), make()
    batches = [{"obs": gen.normal(size=(M, k, 2)).astype(np.float32),
                "actions": gen.uniform(-1, 1, (M, k, 1)).astype(np.float32),
                "rewards": gen.normal(size=(M, k)).astype(np.float32),
                "next_obs": gen.normal(size=(M, k, 2)).astype(np.float32),
                "noise": gen.normal(size=(M, k, 1)).astype(np.float32),
                "noise_next": gen.normal(size=(M, k, 1)).astype(np.float32)} for _ in range(4)]

    def bump(batch):
        batch["rewards"][0] += 1e3
        batch["noise"][0] += 1.0
    bumped_updates(a, b, batches, bump)
    assert_only_member_0_differs(a, b, M)


def test_the_same_sac_batched_run_twice_is_bit_identical(interval):
    assert_sac_run_twice_identical(train, interval)


def test_an_interrupted_sac_batched_run_resumes_exactly(interval, tmp_path, monkeypatch):
    """RLlib's learner state and the temperature (which RLlib's state leaves out) come back:
    the resumed run equals the uninterrupted one bit for bit."""
    assert_sac_resumes_exactly(interval, tmp_path, monkeypatch, BatchedSACRun)


def test_the_policy_plays_prices_on_the_interval(interval):
    run = train(interval, [0], periods=30)
    pol = run.policies()[0]
    prices = pol.act(pol.agents[1], np.random.default_rng(0).uniform(1.4, 2.0, (5, run.grid.obs_dim)))
    assert prices.shape == (5, 1) and prices.dtype == np.float64
    assert np.all((prices >= run.grid.low) & (prices <= run.grid.high))


def test_decisions_neither_intervals_nor_one_grid_each_are_refused():
    econ = load_economy(DUOPOLY.parent / "sectors_2_grid.yaml")  # two grid decisions (next capital stocks)
    with pytest.raises(SpecError, match="interval decisions only, or one grid decision per agent"):
        BatchedSAC().check(econ, batched_sac_settings())


def test_several_interval_decisions_an_agent():
    """The two-sector economy's households decide two things (savings share on [0.10, 0.40],
    hours on [0.15, 0.55]): one two-dimensional action, the actor giving (loc, log-std) of
    each, the critics reading both, the policy playing both, each on its own interval; seeds
    trained together equal each trained alone, as with one decision."""
    econ = load_economy(DUOPOLY.parent / "two_sector_labor.yaml")
    BatchedSAC().check(econ, batched_sac_settings())
    run = train(econ, [0, 1], periods=60, learning_starts=20, grad_clip=None)
    assert run.grid.dim == 2 and run.buf["actions"].shape[-1] == 2 and run.updates == 41
    assert list(run.grid.low) == [0.10, 0.15] and list(run.grid.high) == [0.40, 0.55]
    pol = run.policies()[1]
    plays = pol.act(pol.agents[0], np.random.default_rng(0).normal(size=(7, run.grid.obs_dim)))
    assert plays.shape == (7, 2) and np.all((plays >= run.grid.low) & (plays <= run.grid.high))
    assert len(np.unique(plays[:, 0])) > 1  # a function of the state, not a constant
    alone, n = train(econ, [1], periods=60, learning_starts=20, grad_clip=None), run.per_seed  # 10 households
    for m in (0, n - 1):  # seed 1's first and last household
        for got, want in zip(state(run.ens, n + m), state(alone.ens, m), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
