"""Property-based fuzzing of every shipped economy and experiment file (issue 11).

Each case takes one file of ``economies/`` or ``experiments/``, mutates it -- values
(huge, negative, non-finite, wrong types), keys (deleted, renamed, unknown), sizes
(long lists, deep nesting), YAML aliases (shared nodes, alias bombs), and the bytes
themselves (truncation, non-UTF-8, NUL) -- and reads it the way the CLI does. The
property: validation ends, within a time limit, either with our
:class:`~marketsai.errors.SpecError` or with an accepted file whose downstream steps
(round trip of the resolved form, work units and their fingerprints, the run folder's
``config.yaml`` read back) also work. No raw exception, no hang, no accepted-then-crashed
file. Every accepted economy (an economy file, or the economy of an experiment) is then
stepped a few periods from its initial state with random decisions (issue 23): a file
that validates must also move, so a crash at the first step counts as a finding.

``MARKETSAI_FUZZ_CASES`` sets the number of cases (default 1,200, about 15 s of one core;
the findings of issue 23 were also checked with 20,000 random cases).
"""

from __future__ import annotations

import copy
import math
import os
import shutil
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketsai.errors import SpecError
from marketsai.yamlio import dump_yaml, parse_yaml, read_yaml

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted([*ROOT.glob("economies/*.yaml"), *ROOT.glob("experiments/**/*.yaml")])
CASES = int(os.environ.get("MARKETSAI_FUZZ_CASES", "1200"))
STEPS = 3  # periods each accepted economy is stepped
CASE_SECONDS = 10  # one case may take this long (a hang fails the test)
ORIGINAL = {f: f.read_text() for f in FILES}

ODD_VALUES = [None, True, False, 0, 1, 2, -1, 3, 15, 10**9, 10**12, 2**63, 10**30, -10**6, 0.5,
              -0.001, 1.5, 1e30, -1e30, 1e-300, 1.7e308, -1.7e308, math.inf, -math.inf, math.nan, "", "x", "nan",
              "1e400", "a" * 5000, "../../../etc/passwd", [], [1], [1.0, 2.0], list(range(300)),
              {}, {"a": 1}, {"values": []}, {"linspace": [0, 1, 10**9]}, [[0, 1.0]],
              [[1, 2], [3]], "\u202e\u0000"]


class CaseTimeout(Exception):
    pass


@contextmanager
def time_limit(seconds: float):
    def expire(signum, frame):
        raise CaseTimeout(f"case took more than {seconds} s")
    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# ------------------------------------------------------------------ validation
def absolute_paths(data, file: Path):
    """Economy paths made absolute, so the mutated file can live elsewhere."""
    if isinstance(data, dict) and isinstance(data.get("economy"), str):
        data["economy"] = str((file.parent / data["economy"]).resolve())
    return data


def validate(path: Path, original: Path) -> None:
    """Read ``path`` as the CLI does; check what an accepted file leads to."""
    from marketsai.economy import Economy
    data = read_yaml(path)
    if isinstance(data, dict) and "kind" not in data and ("markets" in data or "agents" in data):
        from marketsai.spec import EconomySpec
        econ = Economy.from_dict(data)
        resolved = econ.to_dict()
        step_economy(econ)
        assert EconomySpec.from_dict(parse_yaml(dump_yaml(resolved))).to_dict() == resolved
    elif isinstance(data, dict) and data.get("kind") == "rllib":
        from marketsai.rl.spec import RLExperimentSpec
        spec = RLExperimentSpec.from_dict(data, base_dir=original.parent, file=path)
        econ = Economy.from_dict(spec.economy_dict())
        again = RLExperimentSpec.from_dict(parse_yaml(dump_yaml(spec.to_dict())),
                                           base_dir=original.parent)
        assert again.to_dict() == spec.to_dict() and econ.to_dict()
        step_economy(econ)
    else:
        from marketsai.runner import load_experiment
        exp = load_experiment(path)
        units = exp.kind.units(exp.cell_config(0))
        assert units and all(u.size >= 1 for u in units)
        exp.unit_hash(0, units[0])
        exp.unit_hash(len(exp.cells) - 1, exp.kind.units(exp.cell_config(len(exp.cells) - 1))[-1])
        # what a run folder stores must be a valid experiment again (`marketsai report`)
        again = load_experiment(parse_yaml(dump_yaml(exp.config)))
        assert again.config["economy"] == exp.config["economy"]
        for c in sorted({0, len(exp.cells) - 1}):
            economy = exp.cell_config(c).get("economy")
            if isinstance(economy, dict):
                step_economy(Economy.from_dict(economy))


def step_economy(econ, periods: int = STEPS, batch: int = 2) -> None:
    """A few periods of ``econ`` with random decisions: rewards must be finite numbers."""
    import numpy as np
    rng = np.random.default_rng(0)
    state = econ.initial_state(rng, batch)
    for _ in range(periods):
        x = np.empty((batch, len(econ.decisions)))
        for d, s in enumerate(econ.decisions):
            x[:, d] = (s.grid[rng.integers(0, s.size, batch)] if s.kind == "grid"
                       else rng.uniform(s.low, s.high, batch))
        state, rewards, _ = econ.step(state, x, rng)
        assert rewards.shape == (batch, len(econ.agents))
        econ.observe(state)


# ------------------------------------------------------------------ mutations
def _nodes(data, path=()):
    """(path, container, key) of every value in the tree."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield path + (k,), data, k
            yield from _nodes(v, path + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield path + (i,), data, i
            yield from _nodes(v, path + (i,))


def _bomb(levels: int, width: int):
    node: list = [1] * width
    for _ in range(levels - 1):
        node = [node] * width  # shared: yaml.safe_dump writes anchors and aliases
    return node


@st.composite
def mutated(draw):
    """(file, bytes) of a mutated shipped file."""
    file = draw(st.sampled_from(FILES))
    text = ORIGINAL[file]
    how = draw(st.sampled_from(["value", "value", "value", "delete", "rename", "add", "alias",
                                "bomb", "grow", "deep", "truncate", "bytes"]))
    if how in ("truncate", "bytes"):
        raw = text.encode()
        pos = draw(st.integers(0, len(raw)))
        if how == "truncate":
            return file, raw[:pos]
        junk = draw(st.sampled_from([b"\xff\xfe", b"\x00", b"\x80abc", b"&a", b"*a", b": ", b"- [",
                                     b"!!python/object:os.system", b"\t", b"{{", b"\xe9"]))
        return file, raw[:pos] + junk + raw[pos:]
    data = absolute_paths(parse_yaml(text), file)
    nodes = list(_nodes(data))
    if not nodes:
        return file, text.encode()
    _, container, key = draw(st.sampled_from(nodes))
    if how == "value":
        container[key] = copy.deepcopy(draw(st.sampled_from(ODD_VALUES) | st.integers(-5, 50)
                                           | st.floats(allow_nan=True, allow_infinity=True)))
    elif how == "delete":
        del container[key]
    elif how == "rename" and isinstance(container, dict):
        container[str(key) + draw(st.sampled_from(["_", "s", "x"]))] = container.pop(key)
    elif how == "add":
        target = container[key] if isinstance(container[key], dict) else container
        if isinstance(target, dict):
            target[draw(st.sampled_from(["typo", "count", "points", "memory", "sessions", "lr",
                                         "kind", "economy", "markets"]))] = draw(st.sampled_from(ODD_VALUES))
    elif how == "alias":  # two places share one node (anchors and aliases in the text)
        _, other, okey = draw(st.sampled_from(nodes))
        try:
            container[key] = other[okey]
        except (KeyError, IndexError):
            pass
    elif how == "bomb":
        container[key] = _bomb(draw(st.integers(2, 9)), draw(st.integers(2, 10)))
    elif how == "grow":
        container[key] = [container[key]] * draw(st.sampled_from([2, 100, 3_000]))
    elif how == "deep":
        value = container[key]
        for _ in range(draw(st.sampled_from([5, 120]))):
            value = [value]
        container[key] = value
    try:
        out = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    except (yaml.YAMLError, RecursionError):
        out = text
    return file, out.encode()


@pytest.mark.timeout(300)
@settings(max_examples=CASES, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(case=mutated())
def test_mutated_files_give_our_error_or_validate_completely(case, tmp_path_factory):
    file, data = case
    root = tmp_path_factory.getbasetemp() / "fuzz"
    if not (root / "economies").exists():  # a copy: relative economy paths resolve as in the repo
        shutil.copytree(ROOT / "economies", root / "economies")
    # mutated economies go elsewhere, so that the copy experiments read stays intact
    path = (root / "economy_cases" / file.name if file.parent == ROOT / "economies"
            else root / file.relative_to(ROOT))
    assert ROOT not in path.parents
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    try:
        with time_limit(CASE_SECONDS):
            validate(path, file)
    except SpecError as err:
        assert len(str(err)) < 2000, str(err)[:500]  # quoted values are cut


def test_every_shipped_file_is_fuzzed_and_valid():
    assert len(FILES) >= 12
    for f in FILES:
        validate(f, f)
