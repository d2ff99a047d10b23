"""Run work units locally (in the driver or side by side in local processes) or as Ray
tasks; write each finished unit as a chunk.

Results do not depend on where a unit runs: a unit is a pure function of its cell's
configuration (see :mod:`marketsai.runner.kinds`). Ray is imported only when an address
is given; the core never imports it. Each chunk's ``done.json`` records when its unit
started (UTC), its wall and CPU seconds: units that ran side by side overlap in time.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence

from marketsai.runner.config import Experiment
from marketsai.runner.kinds import Unit, UnitContext
from marketsai.runner.processes import now, run_side_by_side
from marketsai.runner.store import RunFolder

log = logging.getLogger("marketsai.runner")

#: test hook: stop (raise KeyboardInterrupt) after this many units were written
CHUNK_LIMIT_ENV = "MARKETSAI_STOP_AFTER_CHUNKS"


class Progress:
    """A tqdm bar over sessions (or trials) with running counters (e.g. converged)."""

    def __init__(self, total: int, done: int, label: str, enabled: bool, file=None):
        self.counters: dict[str, int] = {}
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=total, initial=done, unit=f" {label}", dynamic_ncols=True,
                            smoothing=0.05, file=file)

    def update(self, size: int, counters: dict[str, int]) -> None:
        for k, v in counters.items():
            self.counters[k] = self.counters.get(k, 0) + v
        if self.bar is not None:
            if self.counters:
                self.bar.set_postfix(self.counters, refresh=False)
            self.bar.update(size)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def execute(exp: Experiment, folder: RunFolder, todo: Sequence[tuple[int, Unit, str, str]],
            progress: Progress, threads: int | None = None, address: str | None = None,
            processes: int = 1) -> None:
    """Run the units in ``todo`` (cell, unit, chunk id, fingerprint) and write chunks;
    ``processes`` > 1: that many at once, each in a local process of its own
    (:mod:`~marketsai.runner.processes`; not with ``address``)."""
    limit = int(os.environ.get(CHUNK_LIMIT_ENV, "0") or 0)
    written = 0

    def finish(cell, unit, chunk_id, fp, tables, seconds, cpu_seconds, started):
        nonlocal written
        folder.write_chunk(chunk_id, fp, tables, {"started": started, "seconds": round(seconds, 3),
                                                  "cpu_seconds": round(cpu_seconds, 3), "cell": cell},
                           unit=unit)
        counters = exp.kind.progress(tables)
        log.info("chunk %s done in %.1fs (%s)", chunk_id, seconds,
                 ", ".join(f"{k} {v}/{unit.size}" for k, v in counters.items()) or f"{unit.size}")
        progress.update(unit.size, counters)
        written += 1
        if limit and written >= limit:
            raise KeyboardInterrupt(f"{CHUNK_LIMIT_ENV}={limit} reached")

    if processes > 1:
        if address is not None:
            raise ValueError("processes > 1 runs units in local processes; not with a Ray address")
        run_side_by_side(todo, processes, lambda entry: (run_unit, (
            exp.kind, exp.cell_config(entry[0]), entry[1], threads,
            unit_context(exp.kind, folder, entry[2], entry[3], None))), finish)
    elif address is None or exp.kind.ray_in_unit:
        for cell, unit, chunk_id, fp in todo:
            started, t0, c0 = now(), time.perf_counter(), time.process_time()
            tables = run_unit(exp.kind, exp.cell_config(cell), unit, threads,
                              unit_context(exp.kind, folder, chunk_id, fp, address))
            finish(cell, unit, chunk_id, fp, tables, time.perf_counter() - t0, time.process_time() - c0,
                   started)
    else:
        _execute_ray(exp, todo, finish, threads, address)


def unit_context(kind, folder: RunFolder, chunk_id: str, fingerprint: str,
                 address: str | None) -> UnitContext | None:
    """The :class:`UnitContext` of a ``uses_workdir`` kind's unit (None for other kinds)."""
    if not kind.uses_workdir:
        return None
    return UnitContext(workdir=folder.root / kind.workdir_name / chunk_id, root=folder.root,
                       fingerprint=fingerprint, address=address)


def run_unit(kind, cfg: dict, unit: Unit, threads: int | None, context: UnitContext | None):
    if context is None:
        return kind.run_unit(cfg, unit, threads)
    return kind.run_unit(cfg, unit, threads, context=context)


def _run_remote(kind, cfg, unit, threads):
    """A unit on a Ray worker: its tables, wall seconds, the worker process's CPU seconds and
    when it started."""
    started, t0, c0 = now(), time.perf_counter(), time.process_time()
    tables = kind.run_unit(cfg, unit, threads)
    return tables, time.perf_counter() - t0, time.process_time() - c0, started


def _execute_ray(exp: Experiment, todo, finish: Callable, threads: int | None, address: str):
    try:
        import ray
    except ImportError:
        raise RuntimeError("running on a Ray cluster needs ray: pip install 'marketsai[rllib]'") \
            from None
    connected_here = not ray.is_initialized()
    if connected_here:
        from marketsai.runner.cluster import init_ray
        init_ray(address, log_to_driver=False, configure_logging=False)
    else:
        log.warning("ray is already initialised in this process; using that connection, "
                    "not %s", address)
    pending: dict = {}
    try:
        remote = ray.remote(num_cpus=threads or 1)(_run_remote)
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        window = 2 * cpus  # bounded in-flight tasks: chunks land on disk as they finish
        queue = list(todo)
        while queue or pending:
            while queue and len(pending) < window:
                cell, unit, chunk_id, fp = queue.pop(0)
                ref = remote.remote(exp.kind, exp.cell_config(cell), unit, threads or 1)
                pending[ref] = (cell, unit, chunk_id, fp)
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                cell, unit, chunk_id, fp = pending.pop(ref)
                finish(cell, unit, chunk_id, fp, *ray.get(ref))
    except BaseException:
        for ref in pending:  # interrupted or failed: do not leave work running on the cluster
            ray.cancel(ref, force=True)
        raise
    finally:
        if connected_here:
            ray.shutdown()
