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
    curve: []                       # evaluations of the policies kept along the training

One unit is a chunk of seeds; the learner trains them in one call into the unit's own
folder ``RUN/units/<chunk id>/`` (its resume files) and returns one policy per seed.
Tables: ``results`` -- one row per seed: ``seed``, the learner's ``info`` columns
(``converged``, ``periods``, ...) and each evaluation's ``results`` columns, side by side
where their row counts agree; an evaluation with another row count writes
``<name>_results``, and a second entry of one evaluation all its tables as
``<name>_<index>_<table>``; a column, table, summary key or figure of a name an earlier
entry used comes as ``<name>_<its name>`` (:mod:`~marketsai.runner.entry_names`: nothing is
dropped or overwritten; each entry's summary and figures read its own); every other table an evaluation returns gets a ``seed``
column and is concatenated over seeds, except those of the economy alone
(``Evaluation.economy_tables``: the calvano evaluation's per-firm ``benchmarks``), made once
per run (:meth:`LearnKind.run_tables`).
An evaluation with ``untrained: true`` adds the untrained policies' tables
(``results_untrained``, same columns) and the summary their own summary, under
``untrained`` (``summary["untrained"]["profit_gain"]``: the floor).
With ``curve:`` evaluations (and a learner that keeps policies at its checkpoints,
:mod:`marketsai.learners.kept_policies`) the table ``curve`` has one row per seed and kept
period: ``periods``, ``train_seconds`` and those evaluations' results averaged over episodes.
Units run in the driver (a learner may use Ray itself, e.g. RLlib), or with
``--processes N`` up to N at once in local processes of their own (learners that do not
start Ray: the batched and tabular ones); an RLlib learner's own output goes to the run's
``log`` unless the run is ``verbose``.

Evaluations are resolved through :mod:`marketsai.analysis.evaluations` (the registry of
evaluations); :func:`evaluation_class` is the one place this module meets it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from marketsai.params import Check, Param, positive_int
from marketsai.runner.entry_names import (
    RESULTS,
    UNTRAINED,
    check_readable,
    entry_labels,
    entry_tables,
    is_repeated,
    merge_keys,
    place,
    side_by_side,
    untrained_tables,
)
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
    """The registered evaluation ``name`` (:mod:`marketsai.analysis.evaluations`): settings
    declared with ``Param``, ``evaluate(economy, policy, settings, seed)``, ``summarise`` and
    ``figures``."""
    from marketsai.analysis.evaluations import evaluations
    return evaluations.get(name, path)


def _unique_sessions(frame: pd.DataFrame) -> pd.DataFrame:
    """An evaluation numbers its episodes ``session`` 0, 1, ... per policy; over seeds they
    are renumbered so that each (seed, session) pair stays one path."""
    if "session" not in frame or "seed" not in frame:
        return frame
    ids = frame.groupby(["seed", "session"], sort=False).ngroup()
    return frame.assign(session=ids.to_numpy())


def evaluate_policy(economy, policy, entries: list[dict], seed: int = 0, learner=None,
                    learner_settings=None) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Every evaluation of one policy: its results rows (one per episode of the evaluation,
    evaluations side by side) and its other tables, each under the name
    :mod:`~marketsai.runner.entry_names` gives it: an evaluation with another number of rows
    keeps its own ``<label>_results``; a second entry of one evaluation keeps every table of
    its own, as ``<label>_<table>``; a column or table an earlier entry has already comes as
    ``<label>_<name>``."""
    from marketsai.analysis.evaluations import run_evaluation

    merged, tables = {}, {}  # "results" (and "results_untrained"): evaluations side by side
    placed: list[set] = []  # what each entry wrote under its label (entry_names.check_readable)
    for k, (entry, label) in enumerate(zip(entries, entry_labels(entries), strict=True)):
        out = run_evaluation(entry["name"], economy, policy, entry["settings"], seed, learner=learner,
                             learner_settings=learner_settings, path=f"evaluate[{k}]")
        repeated, mine = is_repeated(entry, label), set()
        for name, frame in out.tables.items():
            if name in out.economy_tables:  # one per run: LearnKind.run_tables
                continue
            if name in RESULTS and not repeated and (name not in merged or len(frame) == len(merged[name])):
                if name not in merged:
                    merged[name] = frame.reset_index(drop=True)
                else:
                    merged[name], cols = side_by_side(merged[name], frame, label, k)
                    mine |= {(name, c) for c in cols}
                continue
            # a table of its own: another number of episodes, a second entry's, or any other
            at = place(name, tables, label, "table", k, own=repeated or name in RESULTS)
            tables[at] = frame
            mine |= {at} if at != name else set()
        placed.append(mine)
    check_readable(entries, tables | merged, placed)
    results = merged.pop("results", None)
    return (results if results is not None else pd.DataFrame(index=[0])), tables | merged


def learning_curve(economy, learner, cfg: dict, seeds: list[int], kept: list[dict]) -> pd.DataFrame:
    """The ``curve`` table of one unit: every kept period's policies (``kept``, by period,
    one policy per seed in the order of ``seeds``) scored by the file's ``curve:``
    evaluations -- one row per seed and period: ``seed``, ``periods``, ``train_seconds``
    (the training seconds to that period, every process's) and the mean over episodes of
    each numeric results column."""
    rows = []
    for k in kept:
        if len(k["policies"]) != len(seeds):
            raise RuntimeError(f"{len(k['policies'])} kept policies at period {k['periods']} for {len(seeds)} seeds")
        for seed, policy in zip(seeds, k["policies"], strict=True):
            res, _ = evaluate_policy(economy, policy, cfg["curve"], seed, learner, cfg["learner"]["settings"])
            means = res.drop(columns=["seed", "session"], errors="ignore").mean(numeric_only=True)
            rows.append({"seed": seed, "periods": k["periods"], "train_seconds": k["seconds"], **means.to_dict()})
    return pd.DataFrame(rows, columns=None if rows else ["seed", "periods", "train_seconds"])


def curve_columns(curve: pd.DataFrame, entries: list[dict]) -> list[str]:
    """The columns a learning curve draws: each ``curve:`` evaluation's ``headline``
    columns found in the table, else its first four numeric columns."""
    wanted = [c for k, e in enumerate(entries)
              for c in evaluation_class(e["name"], f"curve[{k}].name").headline if c in curve]
    numeric = [c for c in curve.select_dtypes("number") if c not in ("seed", "periods", "train_seconds")]
    return list(dict.fromkeys(wanted)) or numeric[:4]


def _resolved_entries(given: list, key: str, untrained: bool | None = None) -> list[dict]:
    """Evaluation entries (names or ``{name, settings}``) with every setting resolved;
    ``untrained`` (when not None) overrides the setting of that name where one declares it."""
    entries = []
    for k, entry in enumerate(given):
        entry = {"name": entry} if isinstance(entry, str) else entry
        cls = evaluation_class(entry["name"], f"{key}[{k}].name")
        settings = resolve(entry.get("settings"), cls.declared(), f"{key}[{k}].settings", "evaluation settings")
        if untrained is not None and "untrained" in settings:
            settings["untrained"] = untrained
        entries.append({"name": entry["name"], "settings": settings})
    return entries


# ------------------------------------------------------------------ the kind

#: results column -> summary key of its mean, where kind: tabular names it otherwise
_SUMMARY_KEYS = {"converged": "converged_share", "periods": "periods_mean"}


def seed_list(cfg: dict) -> list[int]:
    s = cfg["seeds"]
    return list(range(s)) if isinstance(s, int) else list(s)


def learner_of(cfg: dict, path: str = "learner.name"):
    from marketsai.learners import learners
    return learners.get(cfg["learner"]["name"], path)()


def _scalar_keys(summary: dict) -> list[str]:
    return [k for k, v in summary.items() if k not in ("kind", "reference")
            and (v is None or isinstance(v, (int, float, str)))]


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
        "curve": Param([], _entries, "evaluations of the policies the learner kept along its training "
                                     "(learner.settings.keep_policies): table curve, one row per seed and kept "
                                     "period, each evaluation's results averaged over its episodes"),
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
        cfg["evaluate"] = _resolved_entries(cfg["evaluate"], "evaluate")
        cfg["curve"] = _resolved_entries(cfg.get("curve") or [], "curve", untrained=False)  # kept policies only
        if cfg["curve"] and not learner.keeps_policies(cfg["learner"]["settings"]):
            from marketsai.errors import SpecError
            raise SpecError("curve needs policies kept along the training", path="curve",
                            value=[e["name"] for e in cfg["curve"]],
                            allowed="curve: [] here, or a learner that keeps them (dqn_batched, sac_batched, "
                                    "ppo_batched with learner.settings.keep_policies: true)")
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
        learner = learner_of(cfg)
        rows, extra = [], {}
        for seed, policy in zip(seeds, policies, strict=True):
            res, tables = evaluate_policy(econ, policy, cfg["evaluate"], seed, learner,
                                          cfg["learner"]["settings"])
            info = {k: v for k, v in policy.info.items() if k != "seed" and k not in res}
            res = res.assign(**info) if info else res
            rows.append(res.assign(seed=seed)[["seed", *info, *[c for c in res if c not in info]]])
            for name, frame in tables.items():
                extra.setdefault(name, []).append(frame.assign(seed=seed)[["seed", *frame.columns]])
        out = {"results": pd.concat(rows, ignore_index=True)}
        out |= {name: _unique_sessions(pd.concat(frames, ignore_index=True)) for name, frames in extra.items()}
        if cfg.get("curve"):
            if "curve" in out:  # nothing is overwritten (entry_names): an evaluation's own table
                raise RuntimeError("an evaluation wrote a table named 'curve', the learning curve's name")
            out["curve"] = learning_curve(econ, learner, cfg, seeds, learner.kept_policies(work))
        return out

    def starts_ray(self, cfg: dict) -> str | None:
        """The learner, if it starts Ray itself (:attr:`Learner.starts_ray`: the RLlib
        learners, one Tune trial per seed); the others run side by side in processes."""
        return f"learner {cfg['learner']['name']!r}" if learner_of(cfg).starts_ray else None

    def noisy(self, cfg: dict) -> bool:
        """Whether the learner's libraries print logs of their own (RLlib learners)."""
        return learner_of(cfg).is_noisy(cfg["learner"].get("settings") or {})

    def run_tables(self, cfg: dict) -> dict[str, pd.DataFrame]:
        """Each evaluation's tables of the economy alone (the calvano evaluation's per-firm
        ``benchmarks``), once per run; a table an earlier entry made the same is kept once,
        one that differs comes as ``<label>_<table>`` (:mod:`~marketsai.runner.entry_names`)."""
        from marketsai.economy import Economy

        econ, out, entries = Economy.from_dict(cfg["economy"]), {}, cfg["evaluate"]
        for k, (entry, label) in enumerate(zip(entries, entry_labels(entries), strict=True)):
            made = evaluation_class(entry["name"], f"evaluate[{k}].name")().economy_tables(econ, entry["settings"])
            for name, frame in made.items():
                if not (name in out and out[name].equals(frame)):
                    out[place(name, out, label, "table", k)] = frame
        return out

    def summarise(self, tables: dict[str, pd.DataFrame], cfg: dict) -> dict:
        """The learner, seeds and the learner's own columns (``converged_share``,
        ``periods_mean``, ... as ``kind: tabular`` names them), then each evaluation's own
        summary of the assembled tables (the calvano evaluation: ``kind: tabular``'s keys).
        An evaluation with ``untrained: true`` also summarises the untrained policies'
        tables (``results_untrained``, ...) the same way, under ``untrained`` -- the floor a
        trained policy is read against, as :func:`~marketsai.analysis.evaluations.run_evaluation`
        names it."""
        res = tables["results"]
        out: dict = {"learner": cfg["learner"]["name"], "seeds": int(res["seed"].nunique())}
        for col, key in _SUMMARY_KEYS.items():
            if col in res:
                vals = pd.to_numeric(res[col], errors="coerce").dropna()
                out[key] = float(vals.mean()) if len(vals) else None
        fixed, entries = None, cfg["evaluate"]
        for k, (entry, label) in enumerate(zip(entries, entry_labels(entries), strict=True)):
            ev = evaluation_class(entry["name"], f"evaluate[{k}].name")()
            view = entry_tables(tables, entries, k)
            own, floor = ev.summarise(view, entry["settings"]), None
            if entry["settings"]["untrained"] and "results" + UNTRAINED in view:
                fixed = list(self.run_tables(cfg)) if fixed is None else fixed
                floor = ev.summarise(untrained_tables(view, fixed), entry["settings"])
            if is_repeated(entry, label):  # a second entry of one evaluation: keys of its own
                out = merge_keys(out, {label: own | ({"untrained": floor} if floor is not None else {})},
                                 label, "summary key", k)
                continue
            out = merge_keys(out, own, label, "summary key", k)  # keys an earlier one has: <label>_<key>
            if floor is not None:
                out["untrained"] = merge_keys(out.get("untrained", {}), floor, label, "summary key", k)
        return out

    def format_summary(self, summary: dict, ref: dict) -> str | None:
        """Every scalar of the summary (the Table I layout first, with profit gains), then
        those of the untrained policies."""
        from marketsai.runner.run import default_summary_text
        lines = []
        if summary.get("table_1"):
            lines += ["Profit gain by limit-cycle length (Calvano et al. 2020, Table I layout)",
                      pd.DataFrame(summary["table_1"]).to_string(
                          index=False, float_format=lambda x: f"{x:.3f}"), ""]
        lines.append(default_summary_text(summary, ref, _scalar_keys(summary)))
        floor = summary.get("untrained")
        if isinstance(floor, dict):
            lines += ["", "Untrained policies (the floor: each seed's policy before learning)",
                      default_summary_text(floor, {}, _scalar_keys(floor))]
        return "\n".join(lines)

    def figures(self, tables: dict[str, pd.DataFrame], cfg: dict, summary: dict) -> dict:
        from marketsai.economy import Economy

        econ, figs, entries = Economy.from_dict(cfg["economy"]), {}, cfg["evaluate"]
        for k, (entry, label) in enumerate(zip(entries, entry_labels(entries), strict=True)):
            ev = evaluation_class(entry["name"], f"evaluate[{k}].name")()
            drawn = ev.figures(entry_tables(tables, entries, k), econ, entry["settings"]) or {}
            figs = merge_keys(figs, {f"{label}_{name}": fig for name, fig in drawn.items()}
                              if is_repeated(entry, label) else drawn, label, "figure", k)
        curve = tables.get("curve")
        if curve is not None and len(curve) and "learning_curve" not in figs:
            from marketsai.analysis.learning_curve import plot_seed_curves
            fig = plot_seed_curves(curve, curve_columns(curve, cfg.get("curve") or []))
            if fig is not None:
                figs["learning_curve"] = fig
        return figs
