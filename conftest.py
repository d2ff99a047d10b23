"""Collection rules for a core install (no ``rllib`` extra).

``pytest`` collects the package's own modules for doctests (``testpaths`` names ``marketsai``),
so a module that imports ray or torch at import time -- directly or through another package
module it imports at import time -- would abort collection where the extra is absent. Such a
module is left out of collection when one of those packages is missing; everywhere else it
is collected as usual, so CI with the extra still runs every doctest. The test modules of
``tests/rl`` (and any test module whose imports need the extra) are reported as skipped with
the reason instead of failing to import, and tests marked ``rllib`` are skipped.
"""

from __future__ import annotations

import ast
import importlib.util
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
PACKAGE = ROOT / "marketsai"
RL_TESTS = ROOT / "tests" / "rl"
#: the rllib extra's import names
EXTRA = ("ray", "torch")


@cache
def missing_extra() -> frozenset[str]:
    """The extra's packages that cannot be imported here."""
    return frozenset(name for name in EXTRA if importlib.util.find_spec(name) is None)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path: Path) -> set[str]:
    """Absolute names imported by the statements that run at import time (module body,
    including ``if``/``try`` blocks; not function or class bodies)."""
    pkg = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    names, todo = set(), list(ast.parse(path.read_text(encoding="utf-8")).body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                head = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                base = ".".join(head + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)  # annotations only: never runs
        elif isinstance(node, ast.If | ast.Try | ast.With):
            for field in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(node, field, []):
                    todo.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])
    return names


@cache
def _import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: _top_level_imports(path) for name, path in files.items()}


def needs_missing_extra(imports: set[str], missing: frozenset[str]) -> bool:
    """Whether importing ``imports`` (absolute module names) imports one of ``missing``,
    directly or through the package's own modules."""
    graph, seen, todo = _import_graph(), set(), list(imports)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name.split(".")[0] in missing:
            return True
        parts = name.split(".")  # importing a.b.c runs a and a.b first
        for prefix in (".".join(parts[:i]) for i in range(1, len(parts) + 1)):
            todo.extend(graph.get(prefix, ()))
    return False


def pytest_ignore_collect(collection_path: Path, config):
    """Leave out the package modules that cannot be imported without the extra."""
    missing = missing_extra()
    path = Path(collection_path)
    if not missing or path.suffix != ".py" or PACKAGE not in path.resolve().parents:
        return None
    return True if needs_missing_extra({_module_name(path.resolve())}, missing) else None


def _reason(missing: frozenset[str]) -> str:
    return (f"needs the rllib extra ({', '.join(sorted(missing))} not installed): "
            "pip install 'marketsai[rllib]'")


class NeedsExtra(pytest.Module):
    """A test module that needs the missing extra: one skip with the reason, not an import
    error."""

    def collect(self):
        pytest.skip(_reason(missing_extra()), allow_module_level=True)


def pytest_pycollect_makemodule(module_path: Path, parent):
    missing = missing_extra()
    if not missing:
        return None
    path = Path(module_path).resolve()
    if RL_TESTS in path.parents or needs_missing_extra(_top_level_imports(path), missing):
        return NeedsExtra.from_parent(parent, path=module_path)
    return None


def pytest_report_header(config):
    missing = missing_extra()
    if not missing:
        return None
    left_out = sorted(str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")
                      if needs_missing_extra({_module_name(p)}, missing))
    return (f"rllib extra absent ({', '.join(sorted(missing))}): tests/rl and rllib-marked "
            f"tests skip; doctests not collected in {', '.join(left_out)}")


def pytest_collection_modifyitems(config, items):
    """Skip the tests marked ``rllib`` when the extra is absent (they need ray and torch)."""
    missing = missing_extra()
    if not missing:
        return
    skip = pytest.mark.skip(reason=_reason(missing))
    for item in items:
        if item.get_closest_marker("rllib") is not None:
            item.add_marker(skip)
