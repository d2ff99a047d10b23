"""The segments of a resumable training: which process trained which periods, in how long.

Why: a batched training that is interrupted resumes from its latest checkpoint in a new
process, and the run folder's ``done.json`` times only that last process; the cost of a
study that ran in three pieces over two days is the sum of the pieces. The journal
(``segments.json`` beside the checkpoint) records one entry per process that trained the
unit -- when it started, the periods it began and ended at, its wall and CPU seconds --
rewritten atomically at every checkpoint, so a killed process's entry stands as of its last
checkpoint (the periods it trained after that were lost and are trained again by the next
one; their time is not counted).

    journal = TrainJournal.open(run_dir, key, periods)   # a new segment, after the restore
    ...; journal.record(run.periods, finished=False)      # at each checkpoint
"""

from __future__ import annotations

import datetime
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from marketsai.runner.store import atomic_write_text, json_text

JOURNAL = "segments.json"


@dataclass
class TrainJournal:
    """The journal at ``path`` of the training whose checkpoint key hashes to ``key``; its last
    entry is this process's segment."""

    path: Path | None
    key: str
    segments: list[dict] = field(default_factory=list)
    _t0: float = 0.0
    _c0: float = 0.0

    @classmethod
    def open(cls, run_dir, key: str, periods: int) -> TrainJournal:
        """Start a segment at ``periods`` (the periods restored from the checkpoint, 0 for a new
        training). A journal of another training (another key: the settings changed, so the
        checkpoint was not resumed) or of none is started afresh. ``run_dir`` None: not written."""
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        path = None if run_dir is None else Path(run_dir) / JOURNAL
        earlier = []
        if path is not None and path.is_file():
            old = json.loads(path.read_text())
            if old.get("key") == digest and periods > 0:
                earlier = old["segments"]
        journal = cls(path, digest, earlier, time.perf_counter(), time.process_time())
        journal.segments.append({"started": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
                                 "periods_from": int(periods), "periods_to": int(periods),
                                 "seconds": 0.0, "cpu_seconds": 0.0, "finished": False})
        return journal

    @property
    def seconds(self) -> float:
        """Training seconds of every segment so far, this one up to its last record."""
        return round(sum(s["seconds"] for s in self.segments), 3)

    def record(self, periods: int, finished: bool) -> None:
        """This segment trained up to ``periods``; write the journal (atomically)."""
        self.segments[-1] |= {"periods_to": int(periods), "finished": bool(finished),
                              "seconds": round(time.perf_counter() - self._t0, 3),
                              "cpu_seconds": round(time.process_time() - self._c0, 3)}
        if self.path is not None:
            atomic_write_text(self.path, json_text({"key": self.key, "segments": self.segments}))


def earlier_segments(run_dir) -> dict:
    """The segments before the last of the journal in ``run_dir``: ``count`` (all segments,
    the last included), ``seconds`` and ``cpu_seconds`` (the earlier ones' sum, each up to its
    last checkpoint); ``complete``: whether the journal starts at period 0 (a checkpoint
    written before the journal existed and resumed after starts it later: the periods before
    were not timed). A folder without a journal: count NaN, zeros, not complete."""
    path = Path(run_dir) / JOURNAL
    if not path.is_file():
        return {"count": float("nan"), "seconds": 0.0, "cpu_seconds": 0.0, "complete": False}
    segments = json.loads(path.read_text())["segments"]
    return {"count": len(segments), "seconds": sum(s["seconds"] for s in segments[:-1]),
            "cpu_seconds": sum(s["cpu_seconds"] for s in segments[:-1]),
            "complete": segments[0]["periods_from"] == 0}


def earlier_spans(run_dir) -> list[tuple[str | None, float]]:
    """When the segments before the last of the journal in ``run_dir`` ran: ``(started,
    seconds)`` each (``started`` None where the journal did not record it), for the wall time
    of units that ran side by side (:func:`marketsai.runner.store.union_seconds`); [] without a journal."""
    path = Path(run_dir) / JOURNAL
    if not path.is_file():
        return []
    return [(s.get("started"), s["seconds"]) for s in json.loads(path.read_text())["segments"][:-1]]


__all__ = ["JOURNAL", "TrainJournal", "earlier_segments", "earlier_spans"]
