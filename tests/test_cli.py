"""The command line through click's CliRunner: exit codes, messages, no tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from marketsai.cli import main, parse_sets

ROOT = Path(__file__).resolve().parents[1]
ECONOMY = ROOT / "economies" / "bertrand_duopoly.yaml"


def write(tmp_path, text, name="exp.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_validate_economy_prints_resolved_yaml():
    res = invoke("validate", ECONOMY)
    assert res.exit_code == 0
    data = yaml.safe_load(res.output)
    assert data["agents"][0]["observation"]["memory"] == 1
    assert data["markets"][0]["params"]["mu"] == 0.25


def test_validate_experiment_shows_every_default(tmp_path):
    f = write(tmp_path, f"kind: tabular\neconomy: {ECONOMY}\nlearner: {{alpha: 0.1, beta: 1e-5}}\n")
    res = invoke("validate", f, "--set", "sessions=7")
    assert res.exit_code == 0, res.output
    cfg = yaml.safe_load(res.output)
    assert cfg["sessions"] == 7 and cfg["chunk_size"] == 50 and cfg["seed"] == 0
    assert cfg["learner"]["alpha"] == 0.1 and cfg["learner"]["beta"] == 1e-5
    assert cfg["learner"]["stable_periods"] == 100000
    assert cfg["analysis"]["equilibrium_check"] is True
    assert cfg["economy"]["name"] == "bertrand_duopoly"  # resolved inline


@pytest.mark.parametrize("body, needle", [
    (f"kind: tabular\neconomy: {ECONOMY}\nlearner: {{alpah: 0.1}}\n",
     "learner.alpah = 0.1: unknown key; did you mean 'alpha'?"),
    (f"kind: tabular\neconomy: {ECONOMY}\nlearner: {{alpha: 1.5}}\n",
     "learner.alpha = 1.5: learning rate out of range (allowed: 0 < alpha <= 1"),
    (f"kind: tabular\neconomy: {ECONOMY}\nsessions: 0\n", "sessions = 0: invalid value"),
    (f"kind: tabular\neconomy: {ECONOMY}\nsesions: 10\n", "did you mean 'sessions'"),
    ("kind: tabular\neconomy: {name: x, agents: [], markets: []}\n", "economy.agents"),
    ("kind: [unclosed\n", "invalid YAML at line"),
])
def test_validate_bad_input_exits_1_without_traceback(tmp_path, body, needle):
    f = write(tmp_path, body)
    res = CliRunner().invoke(main, ["validate", f])
    assert res.exit_code == 1
    assert needle in res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)


def test_bad_economy_file_through_cli(tmp_path):
    bad = ECONOMY.read_text().replace("mu: 0.25", "mu: -0.25")
    res = CliRunner().invoke(main, ["validate", write(tmp_path, bad, "econ.yaml")])
    assert res.exit_code == 1
    assert "markets[0].params.mu" in res.output and "Traceback" not in res.output


def test_run_bad_set_is_a_spec_error(tmp_path):
    f = write(tmp_path, f"kind: tabular\neconomy: {ECONOMY}\n")
    res = CliRunner().invoke(main, ["run", f, "--out", str(tmp_path / "r"),
                                    "--set", "learner.alpha=2"])
    assert res.exit_code == 1 and "learner.alpha = 2" in res.output
    assert "Traceback" not in res.output
    res = CliRunner().invoke(main, ["run", f, "--set", "novalue"])
    assert res.exit_code == 2 and "key=value" in res.output


def test_parse_sets_yaml_scalars():
    assert parse_sets(["a=1", "b=0.5", "c=4e-6", "d=true", "e=[1, 2]", "f=text", "g.h[0]=x"]) == {
        "a": 1, "b": 0.5, "c": 4e-6, "d": True, "e": [1, 2], "f": "text", "g.h[0]": "x"}


def test_rl_commands_are_listed():
    res = invoke("--help")
    assert res.exit_code == 0
    for cmd in ("run", "validate", "report", "train", "evaluate"):
        assert cmd in res.output


def test_missing_rl_extra_gives_clear_message(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "marketsai.rl.commands" or name.startswith("ray"):
            raise ModuleNotFoundError("No module named 'ray'", name="ray")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    import importlib
    monkeypatch.setattr(importlib, "import_module",
                        lambda name, *a: fake_import(name) if name.startswith("marketsai.rl")
                        else real_import(name))
    res = CliRunner().invoke(main, ["train", "x.yaml"])
    assert res.exit_code == 1
    assert "rllib extra" in res.output and "pip install 'marketsai[rllib]'" in res.output


def test_core_never_imports_ray_or_torch():
    import subprocess
    import sys
    code = ("import sys, marketsai, marketsai.cli, marketsai.runner, marketsai.analysis, "
            "marketsai.experiments; from marketsai.runner import load_experiment; "
            f"load_experiment({{'kind': 'tabular', 'economy': {str(ECONOMY)!r}}}); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ray', 'torch')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_python_dash_m_marketsai_is_the_command_line():
    """``python -m marketsai`` reaches the same commands as the ``marketsai`` script (for a
    plug-in folder on PYTHONPATH or a notebook kernel without the script on PATH)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "marketsai", "list"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "bertrand_logit" in out.stdout and "learners:" in out.stdout.lower()
