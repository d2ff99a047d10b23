"""A real installed distribution for the entry-point tests: a ``*.dist-info`` folder with
``METADATA`` and ``entry_points.txt``, found by :func:`importlib.metadata.entry_points` once
its folder is on ``sys.path`` -- what ``pip install`` of a plug-in package leaves behind."""

from __future__ import annotations

from pathlib import Path


def fake_distribution(folder: Path, name: str, group: str, entries: dict[str, str]) -> Path:
    """Write ``folder/<name>-1.0.dist-info`` declaring ``entries`` (name -> 'module:Class') in ``group``."""
    dist = Path(folder) / f"{name.replace('-', '_')}-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = [f"[{group}]"] + [f"{key} = {target}" for key, target in entries.items()]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return dist
