"""Every generated results table in the docs agrees with the committed CSV it quotes, and
every other table in the docs is listed here with the reason it has no source."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tables():
    spec = importlib.util.spec_from_file_location("docs_tables", ROOT / "docs" / "tables.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


tables = _tables()

#: (page, the table's header row) -> why the table is typed in rather than generated.
#: Tables of inputs (settings, files, definitions) hold no measured number; the others are
#: results whose source is not committed -- each needs a rerun that writes a results CSV.
UNSOURCED: dict[tuple[str, str], str] = {
    ("interventions.md", "| `type` | fields (default) | what it does | periods |"):
        "inputs: the intervention types and their settings, no measurement",
    ("interventions.md", "| seed | here |"): "inputs: the seed study's settings beside ours, no measurement",
    ("interventions.md", "| run | wall time | CPU time (user + sys) | load average (1 min) |"):
        "partly sourced: the first row is benchmarks/results/interventions.md, the last the rerun's "
        "provenance (in experiments/interventions/results/*.source.json); the other runs' times were "
        "not written to a file",
    ("tabular_vs_deep.md", "| experiment file | learner | state |"):
        "inputs: the study's experiment files and whether each has run, no measurement",
    ("tabular_vs_deep.md", "| claim | paper | our evidence | supported? |"):
        "prose in a table: published claims (docs/references.md) set against numbers of the generated "
        "tables of the page and of tabular_vs_deep_earlier.md",
    ("tabular_vs_deep_earlier.md", "| claim (as the study stated it) | source checked here | what our runs say |"):
        "prose in a table: published claims (docs/references.md) set against numbers of the generated "
        "tables above",
    ("growth.md", "| economy file | alpha | beta | delta | gamma | log z AR(1) | chain | capital grid | k_ss |"):
        "inputs: the economy files' parameters (k_ss is their closed form, docs/references.md)",
    ("growth.md", "| | alpha | beta (eps_t = exp(-beta t)) | stable_periods | max_periods |"):
        "inputs: the learner's settings, no measurement",
    ("../README.md", "| | |"): "the feature table, no measurement",
    ("scaling.md", "| `env:` | what RLlib sees | one RLlib step carries | learning semantics | use it for |"):
        "definitions, no measurement",
    ("dimension.md", "| | |"): "definitions: the d-sector model's closed form, no measurement",
    ("q_learning_solver.md", "| key | values | what it does |"): "inputs: the learner's settings, no measurement",
    ("tabular.md", "| name | what |"): "definitions: the engine's API, no measurement",
    ("solvers.md", "| constructor | alpha | beta | delta | gamma | log z AR(1) | chain |"):
        "inputs: the calibrations' parameters, no measurement",
    ("solvers.md", "| condition | equation |"): "definitions: the steady state's conditions, no measurement",
    ("dynamic_economies.md", "| array | shape | meaning |"): "definitions: what step returns, no measurement",
    ("architecture.md", "| registry | base class | entry-point group | `marketsai list` section |"):
        "definitions: the plug-in registries",
    ("centralised_critic.md", "| module | what it holds |"): "definitions: the critic's modules",
    ("cli.md", "| option | meaning |"): "definitions: the command's options",
    ("cli.md", "| input | how it is read | safe if it came from someone else? |"):
        "definitions: how each input is read",
    ("cluster.md", "| key | meaning | on one 2-core machine | on a cluster |"): "inputs: resource settings",
    ("composing_markets.md", "| agent type | capital | labour | goods |"): "definitions: who trades what",
    ("composing_markets.md", "| `pricing` | the price | shipped markets |"): "definitions: the pricing rules",
    ("composing_markets.md", "| what is wrong | message |"): "definitions: the validation messages",
    ("economy_files.md", "| name | what |"): "definitions: the shipped economy files",
    ("economy_files.md", "| field | default | allowed | meaning |"): "inputs: the economy file's fields",
    ("economy_files.md", "| parameter | where | default | allowed | meaning |"):
        "inputs: the markets' and agents' parameters",
    ("experiments.md", "| key | default | allowed | meaning |"): "inputs: the experiment file's keys",
    ("experiments.md", "| file | content |"): "definitions: a run folder's files",
    ("experiments.md", "| function | in -> out |"): "definitions: the run-folder functions",
    ("processes.md", "| quantity | rule | KS (1998) value |"):
        "inputs: the Krusell-Smith (1998) transition rules and their published values (docs/references.md)",
    ("processes.md", "| key | default | allowed | meaning |"): "inputs: the process fields",
    ("references.md", "| quantity | value | source |"): "published values, each with its source",
    ("references.md", "| experiment | quantity | value | source |"): "published values, each with its source",
}


def test_every_generated_table_agrees_with_its_source():
    problems = []
    for page in tables.pages(ROOT):
        problems += tables.update(page, ROOT, check=True)
    assert not problems, "\n".join(problems) + "\nrun: python docs/tables.py"


def test_the_docs_have_generated_tables():
    """The check above is not vacuous: the docs hold generated tables."""
    found = [b for page in tables.pages(ROOT) for b in tables.blocks(page, page.read_text().split("\n"))]
    assert len(found) >= 6
    assert all((ROOT / b.spec.file).is_file() for b in found)


def _copy(tmp_path: Path, page: str) -> tuple[Path, list]:
    """A copy of a docs page and the sources its tables read, under tmp_path."""
    (tmp_path / "docs").mkdir()
    copy = tmp_path / "docs" / page
    shutil.copy(ROOT / "docs" / page, copy)
    found = tables.blocks(copy, copy.read_text().split("\n"))
    for b in found:
        (tmp_path / b.spec.file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / b.spec.file, tmp_path / b.spec.file)
    return copy, found


def test_a_doctored_page_fails_the_check(tmp_path):
    copy, found = _copy(tmp_path, "calvano_robustness.md")
    assert tables.update(copy, tmp_path, check=True) == []
    text = copy.read_text()
    doctored = text.replace("| profit_gain | 1000 | 0.848 |", "| profit_gain | 1000 | 0.849 |", 1)
    assert doctored != text
    copy.write_text(doctored)
    problems = tables.update(copy, tmp_path, check=True)
    assert len(problems) == 1 and "baseline.csv" in problems[0] and "0.848" in problems[0]
    assert copy.read_text() == doctored  # --check changes nothing
    assert len(tables.update(copy, tmp_path)) == 1  # the rewrite restores the source's numbers
    assert copy.read_text() == text


def test_a_doctored_source_fails_the_check(tmp_path):
    copy, found = _copy(tmp_path, "calvano_robustness.md")
    source = tmp_path / "experiments/calvano2020/results/n4.csv"
    text = source.read_text()
    doctored = text.replace(",profit_gain,1000,0.561796,", ",profit_gain,1000,0.571796,", 1)
    assert doctored != text, "the committed n4.csv changed: doctor one of its values here"
    source.write_text(doctored)
    problems = tables.update(copy, tmp_path, check=True)
    assert len(problems) == 1 and "n4.csv" in problems[0] and "0.572" in problems[0]


@pytest.mark.parametrize("marker, message", [
    ("<!-- table: experiments/nothing.csv -->", "does not exist"),
    ("<!-- table: experiments/calvano2020/results/n4.csv | quantity, nonsense -->", "nonsense"),
    ("<!-- table: experiments/calvano2020/results/n4.csv | quantity | | quantity == 'x' -->",
     "selects no row"),
])
def test_a_bad_marker_is_a_clear_error(tmp_path, marker, message):
    page = tmp_path / "page.md"
    page.write_text(f"{marker}\n<!-- /table -->\n")
    with pytest.raises(tables.TableError, match=message):
        tables.update(page, ROOT, check=True)


def test_an_unclosed_marker_is_a_clear_error(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- table: experiments/calvano2020/results/n4.csv -->\n| a |\n")
    with pytest.raises(tables.TableError, match="without its closing"):
        tables.update(page, ROOT, check=True)


def test_render_formats_templates_scales_and_missing_values(tmp_path):
    (tmp_path / "r.csv").write_text("# made by: a command\nname,x,sd,n,big\na,0.12345,0.01,3,1868410\nb,,,4,\n")
    spec = tables.Spec.parse("r.csv | name=who, {x:.2f} ({sd:.2f})=x (SD), x=x %, n, big | "
                             "x=*100:.1f n=d big=~4 | n > 2", "page:1")
    assert tables.render(spec, tmp_path).split("\n") == [
        "| who | x (SD) | x % | n | big |", "|---|---|---|---|---|",
        "| a | 0.12 (0.01) | 12.3 | 3 | 1,868,000 |", "| b | — | — | 4 | — |"]
    (tmp_path / "r.md").write_text("# t\n\n| a | b |\n|---|---|\n| 1 | x |\n\n| c |\n|---|\n| 2.50 |\n")
    assert tables.render(tables.Spec.parse("r.md#2", "page:1"), tmp_path) == "| c |\n|---|\n| 2.50 |"


def _typed_tables(page: Path) -> list[str]:
    """Header rows of the markdown tables of a page outside the generated blocks."""
    lines = page.read_text().split("\n")
    inside = {i for b in tables.blocks(page, lines) for i in range(b.start, b.end)}
    fence = False
    out = []
    for i, line in enumerate(lines):
        if line.startswith("```"):
            fence = not fence
        if fence or i in inside or i + 1 >= len(lines):
            continue
        if line.startswith("|") and re.match(r"^\|(\s*:?-+:?\s*\|)+\s*$", lines[i + 1]):
            out.append(line.strip())
    return out


def _name(page: Path) -> str:
    """A page as UNSOURCED names it: relative to docs/ (README.md is ``../README.md``)."""
    return page.relative_to(ROOT / "docs").as_posix() if page.is_relative_to(ROOT / "docs") else "../README.md"


def test_every_table_has_a_source_or_a_reason():
    """No table in the docs quotes a number without a committed source: each is generated
    (docs/tables.py) or listed in UNSOURCED with the reason -- on every page, so a new page
    or table of measured numbers cannot slip past."""
    typed = {_name(page): _typed_tables(page) for page in tables.pages(ROOT)}
    unlisted = [f"{page}: {header}" for page, headers in typed.items()
                for header in headers if (page, header) not in UNSOURCED]
    assert not unlisted, ("tables typed into the docs: generate them from their committed source "
                          "(docs/tables.py) or list them in UNSOURCED with the reason:\n"
                          + "\n".join(unlisted))
    stale = [k for k in UNSOURCED if k[1] not in typed.get(k[0], [])]
    assert not stale, f"UNSOURCED lists tables that are gone: {stale}"


def _prose_numbers():
    spec = importlib.util.spec_from_file_location("docs_prose_numbers", ROOT / "docs" / "prose_numbers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


prose_numbers = _prose_numbers()


@pytest.fixture(scope="module")
def prose_reports():
    """The prose check of every page (docs/**/*.md, README.md, the tutorials)."""
    return [prose_numbers.check(page) for page in prose_numbers.pages(ROOT)]


def test_every_prose_number_has_a_source_or_a_reason(prose_reports):
    """No number in the docs' running prose without a committed source: each equals, at its
    printed precision, a value in the page's sources, or the page allow-lists it with a reason
    (docs/prose_numbers.py)."""
    problems = [m for report in prose_reports for m in prose_numbers.problems(report)]
    assert not problems, ("numbers in the docs' prose without a source: fix the number (the source "
                          "wins), name its source in <!-- sources: ... -->, or allow-list it in "
                          "<!-- unsourced: NUMBER | reason -->:\n" + "\n".join(problems))


def test_the_prose_check_is_not_vacuous(prose_reports):
    """The docs' prose holds numbers and most of them are matched against a source."""
    reports = prose_reports
    assert sum(len(r.matched) for r in reports) >= 1000
    assert sum(len(r.allowed) for r in reports) <= 0.1 * sum(len(r.found) for r in reports)


def _copy_with_prose_sources(tmp_path: Path, page: str) -> Path:
    copy, _ = _copy(tmp_path, page)
    for source in prose_numbers.sources(copy, copy.read_text(), ROOT):
        (tmp_path / source).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / source, tmp_path / source)
    return copy


def _one_digit_up(printed: str) -> str:
    """The number with its last digit one higher (9 carries): 0.848 -> 0.849, 11.69 -> 11.70."""
    return f"{float(printed) + 10.0 ** -len(printed.rpartition('.')[2]):.{len(printed.rpartition('.')[2])}f}"


def test_a_doctored_prose_number_fails_the_check(tmp_path):
    """A one-digit slip in a prose number is caught (for a number no neighbour of which is
    in the page's sources), and an allow-list entry with a reason lets it through."""
    copy = _copy_with_prose_sources(tmp_path, "calvano_robustness.md")
    report = prose_numbers.check(copy, tmp_path)
    assert prose_numbers.problems(report) == []
    number = next(n for n in report.matched if n not in report.weak and re.fullmatch(r"\d+\.\d+", n.text))
    lines = copy.read_text().split("\n")
    slipped = _one_digit_up(number.text)
    lines[number.line - 1] = lines[number.line - 1].replace(number.text, slipped, 1)
    copy.write_text("\n".join(lines))
    problems = prose_numbers.problems(prose_numbers.check(copy, tmp_path))
    assert problems == [p for p in problems if f"calvano_robustness.md:{number.line}: {slipped} is in none" in p]
    assert len(problems) == 1
    copy.write_text("\n".join(lines) + f"\n<!-- unsourced: {slipped} | a test -->\n")
    assert prose_numbers.problems(prose_numbers.check(copy, tmp_path)) == []


def test_a_doctored_prose_source_fails_the_check(tmp_path):
    """Changing the value a prose number quotes in its source leaves the number unaccounted."""
    copy = _copy_with_prose_sources(tmp_path, "klein2021.md")
    source = tmp_path / "experiments/klein2021/results/klein2021_fixed_prices.csv"
    text = source.read_text()
    assert "6,0.333333,423,0.423" in text and "42.3 %" in copy.read_text()
    source.write_text(text.replace("6,0.333333,423,0.423", "6,0.333333,433,0.433"))
    problems = prose_numbers.problems(prose_numbers.check(copy, tmp_path))
    assert len(problems) == 1 and "42.3 % is in none" in problems[0]


def _found(text: str) -> list[str]:
    return [n.text for n in prose_numbers.numbers(text)]


def test_prose_numbers_skip_what_is_not_prose():
    page = ("## 3.2 Results in 2020\n\nDelta 0.848 and 1,868,410 periods, 62.6 % and 52 M, 8 seeds.\n"
            "`0.111` and [link](runs/0.222.csv) <!-- 0.333 --> HARK 0.17.2\n"
            "```\n0.444\n```\n| 0.555 |\n|---|\n")
    assert _found(page) == ["0.848", "1,868,410", "62.6 %", "52 M"]


@pytest.mark.parametrize("printed, value, matches", [
    ("0.848", 0.8477, True), ("0.848", 0.8485, True), ("0.848", 0.8486, False), ("0.848", 0.8474, False),
    ("-1.98", -1.98, True), ("62.6 %", 0.626, True), ("62.6 %", 62.6, True), ("62.6 %", 0.6265, True),
    ("1.10 %", 0.011, True), ("1.10 %", 0.0112, False), ("1.87 M", 1868410, True), ("1.87 M", 1.87, True),
    ("1.4e-13", 1.38e-13, True), ("1.4e-13", 1.3e-13, False), ("281,000", 281234, True),
    ("1,000,000", 1000400, False), ("64,000", 63672, True), ("64,000", 63400, False), ("1,868,410", 1868410, True), ("1,868,410", 1868420, False),
])
def test_a_prose_number_matches_a_value_at_its_printed_precision(printed, value, matches):
    (number,) = prose_numbers.numbers(f"x {printed} y")
    pool = [abs(value)]
    assert any(prose_numbers._any_within(pool, lo, hi) for lo, hi in number.readings) is matches


@pytest.mark.parametrize("marker, message", [
    ("<!-- sources: experiments/nothing.csv -->", "does not exist"),
    ("<!-- unsourced: 0.5 -->", "both required"),
])
def test_a_bad_prose_marker_is_a_clear_error(tmp_path, marker, message):
    page = tmp_path / "page.md"
    page.write_text(f"{marker}\nDelta 0.5.\n")
    with pytest.raises(prose_numbers.ProseError, match=message):
        prose_numbers.check(page, ROOT)


def test_paragraph_sources_count_for_their_paragraph_only(tmp_path):
    (tmp_path / "r.csv").write_text("x\n0.123\n")
    page = tmp_path / "page.md"
    page.write_text("# t\n\n<!-- paragraph sources: r.csv -->\nDelta 0.123,\nstill 0.123.\n\nAgain 0.123.\n")
    report = prose_numbers.check(page, tmp_path)
    assert [n.line for n in report.matched] == [4, 5] and [n.line for n in report.unaccounted] == [7]


def test_a_stale_allow_list_entry_is_reported(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- unsourced: 0.123 | once quoted -->\nDelta 0.5.\n")
    assert any("'0.123' is not needed" in m for m in prose_numbers.problems(prose_numbers.check(page, ROOT)))
