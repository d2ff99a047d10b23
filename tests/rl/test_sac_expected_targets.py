"""``sac_batched``'s ``expected_targets`` (issue 22 item 2): the critics' target averaged
exactly over the economy's own aggregate chain (:mod:`marketsai.rl.expected_targets`).

Small: Brock-Mirman with a savings share (5 TFP states), 16x16 networks, a few dozen updates.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("ray.rllib")
from ray.rllib.core.columns import Columns  # noqa: E402
from rl_helpers import (  # noqa: E402
    ROOT,
    batched_sac_settings,
    interrupted_and_whole,
    sac_member_state,
    unchanged,
)

from marketsai.dynamics import exo_branches  # noqa: E402
from marketsai.economy import Economy, load_economy  # noqa: E402
from marketsai.errors import SpecError  # noqa: E402
from marketsai.rl.batched_dqn import train_batched  # noqa: E402
from marketsai.rl.batched_sac import BatchedSAC, BatchedSACRun  # noqa: E402
from marketsai.rl.expected_targets import NEXT_OBS_EACH, NEXT_PROBS  # noqa: E402
from marketsai.rl.seed_batched_sac import NOISE, NOISE_NEXT  # noqa: E402
from marketsai.yamlio import read_yaml  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SHARE = ROOT / "economies" / "brock_mirman_share.yaml"


def share_economy(z=None, **processes) -> Economy:
    """``brock_mirman_share.yaml`` with its TFP process ``z`` replaced, and more processes
    (observed beside z)."""
    data = read_yaml(SHARE)
    if z is not None:
        data["processes"]["z"] = z
    data["processes"] |= processes
    data["agents"][0]["observation"]["exo"] = ["z", *processes]
    return Economy.from_dict(data)


@pytest.fixture(scope="module")
def share():
    return load_economy(SHARE)


def settings(**kw) -> dict:
    return batched_sac_settings(**{"expected_targets": True, "sessions": 2, "update_every": 2, "periods": 80,
                                   "learning_starts": 20} | kw)


def train(economy, cfg, seeds=(0, 1)):
    return train_batched(economy, cfg, list(seeds), root_seed=3, run_class=BatchedSACRun)


@pytest.fixture(scope="module")
def trained(share):
    return train(share, settings())


def forward(run, batch: dict, expected: bool) -> dict:
    """The module's training columns on ``batch`` (arrays ``(M, k, ...)``), with the next
    states' columns or without them (the sampled target at ``next_obs``)."""
    names = {"obs": Columns.OBS, "actions": Columns.ACTIONS, "next_obs": Columns.NEXT_OBS, NOISE: NOISE,
             NOISE_NEXT: NOISE_NEXT} | ({NEXT_OBS_EACH: NEXT_OBS_EACH, NEXT_PROBS: NEXT_PROBS} if expected else {})
    flat = {names[c]: torch.from_numpy(np.ascontiguousarray(batch[c].reshape((-1,) + batch[c].shape[2:])))
            for c in names}
    with torch.no_grad():
        return run.ens.module._forward_train(flat)


def soft_value(out: dict, run) -> torch.Tensor:
    """RLlib's ``Q_target(s', a') - alpha log pi(a' | s')`` of each row, each member's temperature."""
    alpha = torch.exp(run.ens.log_alpha.detach()).repeat_interleave(len(out["q_target_next"]) // run.M)
    return out["q_target_next"] - alpha * out["logp_next_resampled"]


# ---------------------------------------------------------------- (a) a chain with no randomness
def test_a_one_state_chain_trains_bit_for_bit_as_the_sampled_target():
    """One TFP state: the expected target is the sampled one, and the whole training (weights,
    targets, temperatures, Adam moments) is bit-identical with the setting on and off."""
    econ = share_economy({"kind": "markov", "values": [1.0], "transition": [[1.0]]})
    on, off = train(econ, settings(periods=30)), train(econ, settings(periods=30, expected_targets=False))
    assert on.updates == off.updates == 6
    assert all(all(same) for same in unchanged(sac_member_state, on.ens, off.ens, on.M))


def test_degenerate_rows_give_the_sampled_target():
    """A chain that never leaves its state (identity rows): the expected target equals the
    sampled one at the realised next state, to float tolerance."""
    econ = share_economy({"kind": "markov", "values": [0.98, 1.02], "transition": [[1.0, 0.0], [0.0, 1.0]],
                         "initial": [0.5, 0.5]})
    run = train(econ, settings(periods=40))
    batch = run.sample_arrays()
    assert set(np.unique(batch[NEXT_PROBS])) == {0.0, 1.0}
    expected, sampled = forward(run, batch, True), forward(run, batch, False)
    for c in ("q_target_next", "logp_next_resampled"):
        np.testing.assert_allclose(expected[c].numpy(), sampled[c].numpy(), rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- (b) the sum over the chain's row
def test_the_expected_target_is_the_probability_weighted_sum_over_the_row(trained):
    """On the 5-state TFP chain: the module's soft value of the next state equals the sum over
    e' of P(e, e') times the sampled path's soft value at the next observation under e' (the
    same draw), and the chain rows are the economy's."""
    run = trained
    batch = run.sample_arrays()
    probs = batch[NEXT_PROBS].astype(float)
    rows = np.asarray(run.econ.exo_chain.P)
    assert all(np.isclose(rows, p, atol=1e-7).all(axis=1).any() for p in probs.reshape(-1, probs.shape[-1]))
    by_state = []
    for e in range(probs.shape[-1]):
        at_e = dict(batch, next_obs=batch[NEXT_OBS_EACH][:, :, e])
        by_state.append(soft_value(forward(run, at_e, False), run).numpy())
    hand = (probs.reshape(-1, probs.shape[-1]) * np.stack(by_state, axis=-1)).sum(-1)
    np.testing.assert_allclose(soft_value(forward(run, batch, True), run).numpy(), hand, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- (c) the stored next observations
class Forced:
    """A generator whose uniform draws are fixed: the chain lands where they say."""

    def __init__(self, u):
        self.u = list(u)

    def random(self, n):
        return np.full(n, self.u.pop(0))


def test_each_branch_is_the_economys_own_step_landing_there():
    """Two aggregate processes (a joint chain of 10 states, the first varying slowest): the
    observation of each branch equals what ``economy.step`` gives when its draws land on that
    joint state, and the branch probabilities are the product of the two chains' rows."""
    d = {"kind": "markov", "values": [0.0, 1.0], "transition": [[0.7, 0.3], [0.4, 0.6]]}
    econ = share_economy(d=d)
    rng = np.random.default_rng(0)
    state = econ.initial_state(rng, 3)
    x = rng.uniform(0.1, 0.6, (3, 1))
    stepped, _, _ = econ.step(state, x, rng)
    branches, probs = exo_branches(econ, state, stepped)
    chains = [p.chain for p in econ.aggregate]
    assert len(branches) == 10
    for e, branch in enumerate(branches):
        idx = np.unravel_index(e, (5, 2))
        for b in range(3):
            cdfs = [np.cumsum(c.P[state.exo[b, j]]) for j, c in enumerate(chains)]
            u = [cdf[i] - 0.5 * c.P[state.exo[b, j], i] for j, (c, cdf, i) in enumerate(zip(chains, cdfs, idx, strict=True))]
            one = state.sessions(b, b + 1)
            own, _, _ = econ.step(one, x[b:b + 1], Forced(u))
            assert np.array_equal(econ.observer.observe_actors(own), econ.observer.observe_actors(branch)[b:b + 1])
            assert probs[b, e] == pytest.approx(chains[0].P[state.exo[b, 0], idx[0]] * chains[1].P[state.exo[b, 1], idx[1]])


def test_the_replay_holds_the_realised_next_observation_among_the_branches(trained):
    """Every stored transition's sampled next observation is one of its branches, one of positive
    probability (the layout of seeds, sessions and members kept)."""
    n = trained.size
    each, nxt, probs = (trained.buf[c][:, :n] for c in (NEXT_OBS_EACH, "next_obs", NEXT_PROBS))
    hit = (each == nxt[:, :, None]).all(axis=-1)
    assert hit.any(axis=-1).all() and (probs[hit] > 0).all()


@pytest.mark.parametrize("policies", ["agent", "shared"])
def test_two_firms_store_each_ones_branches_in_its_own_rows(policies):
    """The Calvano duopoly on a price interval with its demand shock observed: each firm's
    (or the shared network's) rows hold that firm's branches, the realised one among them,
    with the chain's row (1/3 each)."""
    econ = load_economy(ROOT / "economies" / "calvano_stochastic_demand.yaml", overrides={
        "agents[0].action": {"kind": "interval", "xi": 0.1}, "agents[0].observation.exo": ["demand"]})
    run = BatchedSACRun(econ, settings(policies=policies, sessions=3, learning_starts=1000), [0, 1])
    run.advance(12)
    each, nxt, probs = (run.buf[c][:, :run.size] for c in (NEXT_OBS_EACH, "next_obs", NEXT_PROBS))
    assert each.shape[:3] == (run.M, 12 * (1 if policies == "agent" else 2), 3)
    assert (each == nxt[:, :, None]).all(axis=-1).any(axis=-1).all()
    np.testing.assert_allclose(probs, 1 / 3, rtol=1e-6)


# ---------------------------------------------------------------- (d) refusals
def test_what_does_not_qualify_is_refused_by_name(share):
    with pytest.raises(SpecError, match="discrete loss") as err:
        BatchedSAC().check(load_economy(ROOT / "economies" / "bertrand_duopoly.yaml"), settings())
    assert err.value.path == "expected_targets"
    households = load_economy(ROOT / "economies" / "aiyagari.yaml", overrides={"agents[0].count": 2})
    with pytest.raises(SpecError, match="one chain state per agent") as err:
        BatchedSAC().check(households, settings())
    assert err.value.path == "economy.processes.z.scope"
    with pytest.raises(SpecError, match="next observations per transition") as err:
        BatchedSACRun(share, settings(buffer_capacity=10**9), [0])
    assert err.value.path == "buffer_capacity"
    BatchedSAC().check(households, settings(expected_targets=False))  # the setting off: no refusal


# ---------------------------------------------------------------- (e) training and resuming
def test_an_interrupted_expected_targets_run_resumes_exactly(share, tmp_path, monkeypatch):
    """Two seeds of two sessions on Brock-Mirman: the run cut after its checkpoint at period 40
    and rerun equals the uninterrupted one bit for bit, its replay's branches included."""
    cfg = settings(periods=60, checkpoint_every=40)
    whole, resumed = interrupted_and_whole(share, cfg, tmp_path, monkeypatch, run_class=BatchedSACRun)
    assert resumed.periods == 60 and resumed.updates == whole.updates == 21
    assert all(all(same) for same in unchanged(sac_member_state, whole.ens, resumed.ens, 2))
    for c in (NEXT_OBS_EACH, NEXT_PROBS):
        assert np.array_equal(whole.buf[c], resumed.buf[c])


def test_the_setting_at_its_default_keeps_checkpoint_keys(share):
    """Runs checkpointed before the setting existed resume: its default is not in the key."""
    from marketsai.rl.batched_dqn import _key
    cfg = settings(expected_targets=False)
    before = {k: v for k, v in copy.deepcopy(cfg).items() if k != "expected_targets"}
    assert _key(share, cfg, [0], 0) == _key(share, before, [0], 0) != _key(share, settings(), [0], 0)
