"""Punishment length, IC and IR (marketsai.analysis.deviations) on hand-built strategies
with known answers, and against a plain transcription of the authors' loop."""

import numpy as np
import pytest

from marketsai.analysis import profile_q
from marketsai.analysis.deviations import deviation_statistics, pool_deviations
from marketsai.finite_game import FiniteGame

PD = np.array([[[3, 3], [0, 5]], [[5, 0], [1, 1]]], dtype=float)  # 0 cooperates, 1 defects


def pd_game(discount=0.9):
    return FiniteGame.from_matrix(PD, memory=1, discount=discount, actions=[[2, 1], [2, 1]])


def test_grim_trigger():
    # cooperate only after (C, C): the deviation is punished for ever, so it does not pay
    grim = np.array([[[0, 1, 1, 1], [0, 1, 1, 1]]])
    row = deviation_statistics(pd_game(), grim).iloc[0]
    assert row["deviations"] == 2  # a fixed point, each agent deviates once
    assert row["punishment_length"] == 2  # mutual defection is the new cycle from period 2
    assert row["ic_share"] == 1.0
    assert row["ir"] == pytest.approx(-0.5)  # the rival cuts its price from 2 to 1


def test_one_period_punishment_returns_and_pays():
    # after a unilateral deviation both defect once, after (D, D) both cooperate again:
    # deviation (t = 1), punishment (t = 2), back on (C, C) after period 3
    s = [0, 1, 1, 0]  # states (C,C), (C,D), (D,C), (D,D)
    row = deviation_statistics(pd_game(), np.array([[s, s]])).iloc[0]
    assert row["punishment_length"] == 3
    # gain 5 - 3 now, loss (3 - 1) delta next period: pays for every delta < 1
    assert row["ic_share"] == 0.0
    assert row["ir"] == pytest.approx(-0.5)


def test_deviation_equal_to_greedy_counts_as_paying():
    # always defect: the static best response is the greedy action itself
    alld = np.ones((1, 2, 4), dtype=int)
    row = deviation_statistics(pd_game(), alld).iloc[0]
    assert row["punishment_length"] == 1 and row["ic_share"] == 0.0 and row["ir"] == 0.0


def _twin(game, strat, start):
    """The authors' loop (DetailedAnalysis / computeIndividualIR / computeQCell) in plain
    Python, for one session: per (cycle state, deviator) rows."""
    n, m, M, S, d = game.n_agents, game.n_actions, game.n_joint, game.n_states, game.discount
    nxt = lambda s, j: (s * M) % S + j  # noqa: E731
    jnt = lambda s: game.joint_index(strat[:, s])  # noqa: E731
    seen, s = [], start
    while s not in seen:
        seen.append(s)
        s = nxt(s, jnt(s))
    cyc = seen[seen.index(s):]

    def qcell(s0, j1, i):
        pays, states, s = [game.payoffs[0, j1, i]], [], nxt(s0, j1)
        while s not in states:
            states.append(s)
            j = jnt(s)
            pays.append(game.payoffs[0, j, i])
            s = nxt(s, j)
        t0 = states.index(s) + 1  # periods t0 + 1 .. T form the cycle (1-based)
        head = sum(d**k * p for k, p in enumerate(pays[:t0]))
        tail = sum(d**k * p for k, p in enumerate(pays[t0:]))
        return head + d**t0 * tail / (1 - d ** (len(pays) - t0))

    rows = []
    for c in cyc:
        for i in range(n):
            acts = list(strat[:, c])
            best = max(range(m), key=lambda a: (game.payoffs[0, game.joint_index(
                acts[:i] + [a] + acts[i + 1:]), i], -a))
            j1 = game.joint_index(acts[:i] + [best] + acts[i + 1:])
            visited, s, t, length = [], nxt(c, j1), 1, None
            while length is None:
                if s in cyc:
                    length = t
                elif s in visited:
                    length = visited.index(s) + 1
                visited.append(s)
                s = nxt(s, jnt(s))
                t += 1
            j2 = jnt(nxt(c, j1))
            irs = [(game.prices[0, j2, r] - game.prices[0, j1, r]) / game.prices[0, j1, r]
                   for r in range(n) if r != i]
            rows.append((length, qcell(c, j1, i) < qcell(c, jnt(c), i), np.mean(irs)))
    return rows


@pytest.mark.parametrize("n,m,memory", [(2, 3, 1), (3, 2, 1), (2, 2, 2)])
def test_matches_plain_twin_on_random_strategies(n, m, memory):
    rng = np.random.default_rng(7)
    pay = rng.uniform(0, 1, size=(m,) * n + (n,))
    acts = np.tile(np.linspace(1.0, 2.0, m), (n, 1))
    game = FiniteGame.from_matrix(np.round(pay, 3), memory=memory, discount=0.9, actions=acts) \
        if _has_pure_nash(pay) else None
    if game is None:
        pytest.skip("no pure Nash equilibrium for this draw")
    strat = rng.integers(0, m, size=(25, n, game.n_states))
    start = rng.integers(0, game.n_states, size=25)
    tab = deviation_statistics(game, strat, start_states=start)
    for b in range(25):
        rows = _twin(game, strat[b], int(start[b]))
        assert tab["deviations"][b] == len(rows)
        assert tab["punishment_length"][b] == pytest.approx(np.mean([r[0] for r in rows]))
        assert tab["ic_share"][b] == pytest.approx(np.mean([r[1] for r in rows]))
        assert tab["ir"][b] == pytest.approx(np.mean([r[2] for r in rows]))


def _has_pure_nash(pay):
    try:
        FiniteGame.from_matrix(np.round(pay, 3))
        return True
    except ValueError:
        return False


def test_ic_agrees_with_profile_q():
    # the deviation values are Q^sigma of analysis.profile_q (computed by value iteration)
    rng = np.random.default_rng(3)
    game = pd_game(0.95)
    strat = rng.integers(0, 2, size=(40, 2, 4))
    tab = deviation_statistics(game, strat)
    q0 = profile_q(game, strat, agent=0)
    q1 = profile_q(game, strat, agent=1)
    from marketsai.analysis import limit_cycles
    cyc = limit_cycles(game, strat)
    for b in range(40):
        flags = []
        for c in cyc.states(b, game, strat):
            for i, q in ((0, q0), (1, q1)):
                acts = list(strat[b, :, c])
                dev = max((0, 1), key=lambda a: (PD[tuple(acts[:i] + [a] + acts[i + 1:])][i], -a))
                flags.append(q[b, c, dev] < q[b, c, strat[b, i, c]] - 1e-9)
        assert tab["ic_share"][b] == pytest.approx(np.mean(flags))


def test_pool_weighs_by_deviations_and_rejects_bad_games():
    tab = deviation_statistics(pd_game(), np.array([[[0, 1, 1, 1], [0, 1, 1, 1]],
                                                    [[1, 0, 0, 1], [1, 0, 0, 1]]]),
                               start_states=[0, 1])
    pooled = pool_deviations(tab)
    w = tab["deviations"].to_numpy()
    assert pooled["ic_share"] == pytest.approx(np.average(tab["ic_share"], weights=w))
    with pytest.raises(ValueError):
        deviation_statistics(pd_game(1.0), np.zeros((1, 2, 4), dtype=int))
