"""Conformance checks that every market and economy must pass (ours and users').

Why: like gymnasium's ``check_env``, one function enforces the contract, so a user's
new market is checked by the same code that checks the shipped ones. Each check raises
``AssertionError`` with a message saying which property failed.
"""

from __future__ import annotations

import numpy as np

from marketsai.markets.base import Market


def check_market(market: Market, seed: int = 0, tol: float = 1e-6) -> None:
    """Purity, batching, and the static benchmarks of one market.

    Examples
    --------
    >>> from marketsai.markets.cournot import CournotLinear
    >>> check_market(CournotLinear(3, intercept=10.0, slope=1.0, cost=[1.0, 1.5, 2.0]))
    """
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


def check_economy(economy, seed: int = 0, steps: int = 50) -> None:
    """Every market passes :func:`check_market`; environment and finite game agree.

    Examples
    --------
    >>> import marketsai as mai
    >>> check_economy(mai.load_economy("economies/cournot_duopoly.yaml"))
    """
    from marketsai.economy import Economy
    from marketsai.errors import SpecError
    for market in economy.markets:
        check_market(market, seed)
    assert Economy.from_dict(economy.to_dict()) == economy, "from_dict(to_dict(x)) != x"
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
