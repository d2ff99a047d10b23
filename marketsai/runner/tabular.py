"""The ``tabular`` experiment kind: independent Q-learning sessions on an economy's
finite game (Calvano et al. 2020 and its variations) or finite model (a planner on a
capital grid, a memoryless monopolist).

Which engine path: an economy whose ``finite_game()`` exists with memory ``k >= 1``
runs on the game (today's memory kernel, numbers and speed unchanged); any other runs
on ``Economy.finite_model()`` (the general kernel; before the economy had that method,
``FiniteModel.from_game(finite_game())``). Models have no equilibrium check or impulse
responses (those analyses read a game); they are skipped there.

Experiment keys (besides the common ones, see :mod:`marketsai.runner.config`)::

    sessions: 1000        # independent sessions; session i's RNG stream is (seed, i)
    chunk_size: 50        # sessions per chunk (the unit of resume and of Ray tasks)
    learner: {...}        # every QLearningConfig field (alpha, beta, exploration, ...)
    analysis:
      impulse_response: [best_response]   # deviations: best_response, nash, calvano_fortran
      impulse_periods: 25                 # periods after the shock
      impulse_agent: 0                    # the deviating agent
      equilibrium_check: true             # best-response / subgame-perfection check
      equilibrium_rtol: 1.0e-9            # tolerance of "optimal" in that check
      dp_agreement: false                 # single-agent models: share of states where the
                                          # greedy action is the DP optimum
      growth: false                       # planner on a capital grid: accuracy columns below

Tables: ``results`` -- one row per session: the engine's columns (``session, seed,
converged, periods, cycle_length, mean_price, profit_gain, mean_price_<i>,
mean_profit_<i>, profit_gain_<i>``) plus, with ``equilibrium_check``, ``eq_on_path``,
``eq_all_states``, ``eq_on_path_<i>``, ``eq_all_states_<i>``, ``br_share_<i>`` and the
one-shot-deviation flags ``osd_on_path[_<i>]``, ``osd_all_states[_<i>]`` (see
:func:`marketsai.analysis.equilibrium_check`; ``osd_on_path`` is Calvano et al.'s
"equilibrium on path"), with ``deviations``, ``deviations, punishment_length, ic_share,
ir`` (:mod:`marketsai.analysis.deviations`), and with several firms ``profit_gain_total``
(:mod:`marketsai.analysis.per_firm`; ``analysis.profit_gain: total`` makes it the
session's ``profit_gain``). Games whose agents do not observe the shock are analysed on
:meth:`~marketsai.finite_game.FiniteGame.marginal`. On a model without strategic benchmarks
the columns are ``session, seed, converged, periods, cycle_length, mean_<outcome>,
mean_<outcome>_<i>, mean_reward_<i>`` (cycle empty when the model has exogenous
shocks) and, with ``dp_agreement``, ``dp_agreement`` (share of all states whose greedy
action equals :func:`marketsai.solvers.dp.value_iteration`'s policy) and
``dp_optimal`` (share whose greedy action is optimal within ``equilibrium_rtol``, ties
included), and, with ``growth`` (a one-planner economy on its capital grid; see
:mod:`marketsai.analysis.growth`), ``euler_mean, euler_max`` (log10 Euler errors of the
greedy table read as a rule linear in k, on (0.8, 1.2) k_ss), ``euler_ergodic_mean,
euler_ergodic_max`` (on its own simulated path), ``policy_err_max, policy_err_mean``
(``|k'/k'_ref - 1|`` on the reference's ergodic set; reference: the Brock--Mirman closed
form, else EGM), ``welfare_loss_pct`` (consumption-equivalent, vs the reference),
``dp_agreement`` (as above), ``dp_agreement_ergodic`` (weighted by the DP policy's
stationary law on the grid), ``dp_within_one``; the summary adds ``<col>_mean``,
``<col>_median`` and the DP policy's values, the grid's floor, as ``floor_<measure>``;
``growth_policy`` (with ``growth``) -- the greedy tables, one row per (session, state):
``session, e, x, z, k, action, kp``; ``growth_curves`` (with ``growth``) -- each session's
rule read linearly in k against the reference, and both rules' Euler errors, on the
reference's ergodic set: ``session, iz, z, k, kp, kp_exact, euler, euler_exact``, drawn in
the figures ``growth_policy`` and ``growth_euler_errors``
(:mod:`marketsai.analysis.growth_figures`); ``benchmarks`` (games) -- one row per firm:
``agent, name, nash_price, monopoly_price, nash_profit, coop_profit, nash_share``
(:func:`marketsai.analysis.per_firm.firm_benchmarks`); the summary adds ``nash_price_<i>``,
``monopoly_price_<i>`` (and their averages ``nash_price``, ``monopoly_price``) and per
deviation ``impulse_<dev>_t2_rival_<i>`` per rival; ``impulse_response`` -- one row per
(session, deviation, t): ``session, deviation, t, price_<i>`` (see
:func:`marketsai.analysis.impulse_response_paths`; t = 0 is the pre-shock cycle mean);
``learning_curve`` (games, ``learning_curve_every > 0``) -- one row per (session, sample):
``session, t, periods, price, profit``, the mean price and profit played in the
``learning_curve_window`` periods from ``t`` (see :mod:`marketsai.tabular.learning_curve`;
recording changes no result), drawn as ``figures/learning_curve.png`` (median and
10-90 % band across sessions, Nash and monopoly lines).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketsai import analysis
from marketsai.analysis.impulse import DEVIATIONS, impulse_figures, impulse_summary
from marketsai.analysis.per_firm import benchmark_summary
from marketsai.errors import SpecError
from marketsai.params import Check, Param, nonnegative, nonnegative_int, positive_int
from marketsai.runner.kinds import ExperimentKind, Unit, experiment_kinds
from marketsai.runner.schema import boolean

_deviations = Check(lambda x: isinstance(x, list) and all(d in DEVIATIONS for d in x)
                    and len(set(x)) == len(x), "a list of distinct: " + ", ".join(DEVIATIONS))

_gain_definitions = Check(lambda x: x in ("per_firm", "total"), "per_firm or total")


def _q_learning():
    from marketsai.learners import learners
    return learners.get("q_learning")()


def game_of(cfg: dict):
    """The FiniteGame or FiniteModel the experiment's sessions run on."""
    from marketsai.learners.q_learning import finite_problem
    return finite_problem(cfg["economy"])


def _is_model(problem) -> bool:
    from marketsai.finite_model import FiniteModel
    return isinstance(problem, FiniteModel)


def dp_columns(model, strategies, rtol: float) -> dict:
    """``dp_agreement`` and ``dp_optimal`` per session for a single-agent model.

    >>> from marketsai.finite_model import FiniteModel
    >>> r = np.array([[[[0.0], [0.0]], [[1.0], [1.0]]]])
    >>> m = FiniteModel(agents=("a",), n_actions=[2], rewards=r,
    ...                 next_x=np.array([[[0, 1], [1, 0]]]), discount=0.9)
    >>> dp_columns(m, np.array([[[1, 0]], [[0, 0]]]), 1e-9)["dp_agreement"]
    array([1. , 0.5])
    """
    from marketsai.solvers.dp import value_iteration

    sol = value_iteration(model)
    greedy = np.asarray(strategies)[:, 0, :]
    q = np.asarray(sol.q).reshape(model.n_states, -1)
    best = q.max(axis=1)
    chosen = np.take_along_axis(q, greedy.T, axis=1).T  # (S, n_states)
    return {"dp_agreement": (greedy == np.asarray(sol.policy)[None]).mean(axis=1),
            "dp_optimal": (chosen >= best - rtol * (1 + np.abs(best))).mean(axis=1)}


def unmoved(results: pd.DataFrame, stable_periods: int) -> np.ndarray:
    """Per session: converged after exactly ``stable_periods`` periods, i.e. the greedy
    strategy never changed from the initial Q-table's, so the stop rule (the greedy strategy
    unchanged for ``stable_periods``) was met before learning moved anything. With small step
    sizes and slow exploration decay this happens (Calvano et al.'s grid at alpha <= 0.01,
    beta 2e-7); such a session's outcome is the initial strategy's, not a learned one."""
    return results["converged"].to_numpy(bool) & (results["periods"].to_numpy() == stable_periods)


def unmoved_share(results: pd.DataFrame, stable_periods: int) -> float:
    """Share of the sessions that are :func:`unmoved`."""
    return float(unmoved(results, stable_periods).mean())


def learner_config(cfg: dict):
    from marketsai.learners.q_learning import config_of
    return config_of(cfg["learner"])


@experiment_kinds.register("tabular")
class TabularKind(ExperimentKind):
    """Independent tabular Q-learning sessions (see the module docstring)."""

    size_keys = ("sessions",)
    unit_label = "sessions"
    sweep_value = "profit_gain"
    sweep_value_label = "profit gain Delta"
    sweep_flag = ("unmoved_share", "most sessions stopped with their initial greedy strategy (unmoved)")

    @property
    def schema(self):  # the q_learning learner's declared settings: every default visible
        return {
            "sessions": Param(100, positive_int, "number of independent sessions"),
            "chunk_size": Param(50, positive_int, "sessions per chunk (resume / Ray unit)"),
            "learner": dict(_q_learning().settings),
            "analysis": {
                "impulse_response": Param(["best_response"], _deviations,
                                          "deviations traced after convergence ([] for none)"),
                "impulse_periods": Param(25, positive_int, "periods after the shock"),
                "impulse_agent": Param(0, nonnegative_int, "index of the deviating agent"),
                "equilibrium_check": Param(True, boolean,
                                           "check greedy strategies are best responses"),
                "equilibrium_rtol": Param(1e-9, nonnegative,
                                          "an action is optimal if Q* >= max Q* - rtol (1 + |max Q*|)"),
                "deviations": Param(True, boolean,
                                    "punishment length, IC and IR of one-period deviations "
                                    "(marketsai.analysis.deviations)"),
                "profit_gain": Param("per_firm", _gain_definitions,
                                     "profit gain: per_firm (mean of the firms' gains) or total "
                                     "(gain on total profits; marketsai.analysis.per_firm)"),
                "learning_curve_every": Param(200_000, nonnegative_int,
                                              "games: sample play every this many periods while "
                                              "learning, table learning_curve (0 for none; "
                                              "marketsai.tabular.learning_curve)"),
                "learning_curve_window": Param(100, positive_int,
                                               "periods averaged at each sample (at most "
                                               "learning_curve_every)"),
                "dp_agreement": Param(False, boolean,
                                      "single-agent models: share of states where the greedy "
                                      "action equals the DP optimum"),
                # --- analysis.growth (owned by the growth study; see marketsai.analysis.growth)
                "growth": Param(False, boolean,
                                "one planner on a capital grid: Euler, policy and welfare "
                                "errors of the greedy table, next to the grid's DP floor"),
            },
        }

    def check(self, cfg: dict) -> dict:
        from marketsai.learners.base import checked
        cfg["learner"] = checked(_q_learning(), cfg["economy"], cfg["learner"], "learner")
        problem = game_of(cfg)
        n = len(cfg["economy"]["agents"])
        if cfg["analysis"].get("dp_agreement") and not (_is_model(problem) and problem.n_agents == 1):
            raise SpecError("dp_agreement compares with dynamic programming, which needs a "
                            "single-agent finite model", path="analysis.dp_agreement", value=True,
                            allowed="false for this economy")
        if cfg["analysis"].get("growth"):  # --- analysis.growth
            if not (_is_model(problem) and problem.n_agents == 1 and "k" in problem.x_values):
                raise SpecError("growth measures need one planner choosing k' on its capital grid",
                                path="analysis.growth", value=True,
                                allowed="false for this economy (or action: {choice: next_state})")
            from marketsai.analysis.growth import growth_model_of
            from marketsai.economy import Economy
            growth_model_of(Economy.from_dict(cfg["economy"]))
        every = cfg["analysis"]["learning_curve_every"]
        if every and cfg["learner"].get("device") == "cuda":
            raise SpecError("the GPU kernel records no play, so it draws no learning curve",
                            path="analysis.learning_curve_every", value=every,
                            allowed="0 with learner.device: cuda")
        if every:
            from marketsai.tabular.learning_curve import check_window
            check_window(every, cfg["analysis"]["learning_curve_window"],
                         "analysis.learning_curve_window", "analysis.learning_curve_every")
        if cfg["analysis"]["impulse_agent"] >= n:
            raise SpecError("no such agent", path="analysis.impulse_agent",
                            value=cfg["analysis"]["impulse_agent"], allowed=f"0..{n - 1}")
        return cfg

    def units(self, cfg: dict) -> list[Unit]:
        n, c = cfg["sessions"], cfg["chunk_size"]
        return [Unit(f"s{lo:07d}-{min(n, lo + c) - 1:07d}", min(c, n - lo),
                     {"start": lo, "stop": min(n, lo + c)}) for lo in range(0, n, c)]

    def run_unit(self, cfg: dict, unit: Unit, threads=None) -> dict[str, pd.DataFrame]:
        game = game_of(cfg)
        lc = learner_config(cfg)
        sessions = range(unit.params["start"], unit.params["stop"])
        opts = cfg["analysis"]
        curve = None
        if opts["learning_curve_every"] and not _is_model(game):  # games only (see module)
            from marketsai.tabular.learning_curve import LearningCurve
            curve = LearningCurve(opts["learning_curve_every"], opts["learning_curve_window"])
        res = _q_learning().sessions(cfg["economy"], cfg["learner"], sessions, root_seed=cfg["seed"],
                                     threads=threads, curve=curve)
        results = res.to_frame().reset_index(drop=True)
        tables = {"results": results}
        if curve is not None:
            tables["learning_curve"] = curve.frame()
        if _is_model(game):  # the game analyses below read a FiniteGame
            if opts.get("dp_agreement"):
                for col, v in dp_columns(game, res.strategies, opts["equilibrium_rtol"]).items():
                    results[col] = v
            if opts.get("growth"):  # --- analysis.growth: columns and table documented above
                from marketsai.analysis.growth import growth_accuracy
                acc = growth_accuracy(cfg["economy"])
                for col, v in acc.columns(res.strategies).items():
                    results[col] = v
                tables["growth_policy"] = acc.policy_table(res.strategies, results["session"])
                tables["growth_curves"] = acc.curves(res.strategies, results["session"])
            return tables
        if opts["profit_gain"] == "total" or game.n_agents > 1:  # --- per-firm benchmarks
            from marketsai.analysis.per_firm import total_profit_gain
            results["profit_gain_total"] = total_profit_gain(res.mean_profit, game.nash_payoff,
                                                             game.coop_payoff)
            if opts["profit_gain"] == "total":
                results["profit_gain"] = results["profit_gain_total"]
        hidden = not game.exo_observed
        if hidden:  # unseen shocks: analyse greedy play on mean payoffs
            game = game.marginal()
        # the analysis assumes simultaneous moves and no exogenous states
        if game.n_exo != 1 or lc.protocol != "simultaneous" \
                or not (opts["equilibrium_check"] or opts["impulse_response"]
                        or opts["deviations"]):
            return tables
        strategies = np.asarray(res.strategies)
        start = _final_states(res)
        if hidden and start is not None:  # the memory part of the final state
            start = start % game.n_memory_states
        if opts["deviations"] and game.n_agents > 1:  # --- analysis.deviations
            from marketsai.analysis.deviations import COLUMNS, deviation_statistics
            dev = deviation_statistics(game, strategies, start_states=start)
            for col in COLUMNS:
                results[col] = dev[col].to_numpy()
        if opts["equilibrium_check"]:
            eq = analysis.equilibrium_check(game, strategies, start_states=start,
                                            rtol=opts["equilibrium_rtol"])
            for col in eq.columns.drop("session"):
                results[col] = eq[col].to_numpy()
        frames = []
        for dev in opts["impulse_response"]:
            paths = analysis.impulse_response_paths(
                game, strategies, start_states=start, periods=opts["impulse_periods"],
                deviation=dev, agent=opts["impulse_agent"])
            frame = analysis.paths_to_frame(paths, sessions=results["session"].to_numpy())
            frame.insert(1, "deviation", dev)
            frames.append(frame)
        if frames:
            tables["impulse_response"] = pd.concat(frames, ignore_index=True)
        return tables

    def run_tables(self, cfg: dict) -> dict[str, pd.DataFrame]:
        """``benchmarks``: each firm's Nash and monopoly price and profit, one row per firm
        (:func:`marketsai.analysis.per_firm.firm_benchmarks`); none for models."""
        from marketsai.analysis.per_firm import game_benchmarks
        from marketsai.economy import Economy

        game = game_of(cfg)
        if _is_model(game):
            return {}
        return {"benchmarks": game_benchmarks(game, Economy.from_dict(cfg["economy"]))}

    # ---------------------------------------------------------------- summary
    def summarise(self, tables: dict[str, pd.DataFrame], cfg: dict) -> dict:
        res = tables["results"]
        out: dict = {"sessions": int(len(res))}
        if "converged" in res:
            out["converged"] = int(res["converged"].sum())
            out["converged_share"] = float(res["converged"].mean())
            if "periods" in res:
                out["unmoved_share"] = unmoved_share(res, learner_config(cfg).stable_periods)
        if "periods" in res:
            out["periods_mean"] = float(res["periods"].mean())
            out["periods_median"] = float(res["periods"].median())
        if "mean_price" in res:
            out["mean_price"] = float(res["mean_price"].mean())
        if "profit_gain" in res and "cycle_length" in res:
            t1 = analysis.profit_gain_summary(res)
            out["profit_gain"] = float(res["profit_gain"].mean())
            out["profit_gain_sd"] = float(res["profit_gain"].std(ddof=1)) if len(res) > 1 else None
            for _, row in t1[t1["cycle"] != "all"].iterrows():
                key = row["cycle"].replace("+", "plus")
                out[f"cycle_share_{key}"] = float(row["share"])
                out[f"profit_gain_cycle_{key}"] = None if np.isnan(row["mean"]) else float(row["mean"])
            out["table_1"] = t1.replace({np.nan: None}).to_dict(orient="records")
        for col in res.columns:  # models: the mean outcome (consumption, ...) of the cycle
            if col.startswith("mean_") and col[5:] not in ("price", "profit") \
                    and not col[-1].isdigit():
                vals = res[col].dropna()
                out[col] = float(vals.mean()) if len(vals) else None
        for col in ("dp_agreement", "dp_optimal"):
            if col in res:
                out[f"{col}_mean"] = float(res[col].mean())
                out[f"{col}_min"] = float(res[col].min())
        for col in ("eq_on_path", "eq_all_states", "osd_on_path", "osd_all_states"):
            if col in res:
                out[f"{col}_share"] = float(res[col].mean())
        if cfg["analysis"].get("growth") and "euler_mean" in res:  # --- analysis.growth
            from marketsai.analysis.growth import growth_summary
            out |= growth_summary(res, cfg["economy"])
        if "profit_gain_total" in res:  # --- per-firm benchmarks (marketsai.analysis.per_firm)
            out |= _per_firm(res, cfg)
        if "punishment_length" in res:  # --- analysis.deviations, pooled as the authors do
            from marketsai.analysis.deviations import pool_deviations
            out |= pool_deviations(res)
        imp = tables.get("impulse_response")
        if imp is not None and len(imp):
            for dev, frame in imp.groupby("deviation", sort=False):
                out |= impulse_summary(frame.drop(columns="deviation"), dev,
                                       cfg["analysis"]["impulse_agent"])
        if "benchmarks" in tables:  # --- per-firm benchmarks (run folders before it have none)
            out |= benchmark_summary(tables["benchmarks"])
        return out

    def figures(self, tables: dict[str, pd.DataFrame], cfg: dict, summary: dict) -> dict:
        res = tables["results"]
        figs = {}
        if "profit_gain" in res:
            figs["profit_gain_histogram"] = analysis.plot_profit_gain_histogram(res)
        if "cycle_length" in res and "profit_gain" in res:
            figs["cycle_lengths"] = analysis.plot_cycle_shares(analysis.profit_gain_summary(res))
        curve = tables.get("learning_curve")
        if curve is not None and len(curve):
            game = game_of(cfg)
            refs = [(float(np.mean(a)), float(np.mean(p))) for a, p in (
                (game.nash_action, game.nash_payoff), (game.coop_action, game.coop_payoff))]
            figs["learning_curve"] = analysis.plot_learning_curve(curve, *refs)
        if "growth_curves" in tables:  # --- analysis.growth
            from marketsai.analysis.growth_figures import growth_figures
            figs |= growth_figures(tables["growth_curves"])
        imp = tables.get("impulse_response")
        if imp is not None and len(imp):
            game = game_of(cfg)
            figs |= impulse_figures(imp, cfg["analysis"]["impulse_agent"], list(game.agents),
                                    game.nash_action, game.coop_action)
        return figs

    def format_summary(self, summary: dict, ref: dict) -> str | None:
        if "cells" in summary:
            cells = pd.DataFrame(summary["cells"])
            cols = ["cell", *summary["sweep"], "sessions", "converged_share", "unmoved_share", "periods_mean",
                    "mean_price", "profit_gain", "profit_gain_sd", "cycle_share_1"]
            return cells[[c for c in cols if c in cells]].to_string(
                index=False, float_format=lambda x: f"{x:.4g}")
        from marketsai.runner.run import default_summary_text
        lines = []
        if summary.get("table_1"):
            t1 = pd.DataFrame(summary["table_1"])
            lines.append("Profit gain by limit-cycle length (Calvano et al. 2020, Table I layout)")
            lines.append(t1.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
            lines.append("")
        keys = ["sessions", "converged_share", "unmoved_share", "periods_mean", "profit_gain", "profit_gain_sd",
                "cycle_share_1", "cycle_share_2", "cycle_share_3plus", "profit_gain_cycle_1",
                "profit_gain_cycle_2", "profit_gain_cycle_3plus", "mean_price",
                "eq_on_path_share", "eq_all_states_share", "osd_on_path_share",
                "osd_all_states_share", "dp_agreement_mean", "dp_agreement_min",
                "dp_optimal_mean", "dp_optimal_min", "punishment_length", "ic_share", "ir",
                "profit_gain_total", "profit_gain_total_sd"]
        keys += ["nash_price", "monopoly_price"]
        firms = sum(1 for k in summary if k.startswith("mean_price_") and k[11:].isdigit())
        keys += [f"{key}_{i}" for i in range(firms) for key in _PER_FIRM_KEYS]
        keys += [k for k in summary if k.startswith("mean_") and k != "mean_price"]
        keys += [k for k in summary if k.endswith("_median") or (  # --- analysis.growth
            k.startswith("floor_") and isinstance(summary[k], float))]
        keys += [k for k in summary if k.startswith("impulse_") and not isinstance(summary[k], list)]
        lines.append(default_summary_text(summary, ref, [k for k in dict.fromkeys(keys) if k in summary]))
        for k in summary:
            if k.startswith("impulse_") and isinstance(summary[k], list):
                lines.append(f"{k}: " + " ".join(f"{x:.4f}" for x in summary[k][:12]))
                if k in ref:
                    lines.append(f"{'published':>{len(k)}}: " + " ".join(
                        f"{x:.4f}" for x in ref[k][:12]))
        return "\n".join(lines)


#: the per-firm summary keys ``<key>_<i>``, in the order the summary prints them per firm
_PER_FIRM_KEYS = ("nash_price", "monopoly_price", "mean_price", "nash_profit", "coop_profit",
                  "mean_profit", "profit_gain", "nash_share", "profit_ratio")


def _per_firm(res: pd.DataFrame, cfg: dict) -> dict:
    """Per-firm summary keys (:func:`marketsai.analysis.per_firm.per_firm_summary`)."""
    from marketsai.analysis.per_firm import nash_shares_or_none, per_firm_summary
    from marketsai.economy import Economy

    game = game_of(cfg)
    shares = nash_shares_or_none(Economy.from_dict(cfg["economy"]))
    return per_firm_summary(res, game.nash_payoff, game.coop_payoff, shares)


def _final_states(res) -> np.ndarray | None:
    """The state each session ended in (where its limit cycle is read), if recorded."""
    final = getattr(res, "final", None)
    value = getattr(final, "state", None)
    return None if value is None else np.asarray(value, dtype=np.int64)
