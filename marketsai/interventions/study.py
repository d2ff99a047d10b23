"""The intervention study as an experiment kind: ``kind: interventions``.

One file runs the whole population study (``marketsai run experiments/interventions/study.yaml``)::

    kind: interventions
    economy: ../../economies/bertrand_duopoly.yaml
    seed: 0
    learner: {alpha: 0.15, beta: 4.0e-6}
    sessions: 1000                 # converged baselines of the main population
    interventions:                 # each applied to the same baselines
      - name: forced_nash
        phases: [{type: force_price, firm: 0, price: nash, periods: 50,
                  learning: {firm_0: false, firm_1: true}}]
        sweep: {"phases[0].periods": [1, 5, 10, 25, 50, 100, 200, 500, 1000]}
    sensitivity:                   # (alpha, beta) grid, each cell its own baselines
      alpha: [0.10, 0.15, 0.25]
      beta: [4.0e-6, 1.0e-5, 1.0e-4]
      sessions: 100
      interventions: [forced_nash, reset_firm0]   # names or labels from the list above

Work units (resumable chunks of ``chunk_size`` sessions): first the baselines of every
population (trained once and cached on disk, see
:mod:`~marketsai.interventions.baselines`), then one unit per (population, intervention,
protocol, chunk). Tables in the run folder:

* ``baselines`` -- one row per baseline session (``price``, ``delta``, ``cycle_length``,
  ``t``, ``converged``);
* ``results`` -- one row per (population, intervention, protocol, session), columns of
  :data:`marketsai.interventions.protocol.SESSION_COLUMNS` plus labels;
* ``paths`` -- price-path sums per period (combine with
  :func:`marketsai.interventions.measures.combine_paths`).

``summary.json`` holds, per intervention, mean / SD / 95% bootstrap CI of ``R`` and
``delta_post`` (:func:`marketsai.interventions.summary.intervention_table`).
"""

from __future__ import annotations

import copy
import functools
import json
import re

import numpy as np
import pandas as pd

from marketsai.errors import SpecError
from marketsai.interventions import measures
from marketsai.interventions.baselines import ensure_baseline
from marketsai.interventions.intervention import (
    PROTOCOLS,
    Intervention,
    check_protocol,
    expand_interventions,
)
from marketsai.interventions.protocol import run_intervention
from marketsai.interventions.summary import baseline_table, intervention_table
from marketsai.params import Check, Param, nonnegative_int, positive_int
from marketsai.runner.kinds import ExperimentKind, Unit, experiment_kinds
from marketsai.tabular import QLearningConfig

_list = Check(lambda x: isinstance(x, list), "a list")
_text = Check(lambda x: isinstance(x, str) and x != "", "a non-empty string")
_protocol = Check(lambda x: all(v in PROTOCOLS for v in (x if isinstance(x, list) else [x])),
                  " | ".join(PROTOCOLS) + " or a list of them")


def _learner_schema() -> dict:
    """Every tabular Q-learning setting, declared once (:data:`marketsai.tabular.config.SETTINGS`)."""
    from marketsai.tabular.config import SETTINGS
    return dict(SETTINGS)


def _population_id(alpha: float, beta: float) -> str:
    return f"a{alpha:g}_b{beta:g}"


def _safe(text: str) -> str:
    text = text.replace("[", ".").replace("]", "").replace("=", "-").replace("/", ".")
    return re.sub(r"[^A-Za-z0-9_.\-]", "-", text)


@functools.lru_cache(maxsize=8)
def _game_cached(economy_json: str):
    from marketsai.economy import Economy
    return Economy.from_dict(json.loads(economy_json)).finite_game()


def game_of(cfg: dict):
    """The finite game of the experiment's (resolved) economy."""
    return _game_cached(json.dumps(cfg["economy"], sort_keys=True))


def learner_config(cfg: dict, alpha=None, beta=None) -> QLearningConfig:
    d = dict(cfg["learner"])
    if alpha is not None:
        d["alpha"], d["beta"] = float(alpha), float(beta)
    try:
        return QLearningConfig(**d)
    except SpecError as err:
        raise err.under("learner") from None


def populations(cfg: dict) -> list[dict]:
    """The main population and the sensitivity cells, each with its interventions."""
    ivs = expand_interventions(cfg["interventions"], "interventions",
                               cfg["protocol"])
    a0, b0 = cfg["learner"]["alpha"], cfg["learner"]["beta"]
    out = [{"id": "main", "alpha": a0, "beta": b0, "sessions": cfg["sessions"],
            "interventions": ivs}]
    sens = cfg["sensitivity"]
    chosen = _select(ivs, sens["interventions"], "sensitivity.interventions")
    for a in sens["alpha"]:
        for b in sens["beta"]:
            out.append({"id": _population_id(a, b), "alpha": float(a), "beta": float(b),
                        "sessions": sens["sessions"], "interventions": chosen})
    return out


def _select(ivs: list[Intervention], names: list, path: str) -> list[Intervention]:
    out = []
    for k, name in enumerate(names):
        hit = [iv for iv in ivs if name in (iv.name, iv.label, iv.key)]
        if not hit:
            raise SpecError("no such intervention", path=f"{path}[{k}]", value=name,
                            allowed=", ".join(sorted({iv.name for iv in ivs})))
        out.extend(iv for iv in hit if iv not in out)
    return out


@experiment_kinds.register("interventions")
class InterventionStudy(ExperimentKind):
    """Interventions on converged Q-learning sessions; see the module docstring."""

    @property
    def schema(self):
        return {
            "learner": _learner_schema(),
            "sessions": Param(1000, positive_int, "baseline sessions of the main population"),
            "chunk_size": Param(250, positive_int, "sessions per work unit"),
            "protocol": Param("correct", _protocol,
                              "default post-intervention protocol: correct | seed | [correct, seed]"),
            "record": {
                "before": Param(20, nonnegative_int, "periods of greedy play recorded before"),
                "after": Param(100, nonnegative_int, "periods recorded after the intervention"),
            },
            "max_post_periods": Param(50_000_000, positive_int,
                                      "cap on the periods to re-converge after an intervention"),
            "bootstrap": Param(2000, positive_int, "bootstrap resamples for the 95% CIs"),
            "baseline_dir": Param("runs/_baselines", _text,
                                  "cache of converged baselines (content-addressed; relative to cwd)"),
            "interventions": Param(check=_list, doc="list of {name, phases, protocol, sweep, sessions}"),
            "sensitivity": {
                "alpha": Param([], _list, "learning rates of the sensitivity grid"),
                "beta": Param([], _list, "exploration decays of the sensitivity grid"),
                "sessions": Param(100, positive_int, "baseline sessions per grid cell"),
                "interventions": Param([], _list, "names/labels of interventions run in every cell"),
            },
        }

    # the interventions list only decides which units exist: each unit carries its own
    # intervention in its params (so editing one intervention reruns only its units)
    size_keys = ("sessions", "interventions", "sensitivity")
    unit_label = "sessions"

    def check(self, cfg: dict) -> dict:
        lc = learner_config(cfg)
        for name in ("alpha", "beta"):
            if np.ndim(getattr(lc, name)) != 0:
                raise SpecError("this study takes one value for all firms (replace_learner "
                                "phases give a firm other values)", path=f"learner.{name}",
                                value=cfg["learner"][name], allowed="a number")
        cfg["learner"] = {k: v for k, v in lc.to_dict().items()}
        check_protocol(cfg["protocol"], "protocol")
        sens = cfg["sensitivity"]
        for key, lo in (("alpha", 0.0), ("beta", -1.0)):
            for k, v in enumerate(sens[key]):
                if not (isinstance(v, (int, float)) and not isinstance(v, bool) and v > lo
                        and (key == "beta" or v <= 1)):
                    raise SpecError("invalid grid value", path=f"sensitivity.{key}[{k}]", value=v,
                                    allowed="alpha in (0, 1]" if key == "alpha" else "beta >= 0")
        if bool(sens["alpha"]) != bool(sens["beta"]):
            raise SpecError("the grid needs both alpha and beta values", path="sensitivity",
                            value={"alpha": sens["alpha"], "beta": sens["beta"]})
        game = game_of(cfg)
        for pop in populations(cfg):
            for iv in pop["interventions"]:
                iv.bind(game)
        # show every phase's defaults in the resolved config (entries without a sweep)
        cfg = copy.deepcopy(cfg)
        for k, entry in enumerate(cfg["interventions"]):
            if "sweep" not in entry:
                ivs = expand_interventions([entry], "interventions", cfg["protocol"])
                entry["phases"] = [p.to_dict() for p in ivs[0].phases]
                cfg["interventions"][k] = entry
        return cfg

    def units(self, cfg: dict) -> list[Unit]:
        pops = populations(cfg)
        c = cfg["chunk_size"]
        out = []
        for pop in pops:
            n = pop["sessions"]
            for lo in range(0, n, c):
                hi = min(n, lo + c)
                out.append(Unit(f"b.{pop['id']}.s{lo:05d}", hi - lo,
                                {"type": "baseline", "population": pop["id"], "alpha": pop["alpha"],
                                 "beta": pop["beta"], "lo": lo, "hi": hi}))
        for pop in pops:
            n = pop["sessions"]
            for iv in pop["interventions"]:
                n_iv = min(n, iv.sessions or n)
                for lo in range(0, n_iv, c):
                    out.append(Unit(
                        f"i.{pop['id']}.{_safe(iv.key)}.s{lo:05d}", min(n_iv, lo + c) - lo,
                        {"type": "intervention", "population": pop["id"], "alpha": pop["alpha"],
                         "beta": pop["beta"], "lo": lo, "hi": min(n_iv, lo + c),
                         "chunk_hi": min(n, lo + c), "intervention": iv.to_dict()}))
        return out

    # ------------------------------------------------------------------ units
    def _baseline(self, cfg, p, threads):
        game = game_of(cfg)
        qcfg = learner_config(cfg, p["alpha"], p["beta"])
        learner = dict(cfg["learner"], alpha=float(p["alpha"]), beta=float(p["beta"]))
        hi = p.get("chunk_hi", p["hi"])
        res, _ = ensure_baseline(game, qcfg, economy=cfg["economy"], learner=learner,
                                 seed=cfg["seed"], lo=p["lo"], hi=hi, root=cfg["baseline_dir"],
                                 threads=threads)
        return game, qcfg, res.final

    def run_unit(self, cfg: dict, unit: Unit, threads=None) -> dict[str, pd.DataFrame]:
        p = unit.params
        game, qcfg, states = self._baseline(cfg, p, threads)
        labels = {"population": p["population"], "alpha": float(p["alpha"]),
                  "beta": float(p["beta"])}
        if p["type"] == "baseline":
            m = measures.cycle_measures(game, states.strategy, states.state)
            table = pd.DataFrame({**labels, "session": np.asarray(states.sessions, np.int64),
                                  "converged": np.asarray(states.converged, bool),
                                  "t": np.asarray(states.t, np.int64), "price": m["price"],
                                  "delta": m["delta"], "cycle_length": m["cycle_length"]})
            return {"baselines": table}
        iv = Intervention.from_dict(p["intervention"], "intervention").bind(game)
        n_take = p["hi"] - p["lo"]
        if n_take < states.t.shape[0]:
            states = states.subset(np.arange(n_take))
        run = run_intervention(game, qcfg, states, iv, before=cfg["record"]["before"],
                               after=cfg["record"]["after"], max_periods=cfg["max_post_periods"],
                               threads=threads, sessions=np.asarray(states.sessions), copy=False)
        sweep_value = iv.sweep_value if isinstance(iv.sweep_value, (int, float)) else np.nan
        ivlab = {**labels, "intervention": iv.name, "label": iv.label, "protocol": iv.protocol,
                 "sweep_field": iv.sweep_field or "", "sweep_value": float(sweep_value),
                 "periods": iv.periods}
        results = pd.concat([pd.DataFrame({k: [v] * len(run.sessions) for k, v in ivlab.items()}),
                             run.sessions.reset_index(drop=True)], axis=1)
        paths = run.paths
        for k, v in reversed(ivlab.items()):
            paths.insert(0, k, v)
        return {"results": results, "paths": paths}

    def progress(self, tables):
        res = tables.get("results")
        if res is not None and "reconverged" in res:
            return {"reconverged": int(res["reconverged"].sum())}
        base = tables.get("baselines")
        if base is not None:
            return {"converged": int(base["converged"].sum())}
        return {}

    # -------------------------------------------------------------- summaries
    def summarise(self, tables: dict[str, pd.DataFrame], cfg: dict) -> dict:
        game = game_of(cfg)
        pn = measures.nash_price(game)
        out = {"p_nash": pn, "p_monopoly": float(np.mean(game.coop_action))}
        if "baselines" in tables and len(tables["baselines"]):
            out["baselines"] = _records(baseline_table(tables["baselines"], cfg["bootstrap"],
                                                       cfg["seed"]))
        if "results" in tables and len(tables["results"]):
            table = intervention_table(tables["results"], pn, cfg["bootstrap"], cfg["seed"])
            out["interventions"] = _records(table)
        return out

    def format_summary(self, summary: dict, ref: dict) -> str:
        """Text printed by ``marketsai run``: baselines, then R and Delta_post per intervention."""
        lines = [f"pN = {summary.get('p_nash', float('nan')):.5f}", "",
                 "population          sessions  Delta (SD)       converged"]
        for b in summary.get("baselines", []):
            lines.append(f"{b['population']:<18}  {b['sessions']:>8}  {b['delta_mean']:.3f} "
                         f"({b['delta_sd']:.3f})    {100 * b['converged']:.1f}%")
        lines += ["", f"{'population':<18}  {'intervention':<28} {'protocol':<8} {'n':>5}  "
                  f"{'R mean [95% CI]':<24} {'Delta_post':>10}  unchanged"]
        for r in summary.get("interventions", []):
            lines.append(
                f"{r['population']:<18}  {r['label']:<28} {r['protocol']:<8} {r['sessions']:>5}  "
                f"{r['R_mean']:.3f} [{r['R_ci_lo']:.3f}, {r['R_ci_hi']:.3f}]   "
                f"{r['delta_post_mean']:>10.3f}  {100 * r['share_unchanged']:.1f}%")
        return "\n".join(lines)

    def figures(self, tables, cfg, summary) -> dict:
        from marketsai.interventions.figures import study_figures
        return study_figures(tables, summary)


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records"))
