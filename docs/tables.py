"""Results tables in the docs, written from the committed CSVs they quote.

Why: a number typed into a page by hand drifts from the run that made it (an audit found
five such numbers). A table written between markers is regenerated from its source, and
``--check`` (run by ``make docs`` and by ``tests/test_docs_tables.py``) fails when a page
and its source disagree.

A generated table in a markdown page::

    <!-- table: experiments/calvano2020/results/n3.csv | quantity=quantity, ours, published | ours=.3f | cell == "" -->
    | quantity | ours | published |
    |---|---|---|
    | profit_gain | 0.640 | 0.643 |
    <!-- /table -->

The four fields, separated by ``|`` (the last two may be empty or left out):

* **source** -- a CSV file, path from the repository root (lines starting with ``#`` are
  comments); or a markdown file's table (``benchmarks/results/x.md`` its first table,
  ``x.md#2`` its second), whose cells are quoted as they are;
* **columns** -- comma-separated ``column`` or ``column=Header`` (empty: every column); a
  column may be a template of several, ``{profit:.4f} ({profit_sd:.4f})=profit (SD)``
  (Python format fields, with the scales below; commas inside brackets do not separate);
* **format** -- space-separated Python format specs: a bare ``spec`` for every number,
  ``column=spec`` for one column; a spec may start with a scale, ``*100:.1f`` or
  ``/1e6:.2f``; ``~4`` is 4 significant digits without an exponent (1,868,000; 0.09761).
  Missing values print as ``—``; strings print as they are;
* **where** -- a :meth:`pandas.DataFrame.query` expression selecting rows (in file order;
  ``|`` separates the fields, so write ``or``).

Usage::

    python docs/tables.py            # rewrite every table in docs/ and README.md
    python docs/tables.py --check    # list the tables that disagree with their source; exit 1
    python docs/tables.py --prose    # the numbers in the pages' prose against their sources
                                     # (docs/prose_numbers.py; with --check: exit 1 on any unaccounted)
"""

from __future__ import annotations

import argparse
import difflib
import math
import re
import string
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OPEN = re.compile(r"^<!-- table: (?P<spec>.*?) -->\s*$")
CLOSE = "<!-- /table -->"
MISSING = "—"


class TableError(ValueError):
    """A marker that cannot be rendered: names the page, the line and what is wrong."""


@dataclass(frozen=True)
class Spec:
    source: str
    columns: list[tuple[str, str]]  # (column, header)
    default_format: str
    formats: dict[str, str]
    where: str

    @property
    def file(self) -> str:
        """The source file (without a markdown source's ``#N``)."""
        return self.source.partition("#")[0]

    @classmethod
    def parse(cls, text: str, where_am_i: str) -> Spec:
        fields = [f.strip() for f in text.split("|")]
        if not 1 <= len(fields) <= 4 or not fields[0]:
            raise TableError(f"{where_am_i}: table marker {text!r}: expected "
                             "'source | columns | format | where' (source required)")
        fields += [""] * (4 - len(fields))
        source, columns, fmt, query = fields
        cols = []
        for item in filter(None, (c.strip() for c in _split_outside_brackets(columns))):
            cut = item.find("=", item.rfind("}") + 1)  # the header may hold '=' itself
            name, header = (item[:cut].strip(), item[cut + 1:].strip()) if cut >= 0 else (item, item)
            cols.append((name, header or name))
        default, formats = "", {}
        for item in fmt.split():
            if "=" in item:
                name, _, spec = item.partition("=")
                formats[name] = spec
            else:
                default = item
        return cls(source, cols, default, formats, query)


def _split_outside_brackets(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"{": 1, "}": -1, "[": 1, "]": -1, "(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


class _CellFormatter(string.Formatter):
    """``str.format`` whose fields take this module's specs (scales, missing values)."""

    def format_field(self, value, format_spec):
        return _format(value, format_spec)


def _fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _cell(column: str, row: dict, spec: Spec) -> str:
    """One cell: a column's value formatted, or a template's (``—`` when all its values are missing)."""
    if "{" not in column:
        return _format(row[column], spec.formats.get(column, spec.default_format))
    if all(_missing(row[f]) for f in _fields(column)):
        return MISSING
    return _CellFormatter().vformat(column, (), row)


def _format(value, spec: str) -> str:
    if _missing(value):
        return MISSING
    if isinstance(value, str) or not spec:
        return str(value)
    if spec.startswith("~"):
        digits = int(spec[1:])
        rounded = float(f"{value:.{digits}g}")
        return f"{round(rounded):,}" if abs(rounded) >= 10 ** (digits - 1) else f"{rounded:.{digits}g}"
    if spec.endswith("d") and isinstance(value, float) and value.is_integer():
        value = int(value)  # a count in a column that also has missing values
    scale = re.match(r"^([*/])([0-9.eE+-]+):(.*)$", spec)
    if scale:
        op, factor, spec = scale.groups()
        value = value * float(factor) if op == "*" else value / float(factor)
    return format(value, spec)


def read_source(path: Path, number: int = 1) -> pd.DataFrame:
    """A committed CSV (``#`` lines are comments, e.g. the command that made it; empty
    cells stay missing, text columns stay text), or the ``number``-th table of a markdown
    file (every cell as text)."""
    if path.suffix != ".md":
        return pd.read_csv(path, comment="#", keep_default_na=False, na_values=[""])
    lines = path.read_text(encoding="utf-8").split("\n")
    starts = [i for i in range(len(lines) - 1)
              if lines[i].startswith("|") and re.match(r"^\|(\s*:?-+:?\s*\|)+\s*$", lines[i + 1])]
    if len(starts) < number:
        raise TableError(f"{path.name} has {len(starts)} table(s), not {number}")
    i = starts[number - 1]

    def cells(line):
        return [c.strip() for c in line.strip().strip("|").split("|")]
    rows = []
    for line in lines[i + 2:]:
        if not line.startswith("|"):
            break
        rows.append(cells(line))
    return pd.DataFrame(rows, columns=cells(lines[i]), dtype=object)


def render(spec: Spec, root: Path = ROOT, where_am_i: str = "") -> str:
    """The markdown table a marker stands for (without the markers)."""
    source, _, number = spec.source.partition("#")
    path = root / source
    if not path.is_file():
        raise TableError(f"{where_am_i}: table source {source!r} does not exist "
                         "(a path from the repository root)")
    try:
        frame = read_source(path, int(number or 1))
    except ValueError as exc:
        raise TableError(f"{where_am_i}: table source {spec.source!r}: {exc}") from exc
    if spec.where:
        try:
            frame = frame.query(spec.where)
        except Exception as exc:  # pandas raises many kinds; all mean a bad expression
            raise TableError(f"{where_am_i}: where {spec.where!r} on {spec.source}: {exc}") from exc
    columns = spec.columns or [(c, c) for c in frame.columns]
    used = [f for c, _ in columns for f in (_fields(c) if "{" in c else [c])]
    unknown = [c for c in used if c not in frame.columns]
    unknown += [c for c in spec.formats if c not in frame.columns]
    if unknown:
        raise TableError(f"{where_am_i}: column(s) {unknown} not in {spec.source} "
                         f"(allowed: {', '.join(map(str, frame.columns))})")
    if frame.empty:
        raise TableError(f"{where_am_i}: where {spec.where!r} selects no row of {spec.source}")
    lines = ["| " + " | ".join(h for _, h in columns) + " |", "|" + "---|" * len(columns)]
    for row in frame.astype(object).to_dict("records"):  # each value keeps its column's type
        try:
            cells = [_cell(c, row, spec) for c, _ in columns]
        except (ValueError, TypeError) as exc:
            raise TableError(f"{where_am_i}: format of {spec.source}: {exc}") from exc
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening marker
    spec: Spec
    start: int  # index of the first line inside the markers
    end: int  # index of the closing marker


def blocks(page: Path, lines: list[str]) -> list[Block]:
    out, i = [], 0
    while i < len(lines):
        m = OPEN.match(lines[i])
        if m:
            where_am_i = f"{page}:{i + 1}"
            try:
                j = lines.index(CLOSE, i + 1)
            except ValueError:
                raise TableError(f"{where_am_i}: table marker without its closing {CLOSE!r}") from None
            out.append(Block(page, i + 1, Spec.parse(m["spec"], where_am_i), i + 1, j))
            i = j
        i += 1
    return out


def pages(root: Path = ROOT) -> list[Path]:
    """Every page that may hold generated tables: docs/**/*.md and README.md."""
    return sorted((root / "docs").rglob("*.md")) + [root / "README.md"]


def update(page: Path, root: Path = ROOT, check: bool = False) -> list[str]:
    """Rewrite (or, with ``check``, only compare) the generated tables of one page;
    returns one message per table that disagreed with its source."""
    text = page.read_text(encoding="utf-8")
    lines = text.split("\n")
    problems = []
    for b in reversed(blocks(page, lines)):
        where_am_i = f"{page.relative_to(root) if page.is_relative_to(root) else page}:{b.line}"
        new = render(b.spec, root, where_am_i).split("\n")
        old = lines[b.start:b.end]
        if old != new:
            diff = "\n".join(difflib.unified_diff(old, new, "page", b.spec.source, lineterm="", n=0))
            problems.append(f"{where_am_i}: the table disagrees with {b.spec.source}:\n{diff}")
            lines[b.start:b.end] = new
    if problems and not check:
        page.write_text("\n".join(lines), encoding="utf-8")
    return problems[::-1]


def _prose_numbers():
    """docs/prose_numbers.py, loaded by path (docs/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_prose_numbers", Path(__file__).with_name("prose_numbers.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 when a table disagrees with its source")
    parser.add_argument("--prose", action="store_true",
                        help="report the numbers in the pages' running prose instead (docs/prose_numbers.py)")
    parser.add_argument("pages", nargs="*", type=Path, help="pages (default: docs/**/*.md, README.md)")
    args = parser.parse_args(argv)
    if args.prose:
        return _prose_numbers().main((["--check"] if args.check else []) + [str(p) for p in args.pages])
    problems = []
    try:
        for page in args.pages or pages():
            problems += update(page.resolve(), ROOT, check=args.check)
    except TableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check and problems:
        for p in problems:
            print(p, file=sys.stderr)
        print(f"{len(problems)} table(s) disagree with their source: run python docs/tables.py",
              file=sys.stderr)
        return 1
    for p in problems:
        print("rewrote", p.split(":", 2)[0] + ":" + p.split(":", 2)[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
