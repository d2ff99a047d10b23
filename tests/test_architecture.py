"""The architecture as a contract: the package's import graph has no cycles, and the layers
of docs/DESIGN ("Learners, evaluations, experiments") only import downwards.

The graph is read from the source (``ast``), no import is executed. What counts as an edge
``a -> b`` (``b`` a module of the package):

* ``import b`` / ``from b import x`` / ``from . import x`` anywhere in ``a``: at module level
  *and* inside functions -- a function-level import defers a dependency, it does not remove
  it, and a circle closed inside a function is still a circle;
* a string constant that names ``b`` exactly (``"marketsai.rl.train"`` or
  ``"marketsai.rl.train:RLlibKind"``): that is how ``importlib`` and the lazy tables
  import, so a lazy import counts like any other (a logger name, the argument of
  ``getLogger``, is not an import).

``from package import name`` points at ``package.name`` when that is a module, else at the
package's ``__init__``. Each failure prints the offending edges with file and line.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "marketsai"
MODULE_STRING = re.compile(r"^(marketsai(?:\.\w+)+)(?::[A-Za-z_]\w*)?$")

#: layer rules: (importer, imported, why). A name is a module or package (with its
#: submodules); a rule about a package that does not exist yet holds trivially until it does.
FORBIDDEN = [
    ("marketsai.markets", "marketsai.learners", "markets never import learners"),
    ("marketsai.markets", "marketsai.rl", "markets never import learners (RLlib)"),
    ("marketsai.agents", "marketsai.learners", "agents never import learners"),
    ("marketsai.agents", "marketsai.rl", "agents never import learners (RLlib)"),
    ("marketsai.learners", "marketsai.markets", "learners see arrays, never markets (the economy, "
     "which they are handed, is the one way through)"),
    ("marketsai.economy", "marketsai.rl", "the economy never imports rl"),
    ("marketsai.economy", "marketsai.runner", "the economy never imports the runner"),
    ("marketsai.analysis", "marketsai.rl", "analysis never imports rl"),
]

#: edges that other work in flight removes (issue 18); each is checked by a strict xfail
#: below, so the day it disappears the xfail turns into a failure that says: drop it here.
PENDING: dict[tuple[str, str], str] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((ROOT / PACKAGE).rglob("*.py"))}


def _owner(name: str) -> str | None:
    """The package module that ``name`` (a module or a module's attribute) lives in."""
    mods = modules()
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name or None


@cache
def import_graph() -> dict[str, dict[str, int]]:
    """``{importer: {imported: first line}}`` over the package's modules."""
    mods = modules()
    graph: dict[str, dict[str, int]] = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: dict[str, int] = {}
        tree = ast.parse(path.read_text(encoding="utf-8"))
        loggers = {id(arg) for node in ast.walk(tree) if isinstance(node, ast.Call)
                   and getattr(node.func, "attr", getattr(node.func, "id", None)) == "getLogger"
                   for arg in node.args}
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    head = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(head + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base
                           for a in node.names]
            elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and id(node) not in loggers):
                match = MODULE_STRING.match(node.value)
                if match and match.group(1) in mods:
                    targets = [match.group(1)]
            for target in targets:
                owner = _owner(target) if target.split(".")[0] == PACKAGE else None
                if owner and owner != name:
                    found.setdefault(owner, node.lineno)
        graph[name] = found
    return graph


def _where(a: str, b: str) -> str:
    return f"{modules()[a].relative_to(ROOT)}:{import_graph()[a][b]}: {a} -> {b}"


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(graph[w])))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        found.append(sorted(comp))
    return found


def _in(name: str, layer: str) -> bool:
    return name == layer or name.startswith(layer + ".")


#: the modules through which a layer may reach a forbidden one: a learner is handed the
#: economy (its contract with the model), and the economy composes markets
THROUGH = {("marketsai.learners", "marketsai.markets"): ("marketsai.economy",)}


def chain(graph, source_layer: str, target_layer: str, through=()) -> list[str] | None:
    """A shortest import chain from a module of ``source_layer`` to one of ``target_layer``
    (imports are transitive: importing a module runs what it imports), else None. Chains
    that pass through a module of ``through`` are allowed (not followed)."""
    graph = {a: ({} if any(_in(a, t) for t in through) else out) for a, out in graph.items()}
    starts = [m for m in graph if _in(m, source_layer)]
    parent = dict.fromkeys(starts)
    frontier = list(starts)
    while frontier:
        nxt = []
        for v in frontier:
            for w in graph[v]:
                if w in parent:
                    continue
                parent[w] = v
                if _in(w, target_layer):
                    path = [w]
                    while parent[path[-1]] is not None:
                        path.append(parent[path[-1]])
                    return path[::-1]
                nxt.append(w)
        frontier = nxt
    return None


def test_the_graph_sees_every_kind_of_import():
    """The reader finds module-level, function-level, relative and string imports (the
    contract tests below are only as good as this)."""
    g = import_graph()
    assert "marketsai.errors" in g["marketsai.economy"]  # module level
    assert "marketsai.analysis.evaluations" in g["marketsai.runner.learn"]  # inside a function
    assert "marketsai.rl.commands" in g["marketsai.cli"]  # a string for importlib
    assert "marketsai.runner" not in g["marketsai.runner.store"]  # a logger's name
    assert len(g) == len(modules()) > 100


def test_the_checks_find_a_known_cycle_and_chain():
    g = {"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1, "d": 1}, "d": {}, "e": {"d": 1}}
    assert cycles(g) == [["a", "b", "c"]]
    assert chain(g, "e", "d") == ["e", "d"] and chain(g, "a", "d") == ["a", "b", "c", "d"]
    assert chain(g, "d", "a") is None


def test_no_import_cycles():
    graph = {a: {b: n for b, n in out.items() if (a, b) not in PENDING}
             for a, out in import_graph().items()}
    found = cycles(graph)
    report = "\n\n".join("cycle of " + ", ".join(c) + ":\n  " + "\n  ".join(
        _where(a, b) for a in c for b in graph[a] if b in c) for c in found)
    assert not found, f"{len(found)} import cycle(s):\n{report}"


@pytest.mark.parametrize("edge", [pytest.param(e, marks=pytest.mark.xfail(strict=True, reason=why))
                                  for e, why in sorted(PENDING.items())], ids="->".join)
def test_pending_edge_is_gone(edge):
    """Each pending edge is an expected failure; once the edge is gone the strict xfail
    turns into a failure: drop the edge from PENDING so that the cycle check covers it."""
    assert edge[1] not in import_graph()[edge[0]], _where(*edge)


@pytest.mark.parametrize("source,target,why", FORBIDDEN, ids=[f"{a}-x-{b}" for a, b, _ in FORBIDDEN])
def test_layers(source, target, why):
    graph = import_graph()
    found = chain(graph, source, target, THROUGH.get((source, target), ()))
    assert found is None, f"{why}: " + " -> ".join(found) + "\n  " + "\n  ".join(
        _where(a, b) for a, b in zip(found, found[1:], strict=False))


# ----------------------------------------------------------------- private names
#: names with a leading underscore that are public by convention (namedtuple's API)
PUBLIC_UNDERSCORED = {"_fields", "_asdict", "_replace", "_make", "_field_defaults"}
#: the one module allowed to touch RLlib's private names (each access pinned by a test)
RLLIB_ADAPTER = "marketsai.rl.rllib_internals"


def _defined_here(tree) -> set[str]:
    """Underscored names a module defines itself: functions, classes, assigned names and
    attributes (``self._x = ...``, ``object.__setattr__(self, "_x", ...)``) -- reading those
    is the module's own business."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Call) and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                and ast.unparse(node.func) in ("setattr", "object.__setattr__"):  # a frozen dataclass's own
            names.add(node.args[1].value)
    return names


def private_reads(path: Path) -> list[str]:
    """``file:line: what`` for each read of another module's underscored name (ours or a
    library's): ``from m import _x`` and ``obj._x`` where ``_x`` is not defined in this
    module (``self`` and ``cls`` reads are the class's own)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own, found = _defined_here(tree), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:  # ours, or ray's, or anyone's
            found += [f"{node.lineno}: from {node.module} import {a.name}" for a in node.names
                      if a.name.startswith("_") and not a.name.startswith("__")]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                and not node.attr.startswith("__") and node.attr not in PUBLIC_UNDERSCORED \
                and node.attr not in own:
            base = node.value
            if isinstance(base, ast.Name) and base.id in ("self", "cls"):
                continue
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return [f"{path.relative_to(ROOT)}:{f}" for f in found]


def test_no_module_reads_another_modules_private_names():
    """A module reads another's data through public names (``econ.layout``,
    ``env.economy_state``, ...); RLlib's private names are read in the adapter only."""
    found = [r for name, path in modules().items() if name != RLLIB_ADAPTER
             for r in private_reads(path)]
    found += [r for path in sorted((ROOT / "benchmarks").glob("*.py")) for r in private_reads(path)]
    assert not found, "private names read across modules:\n  " + "\n  ".join(found)


def test_experiment_scripts_read_no_private_names():
    found = [r for path in sorted((ROOT / "experiments").rglob("*.py")) for r in private_reads(path)]
    assert not found, "private names read by experiment scripts:\n  " + "\n  ".join(found)


def test_subclasses_of_rllib_classes_read_its_private_state_through_the_adapter():
    """A class of ours derived from an RLlib class (a Learner, an Algorithm) inherits RLlib's
    private attributes: ``self._learner_connector`` is as private as ``learner._learner_connector``
    and is read through :mod:`marketsai.rl.rllib_internals` too. Flagged: a ``self.`` / ``cls.``
    read of an underscored name that no module of ours defines."""
    trees = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in modules().items()}
    ours = set().union(*(_defined_here(tree) for tree in trees.values()))
    found = [f"{name}:{node.lineno}: {ast.unparse(node)}" for name, tree in trees.items() if name != RLLIB_ADAPTER
             for node in ast.walk(tree)
             if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
             and node.value.id in ("self", "cls") and node.attr.startswith("_")
             and not node.attr.startswith("__") and node.attr not in ours]
    assert not found, "RLlib private state read outside the adapter:\n  " + "\n  ".join(found)
