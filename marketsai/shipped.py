"""The economy files shipped inside the package, found by name.

Why: an installed marketsai has no repository checkout, so ``economy: bertrand_duopoly``
in an experiment file, ``load_economy("bertrand_duopoly")`` or a tutorial must reach the
files that come with the package: ``marketsai/economies/<name>.yaml`` (package data of
the wheel; in a checkout the repository's ``economies/`` folder is a link to it, so
paths such as ``../../economies/bertrand_duopoly.yaml`` keep working and each file
exists once).

A value names a file when that file exists (relative to the experiment file's folder or
the working directory); otherwise a bare name -- no folder, ``.yaml`` optional -- is a
shipped economy. Anything else is a :class:`~marketsai.errors.SpecError` with the
nearest shipped name and the list of them.

Examples
--------
>>> "bertrand_duopoly" in shipped_economies()
True
>>> economy_file("bertrand_duopoly").name
'bertrand_duopoly.yaml'
>>> economy_file("bertrand_duopol")
Traceback (most recent call last):
...
marketsai.errors.SpecError: economy = 'bertrand_duopol': no such economy file or shipped economy; did you mean 'bertrand_duopoly'? (shipped: aiyagari, ...
"""

from __future__ import annotations

from pathlib import Path

from marketsai.errors import SpecError
from marketsai.params import did_you_mean
from marketsai.yamlio import is_file

#: the folder of the shipped economy files (package data)
FOLDER = Path(__file__).with_name("economies")
SUFFIXES = (".yaml", ".yml")


def shipped_economies() -> dict[str, Path]:
    """Every shipped economy: name (the file's stem, also its ``name`` field) -> file."""
    return {p.stem: p for p in sorted(FOLDER.glob("*.yaml"))}


def shipped_rows() -> list[tuple[str, str]]:
    """``(name, description)`` of every shipped economy (``marketsai list``)."""
    from marketsai.yamlio import read_yaml
    rows = []
    for name, path in shipped_economies().items():
        data = read_yaml(path)
        rows.append((name, str(data.get("description", "")) if isinstance(data, dict) else ""))
    return rows


def bare_name(value: str) -> str | None:
    """``value`` as a shipped economy's name, or None when it is a path (has a folder)."""
    if "/" in value or "\\" in value or not value:
        return None
    for suffix in SUFFIXES:
        if value.endswith(suffix):
            return value[:-len(suffix)]
    return value


def shipped_file(value: str | Path) -> Path | None:
    """The shipped economy ``value`` names (``bertrand_duopoly``, ``.yaml`` optional), or None
    (not a bare name, or no such shipped economy)."""
    return shipped_economies().get(bare_name(str(value)) or "")


def economy_file(value: str | Path, base_dir: str | Path | None = None, field: str = "economy") -> Path:
    """The economy file ``value`` names: the file itself when it exists (relative paths
    under ``base_dir``, else the working directory), else the shipped economy of that
    name.

    Parameters
    ----------
    value : str or Path
        A path to an economy file, or the name of a shipped economy (``bertrand_duopoly``).
    base_dir : str or Path, optional
        The folder relative paths start from (an experiment file's folder).
    field : str
        The field named in the error (``economy``).

    Returns
    -------
    Path

    Raises
    ------
    SpecError
        Neither a file nor a shipped economy: the nearest shipped name and the list of them.
    """
    text = str(value)
    path = Path(text)
    if base_dir is not None and not path.is_absolute():
        path = Path(base_dir) / path
    if is_file(path):
        return path
    found = shipped_file(text)
    if found is not None:
        return found
    shipped, name = shipped_economies(), bare_name(text)
    where = f"a path relative to {base_dir}" if base_dir is not None else "a path to an economy file"
    hint = did_you_mean(name if name is not None else Path(text).stem, shipped, cutoff=0.6)
    raise SpecError(f"no such economy file or shipped economy{hint} (shipped: {', '.join(shipped)})",
                    path=field, value=text, allowed=f"{where}, or the name of a shipped economy")
