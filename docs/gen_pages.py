"""Generate the site's reference pages at build time (run by mkdocs-gen-files).

Why generated: a page written by hand goes stale the day a module, a command or a field
is added. Here the API reference walks the package (every public module gets a page,
new ones included), the CLI reference is every command's ``--help``, the
economy-file reference from the validator's declarations (docs/make_economy_reference.py)
and the experiment-file reference from each kind's ``Param`` schema. The tutorials,
Jupytext percent-format scripts, become pages too (their text and code).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import jupytext
import mkdocs_gen_files

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's marketsai, whatever is installed

PACKAGE = ROOT / "marketsai"
DOCS = ROOT / "docs"


def _cell(x) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def escape_angles(text: str) -> str:
    """``<`` outside code spans as ``&lt;``: ``runs/<name>`` is text, not an HTML tag.

    >>> escape_angles("runs/<name>, `a <b>`")
    'runs/&lt;name>, `a <b>`'
    """
    parts = text.split("`")
    return "`".join(p.replace("<", "&lt;") if i % 2 == 0 else p for i, p in enumerate(parts))


def public_modules() -> list[tuple[str, ...]]:
    """Dotted parts of every public module of the package, packages first, sorted."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        elif parts[-1].startswith("_") or parts[-1] == "__main__":
            continue
        if any(p.startswith("_") for p in parts):
            continue
        out.append(parts)
    return sorted(out)


def api_reference() -> None:
    nav = mkdocs_gen_files.Nav()
    for parts in public_modules():
        is_package = (ROOT.joinpath(*parts) / "__init__.py").exists()
        doc = Path("reference/api", *parts, "index.md") if is_package \
            else Path("reference/api", *parts).with_suffix(".md")
        nav[parts] = doc.relative_to("reference/api").as_posix()
        with mkdocs_gen_files.open(doc, "w") as fh:
            fh.write(f"::: {'.'.join(parts)}\n")
        source = ROOT.joinpath(*parts) / "__init__.py" if is_package \
            else ROOT.joinpath(*parts).with_suffix(".py")
        mkdocs_gen_files.set_edit_path(doc, source.relative_to(ROOT))
    with mkdocs_gen_files.open("reference/api/SUMMARY.md", "w") as fh:
        fh.writelines(nav.build_literate_nav())


def cli_reference() -> None:
    """Every command's ``--help``, as click prints it -- the commands loaded on first use
    (``train``, ``evaluate``, ``export``) included, which a walk over ``main.commands``
    would miss."""
    import click

    from marketsai.cli import main

    ctx = click.Context(main, info_name="marketsai")
    out = ["# Command line reference", "",
           "Generated from the click commands of `marketsai.cli` (each command's `--help`); "
           "the [how-to guide](../cli.md) shows them in use.", "",
           "```text", main.get_help(ctx), "```", ""]
    for name in main.list_commands(ctx):
        cmd = main.get_command(ctx, name)
        sub = click.Context(cmd, info_name=name, parent=ctx)
        out += [f"## marketsai {name}", "", "```text", cmd.get_help(sub), "```", ""]
    with mkdocs_gen_files.open("reference/cli.md", "w") as fh:
        fh.write("\n".join(out))


def economy_reference() -> None:
    spec = importlib.util.spec_from_file_location("make_economy_reference",
                                                  DOCS / "make_economy_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    text = mod.reference().replace(mod.HEAD, "# Economy file reference", 1)
    with mkdocs_gen_files.open("reference/economy_file.md", "w") as fh:
        fh.write(escape_angles(text).replace("`docs/make_economy_reference.py`",
                              "`docs/make_economy_reference.py` (at every build of this site)"))


def experiment_reference() -> None:
    from marketsai.runner.config import OVERRIDES_SCHEMA, TRAILING_SCHEMA, common_schema
    from marketsai.runner.kinds import experiment_kinds, get_kind
    from marketsai.runner.schema import describe_schema

    def table(schema) -> list[str]:
        rows = ["| key | default | allowed | meaning |", "|---|---|---|---|"]
        rows += [f"| `{n}` | `{_cell(d)}` | {_cell(a)} | {_cell(m)} |"
                 for n, d, a, m in describe_schema(schema)]
        return rows + [""]

    out = ["# Experiment file reference", "",
           "Generated from the `Param` declarations the runner validates with, so it cannot "
           "disagree with `marketsai validate`. Every key can be overridden with "
           "`--set key=value` (dotted, e.g. `learner.alpha=0.1`, "
           "`economy.markets[0].params.mu=0.3`) and swept under `sweep:`; an economy's "
           "own fields are changed in the file under `economy_overrides:`.", "",
           "## Keys of every kind", ""]
    common = common_schema("<file name>") | OVERRIDES_SCHEMA
    out += table(common) + ["Kind-specific keys come between these and:", ""]
    out += table(TRAILING_SCHEMA)
    names = experiment_kinds.names()
    for name in names:
        try:
            kind = get_kind(name)
        except Exception as exc:  # a kind whose extra is not installed
            out += [f"## `kind: {name}`", "", f"Not available in this build ({exc}).", ""]
            continue
        cls = type(kind)
        doc = (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        out += [f"## `kind: {name}`", "", f"`{cls.__module__}.{cls.__name__}`: {doc}", ""]
        out += table(kind.schema)
    with mkdocs_gen_files.open("reference/experiment_file.md", "w") as fh:
        fh.write(escape_angles("\n".join(out)))


def reference_index() -> None:
    with mkdocs_gen_files.open("reference/index.md", "w") as fh:
        fh.write("# Reference\n\nGenerated from the code at every build:\n\n"
                 "- [Command line](cli.md): every command and option.\n"
                 "- [Economy files](economy_file.md): every field, default and allowed value, "
                 "from the validator's declarations.\n"
                 "- [Experiment files](experiment_file.md): every key of every experiment kind.\n"
                 "- [Python API](api/marketsai/index.md): every public module, class and "
                 "function, from the docstrings.\n")


def tutorials() -> None:
    for script in sorted((DOCS / "tutorials").glob("*.py")):
        page = Path("tutorials", script.stem + ".md")
        notebook = jupytext.read(script)
        notebook.metadata = {}  # no Jupyter header on the page
        with mkdocs_gen_files.open(page, "w") as fh:
            fh.write(jupytext.writes(notebook, fmt="md"))
        mkdocs_gen_files.set_edit_path(page, script.relative_to(ROOT))


def main() -> None:
    api_reference()
    cli_reference()
    economy_reference()
    experiment_reference()
    reference_index()
    tutorials()


if __name__ in ("<run_path>", "__main__"):  # mkdocs-gen-files runs it with runpy.run_path
    main()
