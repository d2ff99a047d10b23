"""``dqn_batched``: seeds trained as one batch are the seeds trained alone (issue 20 item 2).

Small and fast: the Calvano duopoly, one session per seed, 32x32 networks, 100 updates.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rl_helpers import (  # noqa: E402
    BATCHED_DQN_SMALL,
    DUOPOLY,
    batched_dqn_settings,
    interrupted_and_whole,
    member_state,
)

from marketsai.economy import load_economy  # noqa: E402
from marketsai.errors import SpecError  # noqa: E402
from marketsai.rl.batched_dqn import train_batched  # noqa: E402
from marketsai.rl.ensemble import DQNEnsemble  # noqa: E402
from marketsai.rl.train_journal import JOURNAL, earlier_segments  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("one_torch_thread")
SMALL = BATCHED_DQN_SMALL
settings = batched_dqn_settings


@pytest.fixture(scope="module")
def duopoly():
    return load_economy(DUOPOLY)


def test_batched_seeds_equal_seeds_alone(duopoly):
    cfg = settings()
    together = train_batched(duopoly, cfg, [0, 1, 2], root_seed=5)
    assert together.updates == 100
    for k, seed in enumerate([0, 1, 2]):
        alone = train_batched(duopoly, cfg, [seed], root_seed=5)
        assert alone.updates == 100
        for m in range(2):  # each firm's network
            for a, b in zip(member_state(together, 2 * k + m), member_state(alone, m), strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # seeds differ from each other (the test above is not vacuous)
    assert not np.allclose(member_state(together, 0)[0], member_state(together, 2)[0])


def test_a_loss_on_one_seed_leaves_the_others_untouched():
    S = 3
    ens = DQNEnsemble([torch.Generator().manual_seed(s) for s in range(S)], 2, [16, 16], 5, gamma=0.9)
    gen = torch.Generator().manual_seed(0)
    batch = lambda: (torch.randn(S, 8, 2, generator=gen), torch.randint(0, 5, (S, 8), generator=gen),  # noqa: E731
                     torch.randn(S, 8, generator=gen), torch.randn(S, 8, generator=gen).reshape(S, 4, 2))
    for _ in range(5):  # moments are not zero
        obs, act, rew, nxt = batch()
        ens.update(obs, act, rew, torch.randn(S, 8, 2, generator=gen))
    ens.sync_target()
    obs, act, rew, _ = batch()
    nxt = torch.randn(S, 8, 2, generator=gen)
    start = {k: v.clone() for k, v in ens.online.state_dict().items()}
    import copy
    twin = copy.deepcopy(ens)
    bumped = rew.clone()
    bumped[0] += 100.0  # a different loss on seed 0 only
    ens.update(obs, act, rew, nxt)
    twin.update(obs, act, bumped, nxt)
    ens.sync_target()
    twin.sync_target()
    for (name, p), q in zip(ens.online.named_parameters(), twin.online.parameters(), strict=True):
        assert torch.equal(p[1:], q[1:]), name
        assert not torch.equal(p[0], q[0]), name
        assert not torch.equal(p[0], start[name][0])
        for key in ("exp_avg", "exp_avg_sq"):
            a, b = ens.optimizer.state[p][key], twin.optimizer.state[q][key]
            assert torch.equal(a[1:], b[1:]) and not torch.equal(a[0], b[0])
    for p, q in zip(ens.target.parameters(), twin.target.parameters(), strict=True):
        assert torch.equal(p[1:], q[1:])
    # and the gradient of seed 0's loss alone is zero on every other seed
    from marketsai.rl.ensemble import dqn_loss
    ens.online.zero_grad()
    dqn_loss(ens.online, ens.target, obs, act, rew, nxt, 0.9)[0].backward()
    for p in ens.online.parameters():
        assert p.grad[0].abs().sum() > 0 and torch.count_nonzero(p.grad[1:]) == 0


def test_clipping_is_per_seed():
    """A huge gradient on seed 0 is clipped to the norm; seed 1's small gradient is kept."""
    from marketsai.rl.ensemble import clip_per_member
    p = torch.nn.Parameter(torch.zeros(2, 3))
    p.grad = torch.tensor([[300.0, 400.0, 0.0], [0.3, 0.4, 0.0]])
    norms = clip_per_member([p.grad], 40.0)
    assert torch.allclose(norms, torch.tensor([500.0, 0.5]))
    assert torch.allclose(p.grad[0].norm(), torch.tensor(40.0)) and torch.equal(p.grad[1], torch.tensor([0.3, 0.4, 0.0]))


def test_the_same_batched_run_twice_is_bit_identical(duopoly):
    cfg = settings(periods=60)
    a, b = (train_batched(duopoly, cfg, [3, 4], root_seed=1) for _ in range(2))
    for x, y in zip(a.ens.state_dict()["online"].values(), b.ens.state_dict()["online"].values(), strict=True):
        assert torch.equal(x, y)
    assert np.array_equal(a.buf["actions"], b.buf["actions"])


def test_an_interrupted_run_resumes_exactly(duopoly, tmp_path, monkeypatch):
    whole, resumed = interrupted_and_whole(duopoly, settings(periods=80, checkpoint_every=40), tmp_path, monkeypatch)
    assert resumed.periods == 80 and resumed.updates == whole.updates
    for x, y in zip(whole.ens.state_dict()["online"].values(), resumed.ens.state_dict()["online"].values(),
                    strict=True):
        assert torch.equal(x, y)
    # the journal of segments (marketsai.rl.train_journal) holds both processes of the resumed run
    (one,) = json.loads((tmp_path / "whole" / JOURNAL).read_text())["segments"]
    assert (one["periods_from"], one["periods_to"], one["finished"]) == (0, 80, True)
    first, second = json.loads((tmp_path / "cut" / JOURNAL).read_text())["segments"]
    assert (first["periods_from"], first["periods_to"], first["finished"]) == (0, 40, False)
    assert (second["periods_from"], second["periods_to"], second["finished"]) == (40, 80, True)
    assert first["seconds"] > 0 and second["cpu_seconds"] > 0
    assert earlier_segments(tmp_path / "cut") == {"count": 2, "seconds": first["seconds"],
                                                   "cpu_seconds": first["cpu_seconds"], "complete": True}


def test_registered_learner_gives_one_greedy_policy_per_seed(duopoly, tmp_path):
    from marketsai.learners import learners
    from marketsai.policies import FunctionPolicy
    learner = learners.get("dqn_batched")()
    cfg = learner.check(duopoly, settings(periods=40))
    pols = learner.train(duopoly, cfg, [2, 7], tmp_path, root_seed=0)
    assert [p.info["seed"] for p in pols] == [2, 7] and all(isinstance(p, FunctionPolicy) for p in pols)
    obs = duopoly.observer.observe_actors(duopoly.initial_state(np.random.default_rng(0), 5))
    acts = pols[0].act("firm_1", obs[:, 1])
    assert acts.dtype == np.int64 and acts.shape == (5,) and ((0 <= acts) & (acts < 15)).all()
    again = learner.train(duopoly, cfg, [2, 7], tmp_path, root_seed=0)  # finished: read back, not retrained
    assert np.array_equal(again[1].act("firm_0", obs[:, 0]), pols[1].act("firm_0", obs[:, 0]))


def test_interval_decisions_are_refused():
    econ = load_economy(ROOT / "economies" / "rbc.yaml")
    from marketsai.learners import learners
    with pytest.raises(SpecError, match="grid decision"):
        learners.get("dqn_batched")().check(econ, settings())


def test_settings_are_checked():
    with pytest.raises(SpecError, match="learner.settings.policies"):
        settings(policies="group")
    with pytest.raises(SpecError, match="learner.settings.epsilon"):
        settings(epsilon=[[10, 1.0], [5, 0.1]])
    for bad in ([[0, 1.0]], [[5, 1.0], [10, 0.1]], [[0, 1.0], [10, 1.5]]):  # one point, not at 0, > 1
        with pytest.raises(SpecError, match=r"learner\.settings\.epsilon = .*period 0"):
            settings(epsilon=bad)
    assert settings(epsilon=0.05)["epsilon"] == 0.05  # a constant rate


def test_shared_networks_batched_equal_alone(duopoly):
    """``policies: shared`` (one network per seed for both firms): the same independence."""
    cfg = settings(periods=60, policies="shared")
    together = train_batched(duopoly, cfg, [0, 1], root_seed=2)
    alone = train_batched(duopoly, cfg, [1], root_seed=2)
    assert together.M == 2 and together.rows == 2  # a seed's network learns from both firms' rows
    for a, b in zip(member_state(together, 1), member_state(alone, 0), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# The kind: learn run of dqn_batched (the runner's seeds as the batch) is in tests/rl/test_seed_export.py,
# whose export tests read the same run.


def test_flush_denormal_flushes_only_while_learning(duopoly):
    """flush_denormal: subnormals are flushed inside the learning loop and nowhere else (torch's
    process-wide default is back after it); a short run without subnormals is unchanged by it,
    and a flushed run is still bit-identical when repeated."""
    from marketsai.rl.ensemble import denormals_flushed
    tiny = torch.tensor([1e-40])  # a float32 subnormal
    with denormals_flushed(True):
        assert (tiny * 1.0).item() == 0.0
    assert (tiny * 1.0).item() != 0.0
    with denormals_flushed(False):
        assert (tiny * 1.0).item() != 0.0
    seen = []
    original = torch.set_flush_denormal
    torch.set_flush_denormal = lambda on: (seen.append(on), original(on))[1]
    try:
        flushed = train_batched(duopoly, settings(periods=60, flush_denormal=True), [3, 4], root_seed=1)
    finally:
        torch.set_flush_denormal = original
    assert seen and seen[0] is True and seen[-1] is False and (tiny * 1.0).item() != 0.0
    plain = train_batched(duopoly, settings(periods=60), [3, 4], root_seed=1)
    again = train_batched(duopoly, settings(periods=60, flush_denormal=True), [3, 4], root_seed=1)
    for x, y, z in zip(flushed.ens.state_dict()["online"].values(), plain.ens.state_dict()["online"].values(),
                       again.ens.state_dict()["online"].values(), strict=True):
        assert torch.equal(x, z) and torch.equal(x, y)
