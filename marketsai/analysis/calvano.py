"""The ``calvano`` evaluation: profit gain, limit cycles, impulse responses, equilibrium checks.

Why one path: a converged tabular session and a trained network are measured by the same
code, so their columns and numbers are comparable by construction.

* **grid actions** (the economy has a :class:`~marketsai.finite_game.FiniteGame` with
  memory): the policy *is* a table on the game's states -- ``policy.strategies()`` when
  it holds one, else :func:`tabulate` asks ``policy.act`` on each state's observation
  (produced by the economy itself). Limit cycles from the start states give prices,
  profits and the profit gain Delta; impulse responses and the equilibrium check follow,
  exactly as the tabular runner computes them.
* **interval actions**: no finite state space; ``episodes`` simulations (:mod:`~marketsai.
  analysis.simulate`) of ``periods`` greedy periods, prices and profits averaged over the
  last ``tail``; for the impulse response the deviating agent plays once its static best
  response to the others' greedy prices (searched on a fine grid of its interval).

Start states (grid): the policy's ``start_state`` (where a tabular session converged; one
row) when it has one and ``start: auto``, else ``episodes`` uniform draws.

Benchmarks: every Delta (per firm and its mean) and the ``benchmarks`` table use one
definition, each firm's Nash and joint-optimum profits averaged over the demand-shock
states with their stationary distribution (:meth:`~marketsai.economy.Economy.expected_benchmarks`;
Calvano et al.'s stochastic-demand Delta), as the tabular kind's game does.

Tables
------
``results`` (one row per episode): see :attr:`CalvanoEvaluation.columns`.
``benchmarks`` (one row per firm; ``economy_tables``, once per run): ``agent``, ``name``,
``nash_price``, ``monopoly_price``, ``nash_profit``, ``coop_profit``, ``nash_share`` -- see
:func:`~marketsai.analysis.per_firm.firm_benchmarks`.
``impulse_response`` (one row per (episode, deviation, t)): ``session`` (the episode),
``deviation``, ``t``, ``price_<i>`` -- the tabular runner's table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketsai.analysis.cycles import limit_cycles
from marketsai.analysis.equilibrium import equilibrium_check
from marketsai.analysis.evaluation import Evaluation, evaluations
from marketsai.analysis.impulse import (
    DEVIATIONS,
    impulse_figures,
    impulse_response_paths,
    impulse_summary,
    paths_to_frame,
)
from marketsai.analysis.per_firm import (
    benchmark_lines,
    benchmark_summary,
    economy_benchmarks,
    per_firm_summary,
)
from marketsai.analysis.profit_gain import (
    plot_cycle_shares,
    plot_profit_gain_histogram,
    profit_gain,
    profit_gain_summary,
)
from marketsai.analysis.simulate import act, decision_values, simulate
from marketsai.errors import SpecError
from marketsai.params import Check, Param, int_range, nonnegative, nonnegative_int, one_of

_deviations = Check(lambda x: isinstance(x, list) and all(d in DEVIATIONS for d in x)
                    and len(set(x)) == len(x), "a list of distinct: " + ", ".join(DEVIATIONS))


def _grid_game(economy):
    """The economy's finite game when every decision is on a grid and it has memory, else None."""
    if not all(d.kind == "grid" for d in economy.decisions):
        return None
    game = economy.finite_game()
    if game.n_exo != 1:
        raise SpecError("the calvano evaluation does not read economies with demand shocks yet",
                        path="economy.shocks")
    return game


def state_observations(economy, game) -> dict[str, np.ndarray]:
    """Each actor's observation in every game state, ``(n_states, obs_dim)``.

    Produced by the economy itself: from a fresh state, play the ``k`` joint actions each
    state remembers (oldest first) through ``economy.step``; the observation then is the
    state's.
    """
    n, m, k, joint = game.n_agents, game.n_actions, game.memory, game.n_joint
    s = np.arange(game.n_states)
    rng = np.random.default_rng(0)
    state = economy.initial_state(rng, game.n_states)
    for lag in reversed(range(k)):  # oldest joint action first
        j = (s // joint**lag) % joint
        idx = np.stack(np.unravel_index(j, (m,) * n), axis=1)  # agent 0 most significant
        values = decision_values(economy, {a: idx[:, i] for i, a in enumerate(economy.actors)}, len(s))
        state, _, _ = economy.step(state, values, rng)
    return economy.observe(state)


def tabulate(economy, policy, game=None) -> np.ndarray:
    """The policy as a greedy table ``(n_agents, n_states)`` on the game's states: its own
    ``strategies()`` when it is one, else its actions on each state's observation."""
    game = _grid_game(economy) if game is None else game
    table = policy.strategies()
    if table is None:
        obs = state_observations(economy, game)
        table = np.stack([np.asarray(policy.act(a, obs[a])).reshape(-1) for a in economy.actors])
    table = np.asarray(table, dtype=np.int64)
    if table.shape != (game.n_agents, game.n_states):
        raise SpecError(f"a table policy of shape {table.shape} does not fit this game's "
                        f"(n_agents, n_states) = {(game.n_agents, game.n_states)}", path="policy")
    return table


def _per_agent(frame: pd.DataFrame, n: int, prices, profits, gains) -> pd.DataFrame:
    frame["mean_price"] = prices.mean(axis=1)
    frame["profit_gain"] = gains.mean(axis=1)
    for i in range(n):
        frame[f"mean_price_{i}"] = prices[:, i]
        frame[f"mean_profit_{i}"] = profits[:, i]
        frame[f"profit_gain_{i}"] = gains[:, i]
    return frame


@evaluations.register("calvano")
class CalvanoEvaluation(Evaluation):
    """Profit gain, limit cycles, impulse responses and equilibrium checks (module docstring)."""

    headline = ("profit_gain", "mean_price")

    settings = {
        "episodes": Param(100, int_range(1, 100_000), "random start states (grid) or simulations (interval)"),
        "start": Param("auto", one_of("auto", "random"),
                       "auto: the policy's start_state when it has one (one row), else random"),
        "impulse_response": Param(["best_response"], _deviations,
                                  "deviations traced from the limit cycle ([] for none; interval "
                                  "actions: best_response only)"),
        "impulse_periods": Param(25, int_range(1, 10_000), "periods after the shock"),
        "impulse_agent": Param(0, nonnegative_int, "index of the deviating agent"),
        "equilibrium_check": Param(True, one_of(True, False), "grid: are the greedy strategies best responses"),
        "equilibrium_rtol": Param(1e-9, nonnegative, "an action is optimal if Q* >= max Q* - rtol (1 + |max Q*|)"),
        "periods": Param(200, int_range(1, 1_000_000), "interval: greedy periods per simulation"),
        "tail": Param(50, int_range(1, 1_000_000), "interval: last periods averaged"),
    }
    columns = {
        "episode": "row number", "start_state": "grid: the game state play starts from (interval: NaN)",
        "cycle_length": "grid: periods of the limit cycle (interval: NaN)",
        "mean_price": "price on the cycle (interval: the tail), mean over agents",
        "profit_gain": "Delta = (profit - Nash) / (monopoly - Nash), mean over agents",
        "mean_price_<i>": "agent i's mean price", "mean_profit_<i>": "agent i's mean profit",
        "profit_gain_<i>": "agent i's Delta",
        "eq_*, osd_*, br_share_<i>": "grid with equilibrium_check: see analysis.equilibrium_check",
    }

    def check(self, economy) -> None:
        if len(economy.actors) < 1 or economy.benchmarks().empty:
            raise SpecError("the calvano evaluation needs strategic markets with Nash and monopoly "
                            "benchmarks", path="economy.markets")

    def evaluate(self, economy, policy, settings, seed=0):
        n = len(economy.actors)
        if settings["impulse_agent"] >= n:
            raise SpecError("no such agent", path="evaluate.impulse_agent",
                            value=settings["impulse_agent"], allowed=f"0..{n - 1}")
        game = _grid_game(economy)
        if game is None:
            return self._interval(economy, policy, settings, seed)
        return self._grid(economy, game, policy, settings, seed)

    # ------------------------------------------------------------ grid actions
    def _grid(self, economy, game, policy, settings, seed):
        table = tabulate(economy, policy, game)
        if settings["start"] == "auto" and policy.start_state is not None:
            starts = np.array([policy.start_state], np.int64)
        else:
            starts = np.random.default_rng(seed).integers(0, game.n_states, size=settings["episodes"])
        reps = np.repeat(table[None], len(starts), axis=0)
        cycles = limit_cycles(game, reps, start_states=starts)
        gains = profit_gain(cycles.mean_payoff, game.nash_payoff, game.coop_payoff)
        results = pd.DataFrame({"episode": np.arange(len(starts)), "start_state": starts,
                                "cycle_length": cycles.length})
        results = _per_agent(results, game.n_agents, cycles.mean_price, cycles.mean_payoff, gains)
        if settings["equilibrium_check"]:
            eq = equilibrium_check(game, reps, start_states=starts, rtol=settings["equilibrium_rtol"])
            for col in eq.columns.drop("session"):
                results[col] = eq[col].to_numpy()
        frames = []
        for dev in settings["impulse_response"]:
            paths = impulse_response_paths(game, reps, start_states=starts, periods=settings["impulse_periods"],
                                           deviation=dev, agent=settings["impulse_agent"])
            frame = paths_to_frame(paths)
            frame.insert(1, "deviation", dev)
            frames.append(frame)
        return {"results": results, **_impulse_table(frames)}

    # ------------------------------------------------------------ interval actions
    def _interval(self, economy, policy, settings, seed):
        if set(settings["impulse_response"]) - {"best_response"}:
            raise SpecError("interval actions have no grid Nash or Fortran deviation", path="evaluate.impulse_response",
                            value=settings["impulse_response"], allowed="[best_response] or []")
        periods, tail, horizon = settings["periods"], settings["tail"], settings["impulse_periods"]
        if tail > periods:
            raise SpecError("tail must not exceed periods", path="evaluate.tail", value=tail, allowed=f"<= {periods}")
        n, B = len(economy.actors), settings["episodes"]
        cols = [d for d, s in enumerate(economy.decisions) if s.market >= 0][:n]
        rng = np.random.default_rng(seed)
        run = simulate(economy, policy, periods, sessions=B, rng=rng,
                       record=lambda t, st, a, v, r, info, nx: {"price": info["price"][:, cols]})
        prices = run["price"][-tail:].mean(axis=0)
        profits = run["rewards"][-tail:].mean(axis=0)[:, economy.actor_index]
        bench = economy.expected_benchmarks().loc[list(economy.actors)]  # mean over shock states
        gains = profit_gain(profits, bench["nash_profit"].to_numpy(), bench["coop_profit"].to_numpy())
        results = pd.DataFrame({"episode": np.arange(B), "start_state": np.nan, "cycle_length": np.nan})
        results = _per_agent(results, n, prices, profits, gains)
        frames = []
        if settings["impulse_response"]:
            paths = np.empty((B, horizon + 1, n))
            paths[:, 0] = prices
            state, dev = run["state"], settings["impulse_agent"]
            _, values = act(economy, policy, state)  # deviation period: best response to the others
            for b in range(B):
                values[b, cols[dev]] = static_best_response(economy, cols[dev], values[b])
            state, _, info = economy.step(state, values, rng)
            paths[:, 1] = info["price"][:, cols]
            after = simulate(economy, policy, horizon - 1, state=state, rng=rng,
                             record=lambda t, st, a, v, r, info, nx: {"price": info["price"][:, cols]})
            if horizon > 1:
                paths[:, 2:] = after["price"].transpose(1, 0, 2)
            frame = paths_to_frame(paths)
            frame.insert(1, "deviation", "best_response")
            frames.append(frame)
        return {"results": results, **_impulse_table(frames)}

    # ------------------------------------------------------------ summary and figures
    def economy_tables(self, economy, settings):
        """``benchmarks``: each firm's Nash and monopoly price and profit
        (:func:`marketsai.analysis.per_firm.economy_benchmarks`)."""
        return {"benchmarks": economy_benchmarks(economy)}

    def summarise(self, tables, settings):
        cycles = tables["results"]["cycle_length"]
        return {**calvano_summary(tables, settings["impulse_agent"]),
                "cycle_length_mean": float(cycles.mean()) if cycles.notna().all() else None}

    def figures(self, tables, economy, settings):
        res = tables["results"]
        figs = {"profit_gain_histogram": plot_profit_gain_histogram(res)}
        if res["cycle_length"].notna().all():
            figs["cycle_lengths"] = plot_cycle_shares(profit_gain_summary(res))
        imp = tables.get("impulse_response")
        if imp is not None and len(imp):
            bench = tables["benchmarks"] if "benchmarks" in tables else economy_benchmarks(economy)
            figs |= impulse_figures(imp, settings["impulse_agent"], list(economy.actors),
                                    *benchmark_lines(bench))
        return figs


def _impulse_table(frames) -> dict:
    return {"impulse_response": pd.concat(frames, ignore_index=True)} if frames else {}


def static_best_response(economy, column: int, values: np.ndarray, points: int = 2001, rounds: int = 1) -> float:
    """The static best response of interval decision ``column`` to the other decisions'
    ``values`` ``(n_decisions,)``: the most profitable of ``points`` prices over its
    interval; each further round searches ``points`` prices between the best one's two
    neighbours (two rounds of 2001: to about ``width / 4e6``)."""
    d = economy.decisions[column]
    low, high, best = d.low, d.high, d.low
    for _ in range(rounds):
        grid = np.linspace(low, high, points)
        k = int(np.argmax(decision_profits(economy, column, grid, values)))
        best, low, high = grid[k], grid[max(k - 1, 0)], grid[min(k + 1, points - 1)]
    return float(best)


def decision_profits(economy, column: int, prices, values=None) -> np.ndarray:
    """The profit of decision ``column``'s agent at each of ``prices``, the other decisions
    at ``values`` ``(n_decisions,)`` (default: zeros), from the markets (``economy.clear``)."""
    prices = np.asarray(prices, dtype=float)
    trial = np.zeros((len(prices), len(economy.decisions))) if values is None else \
        np.repeat(np.asarray(values, dtype=float)[None, :], len(prices), axis=0)
    trial[:, column] = prices
    rewards, _, _ = economy.clear(trial)
    return rewards[:, economy.decisions[column].agent]


def calvano_summary(tables: dict, impulse_agent: int = 0) -> dict:
    """The summary keys of a tabular Calvano run (the ``tabular`` kind's, value for value),
    from an evaluation's tables: ``sessions`` (rows), ``mean_price``, ``profit_gain``,
    ``profit_gain_sd``, ``cycle_share_<c>``, ``profit_gain_cycle_<c>``, ``table_1`` (Calvano et al.'s Table I
    layout), ``<eq>_share``, per deviation the keys of
    :func:`~marketsai.analysis.impulse.impulse_summary` (``impulse_<dev>_t2_rival_<i>`` per
    rival among them) and, from a ``benchmarks`` table, the per-firm keys of
    :func:`~marketsai.analysis.per_firm.per_firm_summary` (``mean_price_<i>``,
    ``profit_gain_<i>``, ``nash_profit_<i>``, ``coop_profit_<i>``, ``profit_gain_total``, ...)
    and of :func:`~marketsai.analysis.per_firm.benchmark_summary` (``nash_price``,
    ``monopoly_price`` and ``nash_price_<i>``, ``monopoly_price_<i>``)."""
    res = tables["results"]
    out: dict = {"sessions": int(len(res)), "mean_price": float(res["mean_price"].mean()),
                 "profit_gain": float(res["profit_gain"].mean()),
                 "profit_gain_sd": float(res["profit_gain"].std(ddof=1)) if len(res) > 1 else None}
    if res["cycle_length"].notna().all():
        t1 = profit_gain_summary(res)
        for _, row in t1[t1["cycle"] != "all"].iterrows():
            key = row["cycle"].replace("+", "plus")
            out[f"cycle_share_{key}"] = float(row["share"])
            out[f"profit_gain_cycle_{key}"] = None if np.isnan(row["mean"]) else float(row["mean"])
        out["table_1"] = t1.replace({np.nan: None}).to_dict(orient="records")
    for col in ("eq_on_path", "eq_all_states", "osd_on_path", "osd_all_states"):
        if col in res:
            out[f"{col}_share"] = float(res[col].mean())
    imp = tables.get("impulse_response")
    if imp is not None and len(imp):
        for dev, frame in imp.groupby("deviation", sort=False):
            out |= impulse_summary(frame.drop(columns="deviation"), dev, impulse_agent)
    bench = tables.get("benchmarks")
    if bench is not None:  # per firm: Delta, prices, benchmarks (kind: tabular's keys)
        bench = bench.drop_duplicates("agent").sort_values("agent")  # evaluations over seeds
        shares = None if bench["nash_share"].isna().any() else bench["nash_share"].to_numpy()
        if len(bench) > 1:
            out |= per_firm_summary(res, bench["nash_profit"].to_numpy(), bench["coop_profit"].to_numpy(),
                                    shares)
        out |= benchmark_summary(bench)
    return out
