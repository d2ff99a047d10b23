"""Experiment kinds: what an experiment file with ``kind: <name>`` runs.

The runner (config resolution, sweeps, chunks, resume, Ray, run folders) is generic;
a kind supplies the science. To add one, subclass :class:`ExperimentKind` and register
it::

    from marketsai.runner import ExperimentKind, Unit, experiment_kinds

    @experiment_kinds.register("my_kind")
    class MyKind(ExperimentKind):
        schema = {"trials": Param(10, positive_int, "how many trials"),
                  "chunk_size": Param(5, positive_int, "trials per chunk")}
        size_keys = ("trials",)

        def units(self, cfg):                     # stable ids; sizes for the progress bar
            n, c = cfg["trials"], cfg["chunk_size"]
            return [Unit(f"t{lo:06d}", min(c, n - lo), {"lo": lo, "hi": min(n, lo + c)})
                    for lo in range(0, n, c)]

        def run_unit(self, cfg, unit, threads=None):   # -> {"results": DataFrame, ...}
            ...

        def summarise(self, tables, cfg):           # tables assembled from all chunks
            return {"trials": len(tables["results"])}

        def figures(self, tables, cfg, summary):    # {name: matplotlib Figure}
            return {}

The module defining a kind must be imported before a file naming it is loaded; kinds
named in :data:`KIND_MODULES` are imported on demand, and ``kind:`` also accepts an
import path ``package.module:Class``.

Contract for :meth:`ExperimentKind.run_unit`: a pure function of ``(cfg, unit)`` --
the same result in any process, with any thread count, whichever other units run --
because the runner may run units in any order, resume from any subset, or ship them
to Ray workers. Every table it returns has one row per session / trial (or per
session / trial and step, like the rllib kind's ``progress``); the runner
concatenates the chunks in unit order and, in sweeps, prepends ``cell`` and one column
per swept key.

Kinds that keep files of their own per unit (RLlib: checkpoints, Tune logs) set
``uses_workdir = True`` and receive ``context=`` (a :class:`UnitContext`: the unit's own
folder ``RUN/<workdir_name>/<chunk id>``, the run folder, the chunk's fingerprint and the
``--address``). Kinds that use Ray themselves inside a unit (``ray_in_unit = True``) are
run in the driver process even with ``--address``: the unit joins the cluster, its
tasks and actors run there, and only the driver writes the run folder. ``--processes N``
runs up to N units at once, each in a local process of its own
(:mod:`marketsai.runner.processes`), unless :meth:`ExperimentKind.starts_ray` names
something in the unit that starts Ray itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from marketsai.registry import Registry


@dataclass(frozen=True)
class Unit:
    """One chunk of work: a stable ``id`` (file-name safe), its ``size`` in sessions or
    trials (for progress), and kind-specific ``params`` (plain data)."""

    id: str
    size: int
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class UnitContext:
    """Where a unit of a ``uses_workdir`` kind may keep its own files, and what for."""

    workdir: Path  # RUN/<workdir_name>/<chunk id>: the unit's own files (checkpoints)
    root: Path  # the run folder
    fingerprint: str  # of what the unit computes: files of another config are stale
    address: str | None = None  # --address: the Ray cluster (ray_in_unit kinds)


class ExperimentKind:
    """Base class of experiment kinds; see the module docstring."""

    #: kind-specific keys of the experiment file: ``name -> Param | dict`` (a section)
    schema: ClassVar[dict] = {}
    #: keys that only decide how many units there are (not what a unit computes); a
    #: run folder whose config differs only in these keys reuses finished chunks
    size_keys: ClassVar[tuple[str, ...]] = ()
    #: what a unit's ``size`` counts, for the progress bar
    unit_label: ClassVar[str] = "sessions"
    #: summary key drawn in sweep heat maps / line plots, and its label
    sweep_value: ClassVar[str | None] = None
    sweep_value_label: ClassVar[str] = ""
    #: summary key (a share in [0, 1]) whose cells at or above one half a sweep heat map
    #: marks, and what the mark means: ``(key, label)``, or None
    sweep_flag: ClassVar[tuple[str, str] | None] = None
    #: run_unit takes ``context=UnitContext(...)``: a folder of the unit's own files
    uses_workdir: ClassVar[bool] = False
    #: the folder of the run folder holding the units' workdirs
    workdir_name: ClassVar[str] = "units"
    #: the unit uses Ray itself (joins ``--address``): run it in the driver, not as a task
    ray_in_unit: ClassVar[bool] = False

    def check(self, cfg: dict) -> dict:
        """Cross-field checks after defaults are filled; return the (normalised) config.
        Raise :class:`SpecError` with the field path."""
        return cfg

    def units(self, cfg: dict) -> list[Unit]:
        raise NotImplementedError

    def run_unit(self, cfg: dict, unit: Unit, threads: int | None = None) -> dict[str, pd.DataFrame]:
        raise NotImplementedError

    def starts_ray(self, cfg: dict) -> str | None:
        """What in a unit of ``cfg`` starts a Ray instance of its own (``"learner 'DQN'"``,
        for an error message), or None: such units are not run side by side in local
        processes (``--processes``). By default: the kind itself, if ``ray_in_unit``."""
        return f"kind {type(self).__name__}" if self.ray_in_unit else None

    def noisy(self, cfg: dict) -> bool:
        """Whether a run of ``cfg`` prints libraries' logs (Ray, RLlib) that a run without
        ``verbose`` sends to the run's log file instead of the console."""
        return False

    def run_tables(self, cfg: dict) -> dict[str, pd.DataFrame]:
        """Tables of the whole run that depend on the configuration only, not on any unit
        (the economy's per-firm benchmarks): computed once after the units, written to the
        run folder next to the assembled tables and passed to ``summarise`` and ``figures``."""
        return {}

    def summarise(self, tables: dict[str, pd.DataFrame], cfg: dict) -> dict:
        return {"rows": len(tables.get("results", ()))}

    def figures(self, tables: dict[str, pd.DataFrame], cfg: dict, summary: dict) -> dict:
        return {}

    def progress(self, tables: dict[str, pd.DataFrame]) -> dict[str, int]:
        """Counters shown next to the progress bar for a finished unit."""
        res = tables.get("results")
        if res is not None and "converged" in res:
            return {"converged": int(res["converged"].sum())}
        return {}


experiment_kinds: Registry[ExperimentKind] = Registry("experiment", ExperimentKind)

def get_kind(name: Any, path: str = "kind") -> ExperimentKind:
    """The registered kind ``name``, instantiated. The package's own kinds (``tabular``,
    ``interventions``, ``rllib``, ``learn``) are entry points of group
    ``marketsai.experiment`` (``pyproject.toml``), as a plug-in's would be: their modules
    are imported the first time a kind is looked up, and this module imports none of them."""
    return experiment_kinds.get(name, path=path)()
