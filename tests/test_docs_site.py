"""The documentation site builds strictly (no broken link, no missing reference), and its
API reference shows every public function and class of every public module."""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: the site's build tools (the dev extra installs them)
TOOLS = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "mkdocs_gen_files",
         "mkdocs_literate_nav", "jupytext")


def _missing() -> list[str]:
    out = []
    for name in TOOLS:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            out.append(name)
    return out


pytestmark = pytest.mark.skipif(
    bool(_missing()), reason=f"the docs tools are not installed ({', '.join(_missing())}): "
                             "pip install -e '.[dev]' installs them")


def _gen_pages():
    """docs/gen_pages.py as a module (imported, it generates nothing)."""
    spec = importlib.util.spec_from_file_location("docs_gen_pages", ROOT / "docs" / "gen_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _public_names(path: Path) -> list[str]:
    """Functions and classes a module defines at top level (not the ones it imports)."""
    tree = ast.parse(path.read_text())
    return [n.name for n in tree.body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and not n.name.startswith("_")]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    res = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                          "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, "mkdocs build --strict failed:\n" + res.stdout[-4000:] + res.stderr[-4000:]
    return out


def test_site_builds_strictly_with_every_section(site):
    for page in ("index.html", "tutorials/first_economy/index.html", "reference/cli/index.html",
                 "reference/economy_file/index.html", "reference/experiment_file/index.html",
                 "results/index.html", "calvano2020/index.html"):
        assert (site / page).is_file(), page
    cli = (site / "reference/cli/index.html").read_text()
    for command in ("run", "validate", "report", "list", "check", "train", "evaluate", "export"):
        assert f"marketsai {command}" in cli, command
    exp = (site / "reference/experiment_file/index.html").read_text()
    assert "kind: tabular" in exp and "learner.alpha" in exp and "runs/&lt;name&gt;" in exp


def test_api_reference_shows_every_public_function_and_class(site):
    gen = _gen_pages()
    modules = gen.public_modules()
    assert ("marketsai", "run_folder") in modules and ("marketsai", "catalog") in modules
    missing = []
    for parts in modules:
        is_package = (ROOT.joinpath(*parts) / "__init__.py").exists()
        source = ROOT.joinpath(*parts) / "__init__.py" if is_package else ROOT.joinpath(*parts).with_suffix(".py")
        html = (site / "reference/api" / Path(*parts) / "index.html").read_text()
        module = ".".join(parts)
        missing += [f"{module}.{name}" for name in _public_names(source)
                    if f'id="{module}.{name}"' not in html]
    assert not missing, f"not in the API reference: {missing}"
    import marketsai
    top = (site / "reference/api/marketsai/index.html").read_text()
    assert [n for n in marketsai.__all__ if f'id="marketsai.{n}"' not in top] == []


def test_links_to_repository_files_are_served_from_the_site(site):
    """docs/growth.md shows figures of experiments/growth/results/: copied, link rewritten."""
    html = (site / "growth/index.html").read_text()
    assert "../_repo/experiments/growth/results/policy_brock_mirman.png" in html
    assert (site / "_repo/experiments/growth/results/policy_brock_mirman.png").is_file()
