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
(``converged``, ``periods``, ...) and each evaluation's ``results`` columns, side by side
where their row counts agree; an evaluation with another row count writes
``<name>_results``, and a second entry of one evaluation all its tables as
``<name>_<index>_<table>`` (:func:`entry_labels`; each entry's summary and figures read its
own rows: :func:`entry_tables`); every other table an evaluation returns gets a ``seed``
column and is concatenated over seeds, except those of the economy alone
(``Evaluation.economy_tables``: the calvano evaluation's per-firm ``benchmarks``), made once
per run (:meth:`LearnKind.run_tables`).
An evaluation with ``untrained: true`` adds the untrained policies' tables
(``results_untrained``, same columns) and the summary their own summary, under
``untrained`` (``summary["untrained"]["profit_gain"]``: the floor).
Units run in the driver (a learner may use Ray itself, e.g. RLlib); an RLlib learner's
own output goes to the run's ``log`` unless the run is ``verbose``.

Evaluations are resolved through :mod:`marketsai.analysis.evaluations` (the registry of
evaluations); :func:`evaluation_class` is the one place this module meets it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd

from marketsai.params import Check, Param, positive_int
from marketsai.runner.kinds import ExperimentKind, Unit, UnitContext, experiment_kinds
from marketsai.runner.schema import mapping, resolve, text
from marketsai.runner.store import atomic_write_text

FINGERPRINT_FILE = "fingerprint"
#: suffix of an evaluation's tables of the untrained policies (``untrained: true``)
UNTRAINED = "_untrained"
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


def entry_labels(entries: list[dict]) -> list[str]:
    """The name that tells each entry's own tables apart: its evaluation's name (an import
    path's characters other than letters, digits and ``_`` as ``_``), and for a second entry
    of the same evaluation also its index in ``evaluate`` (``calvano_2``)."""
    labels, seen = [], set()
    for k, entry in enumerate(entries):
        labels.append(_plain(entry) if entry["name"] not in seen else f"{_plain(entry)}_{k}")
        seen.add(entry["name"])
    return labels


def _plain(entry: dict) -> str:
    """The entry's evaluation name as a table-name prefix (an import path's ``.`` and ``:`` as ``_``)."""
    return re.sub(r"\W", "_", entry["name"])


def _repeated(entry: dict, label: str) -> bool:
    """Whether ``label`` is that of a second (third, ...) entry of one evaluation: all its
    tables, and its summary, go under the label."""
    return label != _plain(entry)


def evaluate_policy(economy, policy, entries: list[dict], seed: int = 0, learner=None,
                    learner_settings=None) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Every evaluation of one policy: its results rows (one per episode of the evaluation,
    evaluations side by side) and its other tables. An evaluation with another number of
    rows keeps its own ``<label>_results`` (:func:`entry_labels`); a second entry of one
    evaluation keeps every table of its own, as ``<label>_<table>``."""
    from marketsai.analysis.evaluations import run_evaluation

    merged, tables = {}, {}  # "results" (and "results_untrained"): evaluations side by side
    for k, (entry, label) in enumerate(zip(entries, entry_labels(entries), strict=True)):
        out = run_evaluation(entry["name"], economy, policy, entry["settings"], seed, learner=learner,
                             learner_settings=learner_settings, path=f"evaluate[{k}]")
        repeated = _repeated(entry, label)
        for name, frame in out.tables.items():
            if name in out.economy_tables:  # one per run: LearnKind.run_tables
                continue
            if repeated:
                tables[f"{label}_{name}"] = frame
            elif name not in ("results", "results" + UNTRAINED):
                tables[name] = frame
            elif name not in merged:
                merged[name] = frame.reset_index(drop=True)
            elif len(frame) == len(merged[name]):
                merged[name] = pd.concat([merged[name], frame.drop(
                    columns=[c for c in frame if c in merged[name]]).reset_index(drop=True)], axis=1)
            else:  # another number of episodes: a table of its own
                tables[f"{label}_{name}"] = frame
    results = merged.pop("results", None)
    return (results if results is not None else pd.DataFrame(index=[0])), tables | merged


def entry_tables(tables: dict[str, pd.DataFrame], entries: list[dict], k: int) -> dict[str, pd.DataFrame]:
    """The run's tables as entry ``k`` of ``evaluate`` wrote them: its own rows as
    ``results`` (``results_untrained``) where :func:`evaluate_policy` gave them a table of
    their own, and a second entry of one evaluation its every table under its own name;
    what that entry's ``summarise`` and ``figures`` read."""
    label = entry_labels(entries)[k]
    prefix = label + "_"
    if _repeated(entries[k], label):
        own = {name[len(prefix):]: frame for name, frame in tables.items() if name.startswith(prefix)}
    else:
        own = {name: tables[prefix + name] for name in ("results", "results" + UNTRAINED)
               if prefix + name in tables}
    return tables | own


def untrained_tables(tables: dict[str, pd.DataFrame], economy_tables) -> dict[str, pd.DataFrame]:
    """The untrained policies' tables (``<name>_untrained``) under their trained names, beside
    the economy's own tables (``economy_tables``: names): what an evaluation's ``summarise``
    reads for the floor, exactly as it reads the trained policies' tables."""
    floor = {name.removesuffix(UNTRAINED): frame for name, frame in tables.items()
             if name.endswith(UNTRAINED)}
    return floor | {name: tables[name] for name in economy_tables if name in tables}


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
                entry.get("settings"), cls.declared(), f"evaluate[{k}].settings",
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
        return out

    def noisy(self, cfg: dict) -> bool:
        """Whether the learner's libraries print logs of their own (RLlib learners)."""
        return learner_of(cfg).is_noisy(cfg["learner"].get("settings") or {})

    def run_tables(self, cfg: dict) -> dict[str, pd.DataFrame]:
        """Each evaluation's tables of the economy alone (the calvano evaluation's per-firm
        ``benchmarks``), once per run."""
        from marketsai.economy import Economy

        econ, out = Economy.from_dict(cfg["economy"]), {}
        for k, entry in enumerate(cfg["evaluate"]):
            out |= evaluation_class(entry["name"], f"evaluate[{k}].name")().economy_tables(
                econ, entry["settings"])
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
            if _repeated(entry, label):  # a second entry of one evaluation: keys of its own
                out[label] = own | ({"untrained": floor} if floor is not None else {})
                continue
            out |= own
            if floor is not None:
                out["untrained"] = out.get("untrained", {}) | floor
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
            figs |= {f"{label}_{name}": fig for name, fig in drawn.items()} \
                if _repeated(entry, label) else drawn
        return figs
