"""The run folder: configuration guard, atomic chunk files, assembled tables.

Layout::

    RUN/config.yaml            fully resolved configuration (a valid experiment file)
    RUN/chunks/<id>/<table>.parquet   one finished unit's tables
    RUN/chunks/<id>/done.json         written last: the unit's fingerprint (commit marker)
    RUN/results.parquet, results.csv  assembled from the chunks (one row per session/trial)
    RUN/<table>.parquet, <table>.csv  further tables (e.g. impulse_response)
    RUN/summary.json, RUN/figures/*.png, RUN/log
    RUN/provenance.json        versions, commit, machine, command and times of each
                               invocation (:mod:`marketsai.runner.provenance`; not config)

Every file is written to a temporary name and moved into place with ``os.replace``, so
an interrupted run leaves whole files only; a chunk counts as finished when its
``done.json`` exists, its fingerprint matches the unit the current config asks for, the
unit it records (id, size, parameters such as the session range) is that unit, and
every table file has the SHA-256 and row count recorded when it was written. A chunk
that fails any of these (a file copied over from another chunk, a truncated file, a
chunk written before hashes were recorded) is recomputed, never counted; the reason is
logged. A ``results`` table with a ``session`` column must hold exactly the unit's
sessions ``start .. stop - 1``.
"""

from __future__ import annotations

import datetime
import errno
import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from marketsai.dotted import without_parts
from marketsai.errors import SpecError
from marketsai.runner.schema import dump_yaml, read_yaml

DONE = "done.json"
log = logging.getLogger("marketsai.runner")


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (read in blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
    def claim(self, config: dict, force: bool = False, absent=()) -> bool:
        """Write ``config.yaml``, or check it matches the one already there.

        Returns True when the folder held the same configuration (a resume). ``absent``:
        places (tuples of keys) of ``config`` that the folder's ``config.yaml`` may lack
        -- settings added since it was written, at their defaults
        (:func:`~marketsai.runner.config.defaults_added`); a folder that differs by these
        alone is resumed and its ``config.yaml`` left as it is (resolving it still gives
        ``config``). A different configuration is refused, naming its first difference,
        unless ``force``; with ``force`` the assembled outputs are removed and chunks are
        kept only where their fingerprint still matches (they are recomputed otherwise).
        """
        path = self.root / "config.yaml"
        if path.exists():
            try:
                old = read_yaml(path)
            except SpecError as err:
                if not force:
                    raise SpecError(f"run folder {self.root} has a damaged config.yaml "
                                    f"({err.reason}); choose another --out, or pass --force to "
                                    "overwrite it", path="config.yaml") from None
                old = None
            if old == config or (absent and old == without_parts(config, absent)):
                return True
            if not force:
                where = first_difference(without_parts(config, absent), old)
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

    def stored_config(self) -> dict | None:
        """The folder's ``config.yaml`` as written (None: no folder yet, or a damaged file,
        which :meth:`claim` reports)."""
        try:
            return read_yaml(self.root / "config.yaml")
        except (OSError, SpecError):
            return None

    def config(self) -> dict:
        path = self.root / "config.yaml"
        if not path.exists():
            raise SpecError("not a run folder (no config.yaml)", value=str(self.root))
        return read_yaml(path)

    # ----------------------------------------------------------------- chunks
    def chunk_problem(self, chunk_id: str, fingerprint: str, unit=None) -> str | None:
        """Why chunk ``chunk_id`` cannot be counted for this unit (None: it can).

        ``"not finished"`` when there is no ``done.json``; otherwise the first check that
        fails (see the module docstring).
        """
        folder = self.chunks / chunk_id
        marker = folder / DONE
        if not marker.exists():
            return "not finished"
        try:
            meta = json.loads(marker.read_text())
        except (OSError, ValueError):
            return f"{DONE} is unreadable"
        if not isinstance(meta, dict) or meta.get("fingerprint") != fingerprint:
            return "written for another configuration"
        files = meta.get("files")
        if not isinstance(files, dict) or sorted(files) != sorted(meta.get("tables", [])):
            return "no content hashes recorded (written by an older version)"
        if unit is not None and _canonical(meta.get("unit")) != _canonical(_unit_record(unit)):
            return f"records unit {meta.get('unit')}, not {_unit_record(unit)}"
        for name, rec in files.items():
            path = folder / f"{name}.parquet"
            if not path.is_file():
                return f"{path.name} is missing"
            if not isinstance(rec, dict) or file_sha256(path) != rec.get("sha256"):
                return f"{path.name} does not match its recorded SHA-256 (copied, truncated or edited)"
        return _session_problem(folder, files, unit)

    def chunk_done(self, chunk_id: str, fingerprint: str, unit=None) -> bool:
        """Whether the chunk is finished and proves it holds this unit (see
        :meth:`chunk_problem`); a failing finished chunk is logged."""
        problem = self.chunk_problem(chunk_id, fingerprint, unit)
        if problem not in (None, "not finished"):
            log.warning("chunk %s is recomputed: %s", chunk_id, problem)
        return problem is None

    def write_chunk(self, chunk_id: str, fingerprint: str, tables: dict[str, pd.DataFrame],
                    info: dict | None = None, unit=None) -> None:
        folder = self.chunks / chunk_id
        if not (self.root / "config.yaml").is_file():  # vanished: do not recreate it piecemeal
            raise FileNotFoundError(errno.ENOENT, "the run folder vanished", str(self.root / "config.yaml"))
        (folder / DONE).unlink(missing_ok=True)
        files = {}
        for name, frame in tables.items():
            atomic_write_frame(folder / f"{name}.parquet", frame)
            files[name] = {"sha256": file_sha256(folder / f"{name}.parquet"), "rows": len(frame)}
        meta = {"fingerprint": fingerprint, "tables": sorted(tables), "files": files}
        if unit is not None:
            meta["unit"] = _unit_record(unit)
        atomic_write_text(folder / DONE, json.dumps(meta | (info or {}), indent=1))

    def read_chunk(self, chunk_id: str) -> dict[str, pd.DataFrame]:
        folder = self.chunks / chunk_id
        try:
            meta = json.loads((folder / DONE).read_text())
            return {name: pd.read_parquet(folder / f"{name}.parquet") for name in meta["tables"]}
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise SpecError(f"chunk {chunk_id} of {self.root} cannot be read ({type(exc).__name__}"
                            f": {str(exc)[:120]}); delete {folder} and rerun to recompute it",
                            value=str(folder)) from None

    def prune(self, keep: set[str], under: Path | None = None) -> list[str]:
        """Remove chunk folders not in ``keep`` (stale after a forced config change);
        ``under``: a folder of per-unit folders other than ``chunks/`` (units' own files)."""
        removed = []
        base = self.chunks if under is None else Path(under)
        if base.exists():
            for folder in base.iterdir():
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
        out = {}
        for p in sorted(self.root.glob("*.parquet")):
            try:
                out[p.stem] = pd.read_parquet(p)
            except Exception as exc:  # a truncated or foreign file: pyarrow's many types
                raise SpecError(f"{p} cannot be read ({type(exc).__name__}); rerun the "
                                "experiment on this folder to rebuild it from its chunks",
                                value=str(p)) from None
        return out

    def write_summary(self, summary: dict) -> None:
        """``summary.json``; NaN and infinities become null (strict JSON)."""
        atomic_write_text(self.root / "summary.json", json_text(summary))

    def summary(self) -> dict:
        path = self.root / "summary.json"
        try:
            return json.loads(path.read_bytes().decode("utf-8"))
        except (OSError, ValueError) as exc:
            raise SpecError(f"{path} cannot be read ({type(exc).__name__}); run `marketsai "
                            "report` on the folder to rebuild it", value=str(path)) from None


def _unit_record(unit) -> dict:
    """What a chunk records about its unit: id, size and parameters (plain JSON data)."""
    return json.loads(json.dumps({"id": unit.id, "size": unit.size, "params": unit.params},
                                 default=repr))


def _canonical(data) -> str:
    """Comparable text of plain data (NaN equals NaN here, unlike in ``==``)."""
    return json.dumps(data, sort_keys=True, default=repr)


def _session_problem(folder: Path, files: dict, unit) -> str | None:
    """A ``results`` table with a ``session`` column must hold exactly the unit's sessions."""
    params = getattr(unit, "params", None) or {}
    if "results" not in files or not {"start", "stop"} <= set(params):
        return None
    try:
        sessions = pd.read_parquet(folder / "results.parquet", columns=None)
    except Exception as exc:  # pyarrow's many types
        return f"results.parquet cannot be read ({type(exc).__name__})"
    if "session" not in sessions:
        return None
    got = sessions["session"].to_numpy()
    want = list(range(int(params["start"]), int(params["stop"])))
    if sorted(got.tolist()) != want:
        lo, hi = (int(got.min()), int(got.max())) if len(got) else (None, None)
        return (f"results hold sessions {lo}..{hi} ({len(got)} rows), not the unit's "
                f"{params['start']}..{int(params['stop']) - 1}")
    return None


def union_seconds(spans) -> float:
    """The length of the union of time spans ``(started: ISO 8601, seconds)``: the wall time
    of processes some of which ran at the same time (units side by side, ``--processes``)."""
    total, end = 0.0, None
    starts = ((datetime.datetime.fromisoformat(started).timestamp(), float(s)) for started, s in spans)
    for lo, hi in sorted((t, t + s) for t, s in starts):
        if end is None or lo > end:
            total, end = total + hi - lo, hi
        elif hi > end:
            total, end = total + hi - end, hi
    return total


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
