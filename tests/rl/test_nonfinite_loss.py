"""A batched deep learner stops at its first non-finite loss with an error that names the
learner, the period and the member (seed and agent), and keeps its last good checkpoint.

Why: RLlib's learner sets NaN gradients to zero and steps on; a 500,000-period study once ran
four hours past its first NaN loss (docs/scaling.md). Here one member's replay rewards (its
rollout's, for PPO) turn NaN from a given period on: its loss is NaN from the next update.
Small: the duopoly, two seeds, two firms each (four members), a few dozen updates.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import rl_helpers as helpers  # noqa: E402

from marketsai.errors import NonFiniteLoss  # noqa: E402
from marketsai.rl.batched_dqn import BatchedRun, train_batched  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SEEDS, POISONED = [3, 4], 3  # member 3: seed 4's second firm


def poisoned(run_class: type, from_period: int) -> type:
    """``run_class`` whose member :data:`POISONED` sees NaN rewards from ``from_period`` on."""
    class Poisoned(run_class):
        def step(self):
            super().step()
            if self.periods >= from_period:
                self.buf["rewards"][POISONED] = np.nan
    return Poisoned


def stopped(economy, settings, run_class, tmp_path, from_period) -> NonFiniteLoss:
    with pytest.raises(NonFiniteLoss) as info:
        train_batched(economy, settings, SEEDS, tmp_path, root_seed=1, run_class=poisoned(run_class, from_period))
    return info.value


def assert_names_the_member(err: NonFiniteLoss, learner: str, economy, period: int, checkpoint, saved: int):
    assert err.members == (POISONED,)
    text = str(err)
    assert text.startswith(f"{learner}: non-finite loss at period {period} ")
    assert f"in seed 4 agent {economy.actors[1]};" in text
    assert f"{checkpoint} (period {saved})" in text and "resume" in text
    snap = torch.load(checkpoint, weights_only=False)["run"]  # nothing past the last good checkpoint
    assert snap["step_count"] == saved and np.isfinite(snap["buffers"]["rewards"]).all()


@pytest.mark.parametrize("backend", ["torch", "rllib"])
def test_dqn_batched_stops_at_the_first_nan_loss(duopoly, tmp_path, backend):
    if backend == "rllib":
        pytest.importorskip("ray.rllib")
    cfg = helpers.batched_dqn_settings(periods=80, checkpoint_every=40, backend=backend)
    err = stopped(duopoly, cfg, BatchedRun, tmp_path, from_period=50)
    assert_names_the_member(err, "dqn_batched", duopoly, 50, tmp_path / "dqn_batched.pt", 40)


def test_sac_batched_on_the_grid_stops_at_the_first_nan_loss(duopoly, tmp_path):
    pytest.importorskip("ray.rllib")
    from marketsai.rl.batched_sac import BatchedSACGridRun
    cfg = helpers.batched_sac_settings(periods=80, checkpoint_every=40)
    err = stopped(duopoly, cfg, BatchedSACGridRun, tmp_path, from_period=50)
    assert_names_the_member(err, "sac_batched", duopoly, 50, tmp_path / "sac_batched.pt", 40)


def test_ppo_batched_stops_at_the_first_nan_loss(duopoly, tmp_path):
    pytest.importorskip("ray.rllib")
    from marketsai.rl.batched_ppo import BatchedPPORun
    cfg = helpers.batched_ppo_settings(periods=75, checkpoint_every=25)
    # the second rollout (periods 26..50) holds NaN rewards: its update, at period 50, stops the run
    err = stopped(duopoly, cfg, BatchedPPORun, tmp_path, from_period=40)
    assert_names_the_member(err, "ppo_batched", duopoly, 50, tmp_path / "ppo_batched.pt", 25)


def nan_gradient_for(member: int):
    """A gradient hook that puts a NaN into ``member``'s slice: a finite loss, a NaN gradient."""
    def hook(grad):
        grad = grad.clone()
        grad[member] = float("nan")
        return grad
    return hook


@pytest.mark.parametrize("grad_clip", [None, 1.0])
@pytest.mark.parametrize("backend", ["torch", "rllib"])
def test_a_nan_gradient_under_a_finite_loss_stops_before_the_step(backend, grad_clip):
    """RLlib would set the gradient to zero and step; the members' weights stay as they were
    (with clipping the check reads the members' norms, without it sums the gradients)."""
    M, k, gen = 3, 8, np.random.default_rng(0)
    batch = {"obs": gen.normal(size=(M, k, 2)).astype(np.float32), "actions": gen.integers(0, 5, (M, k)),
             "rewards": gen.normal(size=(M, k)).astype(np.float32),
             "next_obs": gen.normal(size=(M, k, 2)).astype(np.float32)}
    if backend == "torch":
        from marketsai.rl.ensemble import DQNEnsemble
        ens = DQNEnsemble([torch.Generator().manual_seed(s) for s in range(M)], 2, [8], 5, grad_clip=grad_clip)
        update = lambda: ens.update(*(torch.from_numpy(batch[c]) for c in ("obs", "actions", "rewards",  # noqa: E731
                                                                           "next_obs")))
    else:
        pytest.importorskip("ray.rllib")
        from marketsai.rl.seed_batched_rllib import RLlibMembers, learner_group
        ens = RLlibMembers(learner_group(list(range(M)), 2, [8], 5, lr=1e-3, adam_epsilon=1e-8, grad_clip=grad_clip,
                                         gamma=0.9, double_q=True, huber=True, target_network_update_freq=10))
        update = lambda: ens.update(batch, 1)  # noqa: E731
    before = [p.detach().clone() for p in ens.online.parameters()]
    ens.online.weights[0].register_hook(nan_gradient_for(1))
    with pytest.raises(NonFiniteLoss, match="non-finite gradients in member 1$") as info:
        update()
    assert info.value.members == (1,)
    for a, b in zip(before, ens.online.parameters(), strict=True):
        assert torch.equal(a, b)
