"""The ``learn`` experiment kind: any registered learner, its policies evaluated by name.

::

    kind: learn
    economy: ../../economies/bertrand_duopoly.yaml
    seed: 2020                      # root seed (a learner's run for seed s depends on it and s)
    seeds: 100                      # n: seeds 0..n-1, or a list of distinct seeds
    chunk_size: null                # seeds per unit; null: the learner's seeds_per_unit
    learner:
      name: q_learning              # a registered learner, or 'package.module:Class'
      settings: {alpha: 0.15}       # the learner's declared settings (every default filled)
    evaluate:                       # registered evaluations of each policy
      - {name: calvano, settings: {}}

One unit is a chunk of seeds; the learner trains them in one call into the unit's own
folder ``RUN/units/<chunk id>/`` (its resume files) and returns one policy per seed.
Tables: ``results`` -- one row per seed: ``seed``, the learner's ``info`` columns
(``converged``, ``periods``, ...) and each evaluation's one-row ``results`` columns;
every other table an evaluation returns gets a ``seed`` column and is concatenated over
seeds. Units run in the driver (a learner may use Ray itself, e.g. RLlib).

Evaluations are resolved through :mod:`marketsai.analysis.evaluations` (the registry of
evaluations); :func:`evaluation_class` is the one place this module meets it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from marketsai.errors import SpecError
from marketsai.params import Check, Param, positive_int
from marketsai.runner.kinds import ExperimentKind, Unit, UnitContext, experiment_kinds
from marketsai.runner.schema import mapping, resolve, text
from marketsai.runner.store import atomic_write_text

FINGERPRINT_FILE = "fingerprint"
MAX_SEEDS = 10_000_000

_seeds = Check(lambda x: (isinstance(x, int) and not isinstance(x, bool) and 1 <= x <= MAX_SEEDS) or (
    isinstance(x, list) and 1 <= len(x) <= MAX_SEEDS and len(set(x)) == len(x)
    and all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**63 for s in x)),
    f"an integer n in [1, {MAX_SEEDS:,}] (seeds 0..n-1) or a list of distinct integers in [0, 2**63)")
_chunk = Check(lambda x: x is None or positive_int(x), "null or an integer >= 1")
_entries = Check(lambda x: isinstance(x, list) and all(
    isinstance(e, str) or (isinstance(e, dict) and "name" in e and set(e) <= {"name", "settings"})
    for e in x), "a list of evaluation names or {name: ..., settings: {...}} mappings")


# ------------------------------------------------------------------ the coupling


def evaluation_class(name: str, path: str):
    """The registered evaluation ``name``: a class with ``settings`` (Params),
    ``evaluate(economy, policy, settings) -> {table: DataFrame}`` and optionally
    ``figures(tables, settings) -> {name: Figure}``.

    Resolved through ``marketsai.analysis.evaluations.evaluations`` when that registry is
    installed; without it only ``calvano`` exists, as :class:`CalvanoColumns` (the
    engine's profit-gain and limit-cycle columns of a table policy).
    """
    try:
        from marketsai.analysis.evaluations import evaluations
    except ModuleNotFoundError as exc:
        if exc.name not in ("marketsai.analysis.evaluations",):
            raise
        if name == "calvano":
            return CalvanoColumns
        raise SpecError("unknown evaluation (this install has no evaluation registry, "
                        "marketsai.analysis.evaluations)", path=path, value=name,
                        allowed="calvano") from None
    return evaluations.get(name, path)


class CalvanoColumns:
    """Profit gain and limit cycle of a greedy table on the economy's finite game, with the
    tabular engine's column names: ``cycle_length, mean_price, profit_gain`` and per agent
    ``mean_price_<i>, mean_profit_<i>, profit_gain_<i>`` (greedy play from the policy's
    ``start_state``, state 0 without one)."""

    settings: dict = {}

    def evaluate(self, economy, policy, settings) -> dict[str, pd.DataFrame]:
        from marketsai.analysis import limit_cycles, profit_gain
        from marketsai.learners.q_learning import finite_problem

        game = finite_problem(economy)
        table = policy.strategies()
        if table is None:
            raise SpecError("the calvano evaluation reads a greedy table on the finite game; this "
                            "policy has none", path="evaluate", value=type(policy).__name__,
                            allowed="a learner giving table policies (strategies())")
        start = [policy.start_state or 0]
        cyc = limit_cycles(game, np.asarray(table)[None], start_states=start)
        gain = profit_gain(cyc.mean_payoff, game.nash_payoff, game.coop_payoff)[0]
        row = {"cycle_length": int(cyc.length[0]), "mean_price": float(cyc.mean_price[0].mean()),
               "profit_gain": float(gain.mean())}
        for i in range(game.n_agents):
            row |= {f"mean_price_{i}": float(cyc.mean_price[0, i]),
                    f"mean_profit_{i}": float(cyc.mean_payoff[0, i]), f"profit_gain_{i}": float(gain[i])}
        return {"results": pd.DataFrame([row])}


def evaluate_policy(economy, policy, entries: list[dict]) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Every evaluation of one policy: its results-row columns and its other tables."""
    row, tables = {}, {}
    for k, entry in enumerate(entries):
        ev = evaluation_class(entry["name"], f"evaluate[{k}].name")()
        for name, frame in ev.evaluate(economy, policy, entry["settings"]).items():
            if name == "results":
                if len(frame) != 1:
                    raise RuntimeError(f"evaluation {entry['name']!r} returned {len(frame)} results "
                                       "rows for one policy (expected one)")
                row |= frame.iloc[0].to_dict()
            else:
                tables[name] = frame
    return row, tables


# ------------------------------------------------------------------ the kind

#: results column -> summary key of its mean, where kind: tabular names it otherwise
_SUMMARY_KEYS = {"converged": "converged_share", "periods": "periods_mean"}


def seed_list(cfg: dict) -> list[int]:
    s = cfg["seeds"]
    return list(range(s)) if isinstance(s, int) else list(s)


def learner_of(cfg: dict, path: str = "learner.name"):
    from marketsai.learners import learners
    return learners.get(cfg["learner"]["name"], path)()


@experiment_kinds.register("learn")
class LearnKind(ExperimentKind):
    """Any registered learner on an economy; its policies evaluated (see the module doc)."""

    schema = {
        "seeds": Param(10, _seeds, "n: seeds 0..n-1; or a list of distinct seeds"),
        "chunk_size": Param(None, _chunk, "seeds per unit (resume unit); null: the learner's default"),
        "learner": {
            "name": Param(check=text, doc="a registered learner (marketsai.learners) or "
                                          "'package.module:Class'"),
            "settings": Param({}, mapping, "the learner's declared settings (marketsai validate "
                                           "prints every default)"),
        },
        "evaluate": Param([], _entries, "registered evaluations of each seed's policy"),
    }
    size_keys = ("seeds",)
    unit_label = "seeds"
    sweep_value = "profit_gain"
    sweep_value_label = "profit gain Delta"
    uses_workdir = True
    ray_in_unit = True  # units run in the driver: a learner may start Ray itself

    def check(self, cfg: dict) -> dict:
        from marketsai.learners.base import checked

        learner = learner_of(cfg)
        given = cfg["learner"]["settings"] or {}
        if learner.open_settings:  # declared keys checked and filled; others left to check()
            declared = {k: v for k, v in given.items() if k in learner.settings}
            settings = resolve(declared, learner.settings, "learner.settings", "learner settings")
            settings |= {k: v for k, v in given.items() if k not in learner.settings}
        else:
            settings = resolve(given, learner.settings, "learner.settings", "learner settings")
        cfg["learner"]["settings"] = checked(learner, cfg["economy"], settings, "learner.settings")
        entries = []
        for k, entry in enumerate(cfg["evaluate"]):
            entry = {"name": entry} if isinstance(entry, str) else entry
            cls = evaluation_class(entry["name"], f"evaluate[{k}].name")
            entries.append({"name": entry["name"], "settings": resolve(
                entry.get("settings"), getattr(cls, "settings", {}), f"evaluate[{k}].settings",
                "evaluation settings")})
        cfg["evaluate"] = entries
        return cfg

    def units(self, cfg: dict) -> list[Unit]:
        seeds = seed_list(cfg)
        c = cfg["chunk_size"] or learner_of(cfg).seeds_per_unit
        return [Unit(f"s{seeds[lo]}-{seeds[min(len(seeds), lo + c) - 1]}",
                     len(seeds[lo:lo + c]), {"seeds": seeds[lo:lo + c]})
                for lo in range(0, len(seeds), c)]

    def run_unit(self, cfg: dict, unit: Unit, threads: int | None = None,
                 context: UnitContext | None = None) -> dict[str, pd.DataFrame]:
        from marketsai.economy import Economy

        if context is None:
            raise TypeError("the learn kind needs a UnitContext (the unit's own folder)")
        work = Path(context.workdir)
        stamp = work / FINGERPRINT_FILE
        if work.exists() and (not stamp.is_file() or stamp.read_text().strip() != context.fingerprint):
            shutil.rmtree(work)  # written for another configuration
        work.mkdir(parents=True, exist_ok=True)
        atomic_write_text(stamp, context.fingerprint + "\n")
        econ = Economy.from_dict(cfg["economy"])
        seeds = [int(s) for s in unit.params["seeds"]]
        policies = learner_of(cfg).train(econ, cfg["learner"]["settings"], seeds, work,
                                         root_seed=cfg["seed"], threads=threads,
                                         address=context.address)
        if len(policies) != len(seeds):
            raise RuntimeError(f"learner {cfg['learner']['name']!r} returned {len(policies)} "
                               f"policies for {len(seeds)} seeds")
        rows, extra = [], {}
        for seed, policy in zip(seeds, policies, strict=True):
            row, tables = evaluate_policy(econ, policy, cfg["evaluate"])
            rows.append({"seed": seed, **{k: v for k, v in policy.info.items() if k != "seed"}, **row})
            for name, frame in tables.items():
                extra.setdefault(name, []).append(frame.assign(seed=seed)[["seed", *frame.columns]])
        out = {"results": pd.DataFrame(rows)}
        out |= {name: pd.concat(frames, ignore_index=True) for name, frames in extra.items()}
        return out

    def summarise(self, tables: dict[str, pd.DataFrame], cfg: dict) -> dict:
        """Seeds, and the mean of every numeric results column under ``kind: tabular``'s
        summary key (``profit_gain``, ``mean_price``, ``converged_share``, ``periods_mean``);
        with profit gains, the Table I layout as ``kind: tabular`` has it."""
        from marketsai import analysis

        res = tables["results"]
        out: dict = {"learner": cfg["learner"]["name"], "seeds": int(len(res))}
        for col in res.columns:
            if col == "seed" or not pd.api.types.is_numeric_dtype(res[col]):
                continue
            vals = pd.to_numeric(res[col], errors="coerce").dropna()
            key = _SUMMARY_KEYS.get(col, col)
            out[key] = float(vals.mean()) if len(vals) else None
        if "profit_gain" in res and "cycle_length" in res:
            t1 = analysis.profit_gain_summary(res)
            out["profit_gain_sd"] = float(res["profit_gain"].std(ddof=1)) if len(res) > 1 else None
            for _, r in t1[t1["cycle"] != "all"].iterrows():
                key = r["cycle"].replace("+", "plus")
                out[f"cycle_share_{key}"] = float(r["share"])
                out[f"profit_gain_cycle_{key}"] = None if np.isnan(r["mean"]) else float(r["mean"])
            out["table_1"] = t1.replace({np.nan: None}).to_dict(orient="records")
        return out

    def format_summary(self, summary: dict, ref: dict) -> str | None:
        """Every scalar of the summary (the Table I layout first, with profit gains)."""
        from marketsai.runner.run import default_summary_text
        lines = []
        if summary.get("table_1"):
            lines += ["Profit gain by limit-cycle length (Calvano et al. 2020, Table I layout)",
                      pd.DataFrame(summary["table_1"]).to_string(
                          index=False, float_format=lambda x: f"{x:.3f}"), ""]
        keys = [k for k, v in summary.items() if k not in ("kind", "reference")
                and (v is None or isinstance(v, (int, float, str)))]
        return "\n".join(lines + [default_summary_text(summary, ref, keys)])

    def figures(self, tables: dict[str, pd.DataFrame], cfg: dict, summary: dict) -> dict:
        from marketsai import analysis

        res = tables["results"]
        figs = {}
        if "profit_gain" in res:
            figs["profit_gain_histogram"] = analysis.plot_profit_gain_histogram(res)
        for k, entry in enumerate(cfg["evaluate"]):
            ev = evaluation_class(entry["name"], f"evaluate[{k}].name")()
            if hasattr(ev, "figures"):
                figs |= ev.figures(tables, entry["settings"]) or {}
        return figs
