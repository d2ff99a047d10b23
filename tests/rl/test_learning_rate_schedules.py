"""Learning rates (and PPO's entropy weight) as schedules in the batched learners
(``sac_batched``: ``actor_lr``, ``critic_lr``, ``alpha_lr``; ``ppo_batched``: ``lr``,
``entropy_coeff``): RLlib's own ``Scheduler``, stepped with the periods a seed has trained
(issue 22 item 2: annealed learning rates).

Small and fast: the interval duopoly of ``test_batched_sac.py`` and the grid duopoly of
``test_batched_ppo.py``, 16x16 networks, at most 100 updates.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("ray.rllib")

from rl_helpers import (  # noqa: E402
    DUOPOLY,
    batched_ppo_settings,
    batched_sac_settings,
    continuous_duopoly,
    interrupted_and_whole,
    sac_member_state,
    unchanged,
)

from marketsai.economy import Economy, load_economy  # noqa: E402
from marketsai.errors import SpecError  # noqa: E402
from marketsai.rl.batched_dqn import train_batched  # noqa: E402
from marketsai.rl.batched_ppo import BatchedPPORun  # noqa: E402
from marketsai.rl.batched_sac import BatchedSACRun  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def interval():
    return Economy.from_dict(continuous_duopoly())


def sac(economy, seeds=(0, 1), **kw):
    return train_batched(economy, batched_sac_settings(**kw), list(seeds), root_seed=5, run_class=BatchedSACRun)


def lrs(run) -> dict:
    return {name: opt.param_groups[0]["lr"] for name, opt in run.ens.optimizers.items()}


def test_a_constant_schedule_trains_as_the_number(interval):
    """The schedule path changes nothing but the rate: a flat schedule is the fixed rate,
    bit for bit, every member's weights, targets, temperature and Adam moments."""
    fixed = sac(interval, actor_lr=1e-3, critic_lr=2e-3, alpha_lr=1e-2)
    flat = sac(interval, actor_lr=[[0, 1e-3], [50, 1e-3]], critic_lr=[[0, 2e-3], [1000, 2e-3]],
               alpha_lr=[[0, 1e-2], [7, 1e-2]])
    assert fixed.updates == flat.updates == 100
    assert all(all(same) for same in unchanged(sac_member_state, fixed.ens, flat.ens, 4))


def test_the_rates_follow_their_schedules(interval):
    """After the last update (period 119) each optimiser's rate is its schedule's value
    there -- linear between points, the last value after the last point."""
    run = sac(interval, actor_lr=[[0, 1e-3], [219, 1e-4]], critic_lr=[[0, 1e-3], [100, 5e-4]],
              alpha_lr=[[0, 1e-2], [19, 1e-2], [119, 0.0]])
    got = lrs(run)
    assert got["policy"] == pytest.approx(1e-3 + (1e-4 - 1e-3) * 119 / 219, rel=1e-6)
    assert got["qf"] == got["qf_twin"] == pytest.approx(5e-4, rel=1e-6)
    assert got["alpha"] == 0.0


def test_a_temperature_schedule_ending_at_zero_freezes_the_temperature(interval):
    """``alpha_lr`` falling to 0 by period 60: the temperature after 119 periods is the one
    after 70 (updates past period 61 step with rate 0), while the actors keep learning."""
    schedule = [[0, 5e-2], [60, 0.0]]
    short, long = sac(interval, periods=70, alpha_lr=schedule), sac(interval, periods=119, alpha_lr=schedule)
    assert torch.equal(short.ens.log_alpha, long.ens.log_alpha)
    initial = np.log(batched_sac_settings()["initial_alpha"])
    assert np.all(np.abs(short.ens.log_alpha.detach().numpy() - initial) > 1e-3)  # it learned before the freeze
    assert not torch.equal(next(short.ens.module.pi.parameters()), next(long.ens.module.pi.parameters()))


def test_a_scheduled_run_resumes_exactly(interval, tmp_path, monkeypatch):
    """Cut after its checkpoint at period 40 and rerun: the schedules pick up where they
    were, and the resumed run equals the uninterrupted one bit for bit."""
    cfg = batched_sac_settings(periods=60, checkpoint_every=40, learning_starts=30,
                               actor_lr=[[0, 1e-3], [60, 1e-5]], critic_lr=[[0, 1e-3], [45, 1e-4]])
    whole, resumed = interrupted_and_whole(interval, cfg, tmp_path, monkeypatch, run_class=BatchedSACRun)
    assert resumed.periods == 60 and resumed.updates == whole.updates == 31
    assert all(all(same) for same in unchanged(sac_member_state, whole.ens, resumed.ens, 4))
    assert lrs(whole) == lrs(resumed)


def test_ppo_batched_takes_schedules():
    """``ppo_batched``: a flat learning-rate schedule trains as the number; a falling one
    ends at its value at the last rollout's period (125)."""
    duopoly = load_economy(DUOPOLY)
    ppo = lambda **kw: train_batched(duopoly, batched_ppo_settings(**kw), [3, 4], root_seed=1,  # noqa: E731
                                     run_class=BatchedPPORun)
    fixed, flat = ppo(), ppo(lr=[[0, 1e-3], [500, 1e-3]], entropy_coeff=[[0, 0.0], [10, 0.0]])
    for a, b in zip(fixed.ens.module.parameters(), flat.ens.module.parameters(), strict=True):
        assert torch.equal(a, b)
    falling = ppo(lr=[[0, 1e-3], [250, 1e-4]])
    assert falling.ens.optimizer.param_groups[0]["lr"] == pytest.approx(1e-3 + (1e-4 - 1e-3) * 125 / 250, rel=1e-6)
    assert not all(torch.equal(a, b) for a, b in zip(fixed.ens.module.parameters(),
                                                      falling.ens.module.parameters(), strict=True))


@pytest.mark.parametrize("bad", [[[10, 1e-3], [20, 1e-4]],          # first point not at period 0
                                 [[0, 1e-3]],                         # one point
                                 [[0, 1e-3], [20, 1e-4], [20, 1e-5]],  # periods not rising
                                 [[0, 1e-3], [20, -1e-4]],             # a negative rate
                                 [[0, 1e-3], [2.5, 1e-4]],             # a fractional period
                                 [0, 1e-3]])                           # not a list of points
def test_a_bad_schedule_names_its_field(bad):
    with pytest.raises(SpecError, match=r"learner\.settings\.actor_lr = .*schedule \[\[period, value\]") as err:
        batched_sac_settings(actor_lr=bad)
    assert "period 0" in str(err.value)


def test_a_schedule_is_written_to_the_resolved_settings_as_floats():
    assert batched_sac_settings(critic_lr=[[0, 1], [10, 0.5]])["critic_lr"] == [[0, 1.0], [10, 0.5]]
    assert np.isclose(batched_sac_settings(critic_lr=1)["critic_lr"], 1.0)
