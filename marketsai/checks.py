"""Conformance checks that every market and economy must pass (ours and users').

Why: like gymnasium's ``check_env``, one function enforces the contract, so a user's
new market is checked by the same code that checks the shipped ones. Each check raises
``AssertionError`` with a message saying which property failed;
:func:`check_economy` returns a :class:`CheckReport` of what it checked when all pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from marketsai.markets.base import CompetitiveMarket, Market


def check_market(market: Market, seed: int = 0, tol: float = 1e-6) -> None:
    """Purity, batching, and the static benchmarks of one market.

    A competitive market is checked for its report contract instead
    (:func:`check_competitive_market`); whether the economy's clearing clears it is
    checked by :func:`check_clearing`.

    Parameters
    ----------
    market
        The market to check, built with its participants (``MyMarket(n, **params)``).
    seed
        Seed of the random actions it is probed with.
    tol
        Tolerance of the benchmark checks: ``nash()`` is a fixed point of each participant's
        best response (relative), no one-firm deviation gains, and the joint optimum beats
        Nash and nearby profiles in total profit (absolute).

    Raises
    ------
    AssertionError
        Naming the contract the market breaks.

    Examples
    --------
    >>> from marketsai.markets.cournot import CournotLinear
    >>> check_market(CournotLinear(3, intercept=10.0, slope=1.0, cost=[1.0, 1.5, 2.0]))
    """
    if isinstance(market, CompetitiveMarket):
        check_competitive_market(market, seed)
        return
    rng = np.random.default_rng(seed)
    n = market.n
    nash, coop = market.nash(), market.joint_optimum()
    assert nash.shape == (n,) and coop.shape == (n,), "nash/joint_optimum must have shape (n,)"
    lo, hi = min(nash.min(), coop.min()), max(nash.max(), coop.max())
    span = max(hi - lo, 1e-3 * max(1.0, abs(hi)))
    acts = rng.uniform(lo - span, hi + span, size=(7, 5, n))
    if market.action == "quantity":
        acts = np.abs(acts)
    before = acts.copy()
    out1, out2 = market.clear(acts), market.clear(acts)
    assert np.array_equal(acts, before), "clear() must not modify its input"
    for name, a, b in zip(out1._fields, out1, out2, strict=True):
        assert a.shape == acts.shape, f"clear().{name} must have the batch shape {acts.shape}, got {a.shape}"
        assert np.array_equal(a, b), f"clear() is not deterministic in {name}"
        assert np.all(np.isfinite(a)), f"clear().{name} has non-finite values"
    single = market.clear(acts[3, 2])
    assert np.allclose(single.profit, out1.profit[3, 2]), "batched and single clearing disagree"
    for i in range(n):
        br = market.best_response(i, nash)
        assert abs(br - nash[i]) <= tol * max(1.0, abs(nash[i])), \
            f"nash() is not a fixed point of best_response for participant {i}: {br} vs {nash[i]}"
        deviations = np.repeat(nash[None], 9, axis=0)
        deviations[:, i] = nash[i] + np.linspace(-0.5, 0.5, 9) * span
        if market.action == "quantity":
            deviations = np.maximum(deviations, 0.0)
        assert np.all(market.clear(deviations).profit[:, i] <= market.clear(nash).profit[i] + tol), \
            f"participant {i} gains by deviating from nash()"
    total = market.clear(coop).profit.sum()
    assert total >= market.clear(nash).profit.sum() - tol, "joint optimum earns less in total than Nash"
    perturbed = coop + rng.normal(scale=0.05 * span, size=(64, n))
    if market.action == "quantity":
        perturbed = np.maximum(perturbed, 0.0)
    assert np.all(market.clear(perturbed).profit.sum(axis=-1) <= total + tol), \
        "joint_optimum() is beaten by a nearby profile"


def check_competitive_market(market: CompetitiveMarket, seed: int = 0) -> None:
    """A competitive market's report: batch shapes, totals, traded and excess demand consistent."""
    rng = np.random.default_rng(seed)
    supply, demand = rng.uniform(0, 2, (2, 6, market.n))
    price = rng.uniform(0.5, 2, 6)
    rep = market.clear(supply, demand, price)
    assert rep.supply.shape == rep.demand.shape == (6, market.n), "report supply/demand must be (B, n)"
    for name in ("price", "traded", "excess_demand"):
        assert getattr(rep, name).shape == (6,), f"report {name} must be (B,)"
    assert np.allclose(rep.excess_demand, demand.sum(-1) - supply.sum(-1)), "excess demand is demand - supply"
    assert np.all(rep.traded <= np.minimum(supply.sum(-1), demand.sum(-1)) + 1e-12), "traded exceeds a side"


def check_clearing(economy, seed: int = 0, steps: int = 50, batch: int = 8, tol: float = 1e-10) -> dict:
    """Random decisions for ``steps`` periods: every competitive market clears, every budget holds.

    Budgets are recomputed here from the markets' reported prices, independently of the
    household's own arithmetic: ``c + k' = (1 + r - delta) k + w l e + pi`` with one good,
    ``c + p i = r k + w l e + pi`` with two. Returns the largest absolute excess demand and
    budget residual seen.

    Examples
    --------
    >>> import marketsai as mai
    >>> worst = check_clearing(mai.load_economy("economies/growth_market.yaml"), steps=5)
    >>> worst["excess_demand"] < 1e-10, worst["budget"] < 1e-10
    (True, True)
    """
    rng = np.random.default_rng(seed)
    clearing = economy.clearing
    assert clearing is not None, "the economy has no competitive markets"
    state = economy.initial_state(rng, batch)
    worst = {"excess_demand": 0.0, "budget": 0.0, "transfers": 0.0}
    from marketsai.agents.household import Household
    by_good = {economy.markets[k].good: economy.spec.markets[k].name for k in clearing.markets}
    inv = [economy.spec.markets[k].name for k in clearing.by_good.get("goods", [])
           if economy.markets[k].use == "investment"]
    households = [e for e in clearing.traders if isinstance(economy.entries[e].kind, Household)]
    for _ in range(steps):
        x = np.empty((batch, len(economy.decisions)))
        for d, s in enumerate(economy.decisions):
            x[:, d] = s.grid[rng.integers(0, s.size, batch)] if s.kind == "grid" else rng.uniform(s.low, s.high, batch)
        new, _, info = economy.step(state, x, rng)
        numeraire = info["markets"][economy.spec.markets[clearing.numeraire].name].price
        assert np.all(numeraire == 1.0), "the numeraire's price is not 1"
        for name, rep in info["markets"].items():
            ed = float(np.abs(rep.excess_demand).max())
            assert ed < tol, f"market {name} does not clear: |excess demand| = {ed:.3g}"
            worst["excess_demand"] = max(worst["excess_demand"], ed)
        r = info["markets"][by_good["capital"]].price[:, None]
        w = info["markets"][by_good["labour"]].price[:, None]
        for e in households:
            ent = economy.entries[e]
            out, k = info[ent.name], state.fields[f"{ent.name}.k"]
            income = r * k + w * out["labour"] + out["dividend"] + out.get("transfer", 0.0)
            if inv:
                p = info["markets"][inv[0]].price[:, None]
                i_bought = new.fields[f"{ent.name}.k"] - (1.0 - ent.kind.p["delta"]) * k
                gap = out["consumption"] + p * i_bought - income
            else:
                gap = out["consumption"] + new.fields[f"{ent.name}.k"] - (income + (1.0 - ent.kind.p["delta"]) * k)
            b = float(np.abs(gap).max())
            assert b < tol, f"the budget of {ent.name} does not hold: residual {b:.3g}"
            assert np.all(out["consumption"] > 0), f"{ent.name} consumes a non-positive amount"
            worst["budget"] = max(worst["budget"], b)
            if "transfer" in out:  # benefits and the tax that pays for them balance in every session
                t = float(np.abs(np.asarray(out["transfer"]).sum(axis=1)).max())
                assert t < tol * max(1, k.shape[1]), f"the transfers of {ent.name} do not balance: {t:.3g}"
                worst["transfers"] = max(worst["transfers"], t)
        state = new
    return worst


@dataclass(frozen=True)
class CheckReport:
    """What :func:`check_economy` checked: one line per check, all of them passed.

    A failed check raises ``AssertionError`` instead, so a report in hand means every
    check in it passed; ``str(report)`` is what ``marketsai check`` prints.

    Parameters
    ----------
    economy : str
        The economy's name.
    checks : tuple of (str, str)
        ``(check, what it established)`` in the order they ran.
    passed : bool
        True (a failing check raises before a report exists).
    """

    economy: str
    checks: tuple[tuple[str, str], ...]
    passed: bool = True

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        width = max((len(name) for name, _ in self.checks), default=0)
        lines = [f"economy {self.economy!r}: {len(self.checks)} checks "
                 + ("passed" if self.passed else "did not all pass")]
        lines += [f"  ok  {name:<{width}}  {detail}" for name, detail in self.checks]
        return "\n".join(lines)


def check_economy(economy, seed: int = 0, steps: int = 50) -> CheckReport:
    """Every market passes :func:`check_market`; environment and finite game agree.

    Parameters
    ----------
    economy : Economy
        The economy to check (e.g. from :func:`marketsai.load_economy`).
    seed : int
        Seed of the random decisions and of the environments' ``reset``.
    steps : int
        Periods simulated (competitive clearing: at most 20 of them).

    Returns
    -------
    CheckReport
        The checks that ran and what each established.

    Raises
    ------
    AssertionError
        The first check that fails, saying which property does not hold.

    Examples
    --------
    >>> import marketsai as mai
    >>> report = check_economy(mai.load_economy("economies/cournot_duopoly.yaml"))
    >>> report.passed, len(report.checks)
    (True, 4)
    >>> print(report)  # doctest: +ELLIPSIS
    economy 'cournot_duopoly': 4 checks passed
      ok  market goods (cournot_linear)  ...
    """
    from marketsai.economy import Economy
    from marketsai.errors import SpecError
    done = []
    for market, ms in zip(economy.markets, economy.spec.markets, strict=True):
        check_market(market, seed)
        what = ("report contract: batch shapes, totals, traded <= each side"
                if isinstance(market, CompetitiveMarket) else
                "pure, batched, Nash is a fixed point of best responses, no profitable "
                "deviation, joint optimum unbeaten nearby")
        done.append((f"market {ms.name} ({ms.type})", what))
    if economy.clearing is not None:
        worst = check_clearing(economy, seed, steps=min(steps, 20))
        done.append(("clearing", f"{min(steps, 20)} random periods: every competitive market "
                                 f"clears (max |excess demand| {worst['excess_demand']:.1e}), every "
                                 f"budget holds (max residual {worst['budget']:.1e})"))
    assert Economy.from_dict(economy.to_dict()) == economy, "from_dict(to_dict(x)) != x"
    done.append(("round trip", "Economy.from_dict(economy.to_dict()) == economy"))
    env_a, env_b = economy.parallel_env(max_cycles=steps), economy.parallel_env(max_cycles=steps)
    obs_a, _ = env_a.reset(seed=seed)
    obs_b, _ = env_b.reset(seed=seed)
    rng = np.random.default_rng(seed)
    try:
        game = economy.finite_game()
    except SpecError:
        game = None
    for _ in range(steps):
        for agent in env_a.agents:
            assert env_a.observation_space(agent).contains(obs_a[agent]), f"observation of {agent} out of space"
            assert np.array_equal(obs_a[agent], obs_b[agent]), "reset(seed) does not fix the simulation"
        actions = {}
        for agent in env_a.agents:
            space = env_a.action_space(agent)
            space.seed(int(rng.integers(2**31)))
            actions[agent] = space.sample()
        obs_a, rew, *_ = env_a.step(actions)
        obs_b, *_ = env_b.step(actions)
        if game is not None and game.n_exo == 1:
            j = game.joint_index([int(actions[a]) for a in economy.agents])
            expected = game.payoffs[0, j]
            got = np.array([rew[a] for a in economy.agents])
            assert np.allclose(got, expected, rtol=1e-12, atol=1e-12), "env rewards disagree with the finite game"
    done.append(("environment", f"{steps} random steps of the PettingZoo env: observations in "
                                f"their spaces, reset(seed={seed}) reproduces the simulation"))
    if game is not None and game.n_exo == 1:
        done.append(("finite game", f"the env's rewards equal the finite game's payoffs at "
                                    f"every one of the {steps} steps"))
    return CheckReport(economy.spec.name, tuple(done))
