"""Policies kept along a training: each seed's policy at a checkpoint, for a learning curve.

Why: "how many periods, and how much wall time, to each accuracy" is read off a curve of
the evaluation against training, and a trained policy says nothing of when it got there.
A learner that keeps policies writes each seed's policy of a checkpoint period into its
unit folder; the learn kind scores them after training with the file's ``curve:``
evaluations (:mod:`marketsai.runner.learn`), so the curve is measured by the same analysis
as the result, and keeping changes no result of the training.

Layout: ``<unit folder>/kept_policies/<periods>.pkl``, each a pickle of
``{"periods", "seconds", "policies"}`` -- the training seconds up to that period (every
process's, by the training journal; None where they were not timed) and one policy per seed
of the unit, in the unit's order. Written atomically; the file of a period already kept is
left as it is (a resumed training passes its last checkpoint again). The files are pickles:
read them only from run folders you made.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from marketsai.runner.store import atomic_write_bytes

FOLDER = "kept_policies"


def keep(run_dir, periods: int, seconds: float | None, policies: list) -> Path:
    """Keep ``policies`` (one per seed) of period ``periods`` in ``run_dir``."""
    path = Path(run_dir) / FOLDER / f"{int(periods)}.pkl"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, pickle.dumps({"periods": int(periods), "seconds": seconds,
                                               "policies": list(policies)}))
    return path


def kept(run_dir) -> list[dict]:
    """Every kept checkpoint of ``run_dir`` by period: ``{"periods", "seconds", "policies"}``."""
    folder = Path(run_dir) / FOLDER
    if not folder.is_dir():
        return []
    found = [pickle.loads(p.read_bytes()) for p in folder.glob("*.pkl")]
    return sorted(found, key=lambda k: k["periods"])


__all__ = ["FOLDER", "keep", "kept"]
