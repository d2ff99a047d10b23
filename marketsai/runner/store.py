"""The run folder: configuration guard, atomic chunk files, assembled tables.

Layout::

    RUN/config.yaml            fully resolved configuration (a valid experiment file)
    RUN/chunks/<id>/<table>.parquet   one finished unit's tables
    RUN/chunks/<id>/done.json         written last: the unit's fingerprint (commit marker)
    RUN/results.parquet, results.csv  assembled from the chunks (one row per session/trial)
    RUN/<table>.parquet, <table>.csv  further tables (e.g. impulse_response)
    RUN/summary.json, RUN/figures/*.png, RUN/log

Every file is written to a temporary name and moved into place with ``os.replace``, so
an interrupted run leaves whole files only; a chunk counts as finished when its
``done.json`` exists and its fingerprint matches the unit the current config asks for.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from marketsai.errors import SpecError
from marketsai.runner.schema import dump_yaml, read_yaml

DONE = "done.json"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_frame(path: Path, frame: pd.DataFrame, fmt: str = "parquet") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        if fmt == "parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def first_difference(a, b, path: str = "") -> str | None:
    """Dotted path of the first place two plain-data trees differ (None if equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                return f"{path}.{k}" if path else str(k)
            d = first_difference(a[k], b[k], f"{path}.{k}" if path else str(k))
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else (path or "<root>")


class RunFolder:
    """A run folder on disk (see the module docstring)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.chunks = self.root / "chunks"
        self.figures = self.root / "figures"

    # ----------------------------------------------------------------- config
    def claim(self, config: dict, force: bool = False) -> bool:
        """Write ``config.yaml``, or check it matches the one already there.

        Returns True when the folder held the same configuration (a resume). A
        different configuration is refused unless ``force``; with ``force`` the
        assembled outputs are removed and chunks are kept only where their fingerprint
        still matches (they are recomputed otherwise).
        """
        path = self.root / "config.yaml"
        if path.exists():
            old = read_yaml(path)
            if old == config:
                return True
            if not force:
                where = first_difference(config, old)
                raise SpecError(
                    f"run folder {self.root} holds a different configuration (first difference "
                    f"at {where}); choose another --out, or pass --force to overwrite it",
                    path=where or "")
            for name in ("summary.json",):
                (self.root / name).unlink(missing_ok=True)
            for p in self.root.glob("*.parquet"):
                p.unlink()
            for p in self.root.glob("*.csv"):
                p.unlink()
            shutil.rmtree(self.figures, ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, dump_yaml(config))
        return False

    def config(self) -> dict:
        path = self.root / "config.yaml"
        if not path.exists():
            raise SpecError("not a run folder (no config.yaml)", value=str(self.root))
        return read_yaml(path)

    # ----------------------------------------------------------------- chunks
    def chunk_done(self, chunk_id: str, fingerprint: str) -> bool:
        marker = self.chunks / chunk_id / DONE
        if not marker.exists():
            return False
        try:
            return json.loads(marker.read_text()).get("fingerprint") == fingerprint
        except (OSError, ValueError):
            return False

    def write_chunk(self, chunk_id: str, fingerprint: str, tables: dict[str, pd.DataFrame],
                    info: dict | None = None) -> None:
        folder = self.chunks / chunk_id
        (folder / DONE).unlink(missing_ok=True)
        for name, frame in tables.items():
            atomic_write_frame(folder / f"{name}.parquet", frame)
        meta = {"fingerprint": fingerprint, "tables": sorted(tables)} | (info or {})
        atomic_write_text(folder / DONE, json.dumps(meta, indent=1))

    def read_chunk(self, chunk_id: str) -> dict[str, pd.DataFrame]:
        folder = self.chunks / chunk_id
        meta = json.loads((folder / DONE).read_text())
        return {name: pd.read_parquet(folder / f"{name}.parquet") for name in meta["tables"]}

    def prune(self, keep: set[str]) -> list[str]:
        """Remove chunk folders not in ``keep`` (stale after a forced config change)."""
        removed = []
        if self.chunks.exists():
            for folder in self.chunks.iterdir():
                if folder.is_dir() and folder.name not in keep:
                    shutil.rmtree(folder)
                    removed.append(folder.name)
        return removed

    # ----------------------------------------------------------------- tables
    def write_table(self, name: str, frame: pd.DataFrame, csv: bool = True) -> None:
        atomic_write_frame(self.root / f"{name}.parquet", frame)
        if csv:
            atomic_write_frame(self.root / f"{name}.csv", frame, fmt="csv")

    def tables(self) -> dict[str, pd.DataFrame]:
        return {p.stem: pd.read_parquet(p) for p in sorted(self.root.glob("*.parquet"))}

    def write_summary(self, summary: dict) -> None:
        """``summary.json``; NaN and infinities become null (strict JSON)."""
        atomic_write_text(self.root / "summary.json", json_text(summary))

    def summary(self) -> dict:
        return json.loads((self.root / "summary.json").read_text())


def json_text(obj) -> str:
    """Strict JSON (NaN and inf become null; numpy scalars and arrays plain Python)."""
    return json.dumps(_finite(obj), indent=2, default=_json, allow_nan=False)


def _finite(x):
    import math

    import numpy as np
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    return x


def _json(x):
    import numpy as np
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)
