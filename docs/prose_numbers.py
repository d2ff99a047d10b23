"""Numbers in the docs' running prose, checked against the committed files they quote.

Why: ``docs/tables.py`` regenerates the tables, but a bullet or a paragraph can still say
"Delta 0.85" where its CSV says 0.8477, and nothing would fail. This module finds every
measured-looking number in the prose of docs/**/*.md, README.md and the tutorials'
markdown cells (docs/tutorials/*.py) and asks whether some value in the page's sources
prints as it does; ``tests/test_docs_tables.py`` fails on any number that does not,
unless the page allow-lists it with a reason.

**What counts as a number.** Decimals (``0.8477``, ``-1.98``, ``62.6 %``, ``1.4e-13``),
integers with thousands separators (``1,868,410``) and integers with a scale or unit that
marks a measurement (``73 %``, ``52 M``, ``17 million``, ``317x``, ``35 µs``). Other plain integers ("8
seeds", "d = 4", "1000 sessions", "in 600 s", years) are left alone: they are almost always
inputs, counts, names or a run's rough duration, and checking them would drown the report
in settings. Also left alone:
version numbers (``0.17.2``, ``Ray 2.60``, ``Python >= 3.11``), fenced and inline code, tables (``docs/tables.py`` and
``tests/test_docs_tables.py`` check those), HTML comments (the markers), link targets,
addresses and arXiv/DOI identifiers, a heading's section number.

**Where the page's values come from.** Its sources are

* the files its table markers quote (``<!-- table: SOURCE | ... -->``, the file part);
* the files a page-level marker names, ``<!-- sources: path, path -->`` (paths from the
  repository root; any number of such markers): result CSV/MD/JSON files, experiment and
  economy YAML files (for the inputs a page quotes);
* ``docs/references.md``, the published values every page may quote;
* for one paragraph only: the files a marker ``<!-- paragraph sources: path, path -->``
  names on the line (or lines) before it -- a page that summarises many studies (the
  results overview) names each paragraph's files, so a number is matched against the
  study it speaks of, not against every file of every study.

Every number written in those files (a CSV cell, a number in a markdown table or a JSON or
YAML value; comment lines included) is a value; one a text file writes with a scale
("281 k", "0.81 M") is also that many units.

**When a number is accounted for.** When some value, in absolute value (the prose says
"falls by 0.05" where the file has -0.05), rounds to the number at its printed precision:
``0.848`` stands for anything in [0.8475, 0.8485], so 0.8477 matches it and 0.8486 does
not; a value is never truncated to match. An integer with separators is exact, except that
with two or more significant digits its trailing zeros are rounding (``281,000`` is
[280,500, 281,500], ``64,000`` is [63,500, 64,500]; ``1,000,000`` is exactly a million). Scales are explicit:

* ``62.6 %`` matches a value 62.6 (a percentage) or 0.626 (a fraction), each at the
  printed precision (``1.10 %`` matches 0.011 only to [0.01095, 0.01105]);
* ``1.87 M`` (or ``1.87 million``) matches 1.87 (a table in millions) or 1,870,000 at the
  printed precision; ``k`` and ``billion`` likewise;
* ``1.4e-13`` is 1.4 x 10^-13 at one decimal of the mantissa;
* a range or list shares its last number's scale: ``0.53 to 0.65 million``,
  ``62.6 / 25.8 / 11.6 %``.

**Allowed without a source.** A page may list a number that no file can hold -- the ratio
of two sourced numbers, a definition's constant -- in a marker
``<!-- unsourced: 1.75 | the ratio of 52 M and 29.7 M, both in benchmarks/results/tabular.md -->``
(the number as printed, then the reason). The list is per page and should stay short; an
entry that no unaccounted number needs (gone from the prose, or matched by a source) is an
error.

Usage::

    python docs/prose_numbers.py          # per page: numbers found / matched / allowed; the rest by line
    python docs/prose_numbers.py --check  # exit 1 when a number is neither matched nor allowed
    python docs/tables.py --prose         # the same report
"""

from __future__ import annotations

import argparse
import bisect
import importlib.util
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path


def _load_tables():
    """docs/tables.py (the markers and the page list), loaded by path: ``tables`` is also
    the name of an unrelated package (PyTables)."""
    if "docs_tables" not in sys.modules:
        spec = importlib.util.spec_from_file_location("docs_tables", Path(__file__).with_name("tables.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules["docs_tables"]


tables = _load_tables()
ROOT = tables.ROOT
REFERENCES = "docs/references.md"

# page-level markers, each on a line of its own (so a page may show one in inline code)
SOURCES = re.compile(r"^<!-- sources: (?P<paths>.*?) -->\s*$")
PARAGRAPH_SOURCES = re.compile(r"^<!-- paragraph sources: (?P<paths>.*?) -->\s*$")
UNSOURCED = re.compile(r"^<!-- unsourced: (?P<number>[^|]*?)\s*\|\s*(?P<reason>.*?)\s*-->\s*$")

# Parts of a page that are not prose; each is blanked (newlines kept, so lines still count).
_NOT_PROSE = [
    re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S),  # fenced code
    re.compile(r"<!--.*?-->", re.S),  # HTML comments: the markers
    re.compile(r"(`+)[^`]+?\1"),  # inline code
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"^\[[^\]]+\]:.*$", re.M),  # reference-style link definitions
    re.compile(r"<[a-zA-Z/][^>]*>"),  # HTML tags (their attributes)
    re.compile(r"https?://\S+"),  # addresses
    re.compile(r"\b(?:arXiv|doi):\s?\S+", re.I),  # identifiers
    # versions: "Ray 2.60", "Python >= 3.11", "YAML 1.2"
    re.compile(r"\b(?:Ray|RLlib|Python|YAML|HARK|PyTorch|torch|NumPy|numpy|numba|pandas|gymnasium|"
               r"PettingZoo|MkDocs|version)\s*(?:[<>=]=?\s*)?\d+(?:\.\d+)+"),
]
_HEADING_NUMBER = re.compile(r"^(#{1,6}\s+)(\d+(?:\.\d+)*\.?)(?=\s)")
_TABLE_LINE = re.compile(r"^\s*\|")

# A number in prose: thousands-separated integer (optional decimals) or a decimal, with an
# optional exponent and scale. Not inside a word, a path or a version number.
NUMBER = re.compile(
    r"(?<![\w.,/\\])"
    r"(?P<digits>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d+(?=\s?(?:%|M\b|k\b|µs|million\b|billion\b)|x\b))"
    r"(?:e(?P<exp>[-+−]?\d+))?"
    r"(?![\w.]?\d)(?!\.\d)"
    r"(?P<scale>\s?(?:%|M\b|k\b|µs|million\b|billion\b)|x\b)?"
)
# Between two numbers of a range or list that share the last one's scale.
_RANGE = re.compile(r"\s*(?:to|and|or|–|—|-|/|,)\s*")
# A value in a source file: any number (CSV cells, markdown, JSON, YAML), thousands
# separators only outside CSV files (where commas separate the cells).
_VALUE = re.compile(r"(?<![\w.])\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|(?<![\w.])\.\d+(?:[eE][-+]?\d+)?")
_SCALED_VALUE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?(k|M)\b")
_SCALES = {"k": 1e3, "M": 1e6}
_GROUPED = re.compile(r"(?<![\w.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])")


class ProseError(ValueError):
    """A marker that cannot be used: names the page, the line and what is wrong."""


@dataclass(frozen=True)
class Number:
    """A number as printed in prose: the text, and the interval of values it stands for
    under each reading of its scale."""

    line: int
    text: str
    readings: tuple[tuple[float, float], ...]  # (low, high) in absolute value

    @property
    def key(self) -> str:
        """The number as an allow-list entry names it (without its scale)."""
        return re.sub(r"\s?(%|M|k|x|µs|million|billion)$", "", self.text)

    def neighbours(self) -> tuple[tuple[float, float], ...]:
        """The readings of the numbers one unit of the last printed digit away."""
        return tuple((low + d * (high - low), high + d * (high - low))
                     for low, high in self.readings for d in (-1, 1))


def _readings(digits: str, exp: str | None, scale: str | None) -> tuple[tuple[float, float], ...]:
    value = float(digits.replace(",", ""))
    if "." in digits:
        half = 0.5 * 10.0 ** -len(digits.rpartition(".")[2])
    else:
        significant = digits.replace(",", "").lstrip("0")
        kept = significant.rstrip("0")
        half = 0.5 * 10.0 ** (len(significant) - len(kept)) if len(kept) >= 2 else 0.5
    if exp is not None:
        factor = 10.0 ** int(exp.replace("−", "-"))
        value, half = value * factor, half * factor
    factors = {"%": [1.0, 0.01], "M": [1.0, 1e6], "million": [1.0, 1e6], "billion": [1.0, 1e9],
               "k": [1.0, 1e3]}.get(
        scale.strip() if scale else None, [1.0])
    slack = 1e-9  # binary floats: 0.8485 may be stored a hair above
    return tuple(((value - half) * f * (1 - slack), (value + half) * f * (1 + slack)) for f in factors)


def prose(text: str) -> list[str]:
    """The page's lines with everything that is not prose blanked out."""
    for pattern in _NOT_PROSE:
        text = pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _TABLE_LINE.match(line):
            lines[i] = ""
        else:
            lines[i] = _HEADING_NUMBER.sub(lambda m: m.group(1), line)
    return lines


def numbers(text: str) -> list[Number]:
    """Every measured-looking number in a page's prose."""
    out = []
    lines = prose(text)
    for i, line in enumerate(lines):
        # a scale may wrap onto the next line ("1.87\nmillion")
        following = lines[i + 1].lstrip()[:10] if i + 1 < len(lines) else ""
        matches = [m for m in NUMBER.finditer(f"{line} {following}") if m.start() < len(line)]
        scales = [m["scale"] for m in matches]
        for j in range(len(matches) - 2, -1, -1):  # "0.53 to 0.65 million", "62.6 / 25.8 %"
            between = line[matches[j].end():matches[j + 1].start()]
            if not scales[j] and scales[j + 1] and _RANGE.fullmatch(between):
                scales[j] = scales[j + 1]
        for m, scale in zip(matches, scales, strict=True):
            out.append(Number(i + 1, m.group(0).strip(), _readings(m["digits"], m["exp"], scale)))
    return out


def values(path: Path) -> list[float]:
    """Every number written in a source file, in absolute value."""
    text = path.read_text(encoding="utf-8")
    found = [float(v) for v in _VALUE.findall(text)]
    if path.suffix != ".csv":
        found += [float(v.replace(",", "")) for v in _GROUPED.findall(text)]
        # a number a file writes with a scale ("281 k", "0.81 M") is also that many units
        found += [float(m[1]) * _SCALES[m[2]] for m in _SCALED_VALUE.finditer(text)]
    return found


@dataclass
class PageReport:
    page: str
    sources: list[str]
    found: list[Number] = field(default_factory=list)
    matched: list[Number] = field(default_factory=list)
    weak: list[Number] = field(default_factory=list)  # matched, but so would a neighbour be
    allowed: list[Number] = field(default_factory=list)
    unaccounted: list[Number] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # allow-list entries no unaccounted number needs
    n_values: int = 0


def pages(root: Path = ROOT) -> list[Path]:
    """Every page whose prose is checked: docs/**/*.md, README.md and the tutorials
    (docs/tutorials/*.py, Jupytext scripts the site renders as pages)."""
    return tables.pages(root) + sorted((root / "docs" / "tutorials").glob("*.py"))


def page_text(page: Path) -> str:
    """A page's markdown: a tutorial script's markdown cells without their ``# `` (its code
    cells blank, so line numbers stay the script's)."""
    text = page.read_text(encoding="utf-8")
    if page.suffix != ".py":
        return text
    out, markdown = [], False
    for line in text.split("\n"):
        if line.startswith("# %%"):
            markdown = "[markdown]" in line
            out.append("")
        else:
            out.append(re.sub(r"^# ?", "", line) if markdown and line.startswith("#") else "")
    return "\n".join(out)


def _name(page: Path, root: Path) -> str:
    return page.relative_to(root).as_posix() if page.is_relative_to(root) else str(page)


def _paths(page: Path, root: Path, line: int, paths: str) -> list[str]:
    out = []
    for path in filter(None, (p.strip() for p in paths.split(","))):
        if not (root / path).is_file():
            raise ProseError(f"{_name(page, root)}:{line}: sources: {path!r} does not exist "
                             "(a committed file, path from the repository root)")
        out.append(path)
    return out


def sources(page: Path, text: str, root: Path = ROOT) -> list[str]:
    """The committed files any of a page's prose may quote (see the module's docstring)."""
    lines = text.split("\n")
    found = [b.spec.file for b in tables.blocks(page, lines)]
    for i, line in enumerate(lines):
        for m in SOURCES.finditer(line):  # at most one: the marker is the whole line
            found += _paths(page, root, i + 1, m["paths"])
    if (root / REFERENCES).is_file():
        found.append(REFERENCES)
    return list(dict.fromkeys(found))


def paragraph_sources(page: Path, text: str, root: Path = ROOT) -> dict[int, list[str]]:
    """Line (1-based) -> the files a ``paragraph sources`` marker adds for the paragraph
    that follows it (the next lines up to a blank line)."""
    lines = text.split("\n")
    out: dict[int, list[str]] = {}
    for i, line in enumerate(lines):
        m = PARAGRAPH_SOURCES.match(line)
        if not m:
            continue
        paths = _paths(page, root, i + 1, m["paths"])
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        while j < len(lines) and lines[j].strip():
            out.setdefault(j + 1, []).extend(paths)
            j += 1
    return out


def allow_list(page: Path, text: str, root: Path = ROOT) -> dict[str, str]:
    """The page's ``unsourced`` entries: number as printed -> reason."""
    out = {}
    for i, line in enumerate(text.split("\n")):
        if not line.startswith("<!-- unsourced:"):
            continue
        m = UNSOURCED.search(line)
        if not m or not m["number"] or not m["reason"]:
            raise ProseError(f"{_name(page, root)}:{i + 1}: expected "
                             "'<!-- unsourced: NUMBER | reason -->' (both required)")
        out[m["number"]] = m["reason"]
    return out


def check(page: Path, root: Path = ROOT) -> PageReport:
    """Every prose number of one page, sorted into matched, allowed and unaccounted."""
    text = page_text(page)
    report = PageReport(_name(page, root), sources(page, text, root))
    scoped = paragraph_sources(page, text, root)
    pools: dict[tuple[str, ...], list[float]] = {}  # one sorted list per distinct set of files
    for paths in [tuple(report.sources), *map(tuple, scoped.values())]:
        if paths not in pools:
            pools[paths] = sorted(abs(v) for source in dict.fromkeys(paths) for v in values(root / source))
    page_pool = pools[tuple(report.sources)]
    paragraph_pools = {line: pools[tuple(paths)] for line, paths in scoped.items()}
    report.n_values = sum(len(pool) for pool in pools.values())
    allowed = allow_list(page, text, root)
    report.found = numbers(text)
    for number in report.found:
        pools = [page_pool, paragraph_pools.get(number.line, [])]
        if _matches(pools, number.readings):
            report.matched.append(number)
            if _matches(pools, number.neighbours()):
                report.weak.append(number)
        elif number.key in allowed or number.text in allowed:
            report.allowed.append(number)
        else:
            report.unaccounted.append(number)
    used = {n.key for n in report.allowed} | {n.text for n in report.allowed}
    report.stale = [k for k in allowed if k not in used]
    return report


def _matches(pools, intervals) -> bool:
    return any(_any_within(pool, low, high) for pool in pools for low, high in intervals)


def _any_within(pool: list[float], low: float, high: float) -> bool:
    i = bisect.bisect_left(pool, low)
    return i < len(pool) and pool[i] <= high


def problems(report: PageReport) -> list[str]:
    """One message per unaccounted number and per stale allow-list entry."""
    out = [f"{report.page}:{n.line}: {n.text} is in none of the page's sources "
           f"({', '.join(report.sources)})" for n in report.unaccounted]
    out += [f"{report.page}: unsourced entry {k!r} is not needed: no longer in the prose, or a source "
            "holds it" for k in report.stale]
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a prose number is neither in a source nor allow-listed")
    parser.add_argument("pages", nargs="*", type=Path,
                        help="pages (default: docs/**/*.md, README.md, docs/tutorials/*.py)")
    args = parser.parse_args(argv)
    try:
        reports = [check(p.resolve()) for p in args.pages or pages()]
    except (ProseError, tables.TableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    columns = ("found", "matched", "weak", "allowed", "unaccounted")
    print(f"{'page':34}" + "".join(f"{c:>12}" for c in columns) + f"{'values':>8}")
    for r in reports:
        print(f"{r.page:34}" + "".join(f"{len(getattr(r, c)):12}" for c in columns) + f"{r.n_values:8}")
    print(f"{'total':34}" + "".join(f"{sum(len(getattr(r, c)) for r in reports):12}" for c in columns))
    print("weak: matched, but a number one unit of its last digit away would match too (a "
          "check that cannot see a one-digit slip); values: how many the page's sources hold")
    messages = [m for r in reports for m in problems(r)]
    for m in messages:
        print(m)
    return 1 if args.check and messages else 0


if __name__ == "__main__":
    sys.exit(main())
