"""Units side by side in local processes: ``marketsai run --processes N``.

Why: a batched learner trains all seeds of a unit in one process on one core; a machine
with more cores runs more units at once only in more processes. A unit is a pure function
of ``(cfg, unit)`` (:mod:`marketsai.runner.kinds`), so where it runs changes no result.

How: each unit gets a fresh process of the ``spawn`` start method (never ``fork``: the
driver may have imported torch, numba or Ray, whose threads do not survive a fork). The
driver alone writes the run folder: a worker sends back its unit's tables (and the log
records of ``marketsai.runner``) over a pipe of its own and writes nothing but the unit's
own folder (``UnitContext.workdir``). Stopping: workers ignore SIGINT (a terminal sends
it to all of them); on Ctrl-C, SIGTERM or any error of its own the driver terminates the
running workers (their units resume from their checkpoints on a rerun), and a worker whose
driver died (SIGKILL) ends itself. A unit that raises lets the running ones finish and be
written; then the error is raised, naming the unit.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import wait

log = logging.getLogger("marketsai.runner")

#: seconds between a worker's checks that its driver is alive
PARENT_POLL_S = 1.0
#: seconds a terminated worker gets before it is killed
TERMINATE_GRACE_S = 5.0


class UnitFailed(RuntimeError):
    """A unit raised in its process (the original error is its ``__cause__`` when it could
    be sent back; its traceback is in the run's log)."""


def now() -> str:
    """The wall clock in UTC, ISO 8601 to the millisecond (when a unit started)."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


def run_side_by_side(todo: Sequence, processes: int, launch: Callable, finish: Callable) -> None:
    """Run ``todo`` (cell, unit, chunk id, fingerprint) with up to ``processes`` at once.

    ``launch(entry)`` gives the function that runs one entry's unit in its process and its
    arguments: ``(run_unit, (kind, cfg, unit, threads, context))``; ``finish(cell, unit, chunk id,
    fingerprint, tables, seconds, cpu_seconds, started)`` writes a finished unit (driver)."""
    ctx = multiprocessing.get_context("spawn")
    queue, running, failed = list(todo), {}, []
    with _sigterm_interrupts():
        try:
            while running or (queue and not failed):
                while queue and not failed and len(running) < processes:
                    entry = queue.pop(0)
                    here, there = ctx.Pipe(duplex=False)
                    proc = ctx.Process(target=_worker, name=f"marketsai unit {entry[2]}",
                                       args=(there, os.getpid(), *launch(entry)))
                    running[here] = (proc, entry)  # before it starts: stopped whatever happens
                    proc.start()
                    there.close()  # the worker's end: closed here, so its death reads as EOF
                for conn in wait(list(running)):
                    proc, entry = running[conn]
                    first = not failed
                    if _receive(conn, proc, entry, finish, failed):
                        del running[conn]
                        conn.close()
                        proc.join()
                    if first and failed and running:
                        log.warning("waiting for the %d running units to finish (Ctrl-C stops them; "
                                    "they resume on a rerun); %d units not started", len(running), len(queue))
        except BaseException:
            _stop(running)
            raise
    if failed:
        raise failed[0][1]


def _receive(conn, proc, entry, finish: Callable, failed: list) -> bool:
    """Handle one message of a worker; True when the worker is done (result, error or death)."""
    chunk_id = entry[2]
    try:
        kind, *payload = conn.recv()
    except EOFError:
        proc.join()
        _failed(failed, chunk_id, UnitFailed(
            f"unit {chunk_id}: its process ended (exit code {proc.exitcode}) before it returned "
            "its tables (a script that runs with processes > 1 must do so under `if __name__ == "
            "'__main__':`, which spawned processes skip); rerun to resume it"), None)
        return True
    if kind == "log":
        log.handle(payload[0])
        return False
    if kind == "done":
        finish(*entry, *payload)
        return True
    name, message, text, original = payload
    _failed(failed, chunk_id, UnitFailed(f"unit {chunk_id} failed: {name}: {message}"), original, text)
    return True


def _failed(failed: list, chunk_id: str, exc: UnitFailed, cause, text: str = "") -> None:
    exc.__cause__ = cause
    log.error("%s%s", exc, f"\n{text}" if text else "")
    failed.append((chunk_id, exc))


def _stop(running: dict) -> None:
    """Terminate the running workers (SIGTERM, then SIGKILL after a grace period)."""
    for proc, _entry in running.values():
        if proc.is_alive():
            proc.terminate()
    deadline = time.monotonic() + TERMINATE_GRACE_S
    for conn, (proc, _entry) in running.items():
        if proc.pid is not None:  # started
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join()
        conn.close()
    running.clear()


@contextlib.contextmanager
def _sigterm_interrupts():
    """Within the block, SIGTERM raises KeyboardInterrupt in the driver (as Ctrl-C does), so
    that the workers are stopped and the run is recorded as interrupted."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt("SIGTERM")

    old = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


# ------------------------------------------------------------------ in the worker


class _PipeHandler(logging.Handler):
    """Sends the worker's log records to the driver, which writes them to the run's log."""

    def __init__(self, conn):
        super().__init__(logging.INFO)
        self.conn = conn

    def emit(self, record):
        try:
            record.msg, record.args = record.getMessage(), None  # its arguments need not pickle
            record.exc_info = record.exc_text = None
            self.conn.send(("log", record))
        except Exception:  # a record that cannot be sent must not fail the unit
            self.handleError(record)


def _worker(conn, parent: int, run_unit: Callable, args: tuple) -> None:
    """A worker process: run one unit (``run_unit(*args)``) and send back its tables, or the
    error it raised."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver decides when a worker stops
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    handler = _PipeHandler(conn)
    runner_log = logging.getLogger("marketsai.runner")
    runner_log.addHandler(handler)
    runner_log.setLevel(logging.INFO)
    started, t0, c0 = now(), time.perf_counter(), time.process_time()
    try:
        tables = run_unit(*args)
        message = ("done", tables, time.perf_counter() - t0, time.process_time() - c0, started)
    except BaseException as exc:  # sent back: the driver raises it, naming the unit
        message = ("failed", type(exc).__name__, str(exc), traceback.format_exc(), _picklable(exc))
    handler.acquire()  # not in the middle of a log record another thread sends
    try:
        conn.send(message)
    finally:
        handler.release()
    conn.close()


def _picklable(exc: BaseException) -> BaseException | None:
    import pickle
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return None


def _exit_with_parent(parent: int) -> None:
    """End this worker when its driver is gone (killed without a chance to stop it)."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os.kill(os.getpid(), signal.SIGKILL)
