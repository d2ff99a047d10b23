"""Converged baselines, trained once and reused by every intervention.

A baseline is a chunk of sessions ``[lo, hi)`` of one population (economy, learner,
seed) run to convergence. It is saved under a content-addressed folder
``<baseline_dir>/<fingerprint>.npz`` (:meth:`SessionResults.save`), so a resumed or
extended study -- or another study with the same population -- loads it instead of
training again. Sessions are independent and seeded by ``(seed, session)``, so a chunk
is the same whichever process trains it; files are written under a temporary name
and renamed into place, so an interrupted training leaves no half baseline.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from marketsai import tabular


def baseline_key(economy: dict, learner: dict, seed: int, lo: int, hi: int) -> str:
    """Fingerprint of a baseline chunk (what it depends on, nothing else)."""
    blob = json.dumps({"economy": economy, "learner": learner, "seed": int(seed),
                       "sessions": [int(lo), int(hi)]}, sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def ensure_baseline(game, cfg, *, economy: dict, learner: dict, seed: int, lo: int, hi: int,
                    root: str | Path, threads=None):
    """Load baseline chunk ``[lo, hi)`` from ``root`` or train and save it.

    Returns ``(SessionResults, trained_now)``; ``SessionResults.final`` holds the
    converged :class:`~marketsai.tabular.SessionState` (with Q-tables).
    """
    path = Path(root) / f"{baseline_key(economy, learner, seed, lo, hi)}.npz"
    if path.exists():
        return tabular.SessionResults.load(path), False
    res = tabular.run_sessions(game, cfg, seed=seed, sessions=range(lo, hi), keep_q=True,
                               threads=threads)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    os.close(fd)
    try:
        res.save(tmp)
        os.replace(tmp, path)  # atomic: a reader sees a whole file or none
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return res, True
