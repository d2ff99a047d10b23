"""The Python surface a newcomer meets: real signatures and docstrings, load_economy
overrides with the paths of --set, load_run, check reports, `marketsai list`."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import marketsai as mai
from marketsai.cli import main
from marketsai.runner import load_experiment

ROOT = Path(__file__).resolve().parents[1]
ECONOMIES = ROOT / "economies"


def _takes_parameters(obj) -> bool:
    sig = inspect.signature(obj)
    return any(name not in ("self", "cls") for name in sig.parameters)


@pytest.mark.parametrize("name", mai.__all__)
def test_public_name_has_a_real_signature_and_numpydoc(name):
    obj = getattr(mai, name)
    sig = inspect.signature(obj)
    kinds = [p.kind for p in sig.parameters.values()]
    assert kinds != [inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD], \
        f"marketsai.{name} shows (*args, **kwargs): a wrapper hides its parameters"
    doc = inspect.getdoc(obj)
    assert doc and len(doc.splitlines()[0]) > 10, f"marketsai.{name} has no docstring"
    if _takes_parameters(obj):
        assert "Parameters\n----------" in doc, f"marketsai.{name}: no numpydoc Parameters section"
        for param in sig.parameters:
            if param not in ("self", "cls"):
                assert param in doc, f"marketsai.{name}: parameter {param!r} undocumented"


@pytest.mark.parametrize("method", ["from_dict", "initial_state", "step", "parallel_env"])
def test_economy_methods_of_the_public_surface_document_their_parameters(method):
    doc = inspect.getdoc(getattr(mai.Economy, method))
    assert "Parameters\n----------" in doc
    for param in inspect.signature(getattr(mai.Economy, method)).parameters:
        if param not in ("self", "cls"):
            assert param in doc, f"Economy.{method}: {param!r} undocumented"


def test_lazy_names_are_the_functions_themselves_and_import_stays_light():
    from marketsai.run_folder import load_run
    from marketsai.runner.run import run_experiment
    assert mai.run_experiment is run_experiment and mai.load_run is load_run
    assert {"run_experiment", "load_run", "RunResults"} <= set(dir(mai))
    code = "import sys, marketsai; print(sorted(m for m in ('pandas', 'ray', 'torch', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_load_economy_overrides_use_the_paths_of_set():
    """The same override, through load_economy and through an experiment's --set, gives
    the same resolved economy; the ``economy.`` prefix is optional."""
    path = ECONOMIES / "bertrand_duopoly.yaml"
    ours = mai.load_economy(path, overrides={"markets[0].params.mu": 0.3})
    prefixed = mai.load_economy(path, overrides={"economy.markets[0].params.mu": 0.3})
    exp = load_experiment({"kind": "tabular", "economy": str(path)},
                          overrides={"economy.markets[0].params.mu": 0.3})
    assert ours.to_dict() == prefixed.to_dict() == exp.config["economy"]
    assert ours.to_dict()["markets"][0]["params"]["mu"] == 0.3
    assert mai.load_economy(path).to_dict()["markets"][0]["params"]["mu"] == 0.25


def test_load_economy_bad_override_is_a_spec_error_naming_file_and_field():
    path = ECONOMIES / "bertrand_duopoly.yaml"
    with pytest.raises(mai.SpecError) as err:
        mai.load_economy(path, overrides={"markets[0].params.mu": -1})
    assert err.value.path == "markets[0].params.mu" and str(path) in str(err.value)
    with pytest.raises(mai.SpecError, match="no such list element"):
        mai.load_economy(path, overrides={"markets[4].params.mu": 1.0})


def test_load_run_refuses_what_is_not_a_finished_run(tmp_path):
    with pytest.raises(mai.SpecError, match="run folder not found"):
        mai.load_run(tmp_path / "missing")
    with pytest.raises(mai.SpecError, match="no config.yaml"):
        mai.load_run(tmp_path)
    (tmp_path / "config.yaml").write_text("kind: tabular\n")
    with pytest.raises(mai.SpecError, match="has not finished"):
        mai.load_run(tmp_path)


def test_check_economy_returns_a_report_and_still_raises():
    report = mai.check_economy(mai.load_economy(ECONOMIES / "growth_market.yaml"), steps=5)
    assert isinstance(report, mai.CheckReport) and report.passed
    names = [name for name, _ in report.checks]
    assert names[:3] == ["market capital (capital_rental)", "market labour (labour)",
                         "market output (goods)"]
    assert "clearing" in names and "round trip" in names and "environment" in names
    assert str(report).startswith(f"economy 'growth_market': {len(names)} checks passed")


def test_cli_check_prints_the_report_and_fails_cleanly(tmp_path):
    res = CliRunner().invoke(main, ["check", str(ECONOMIES / "cournot_duopoly.yaml"), "--steps", "5"])
    assert res.exit_code == 0, res.output
    assert "checks passed" in res.output and "ok  round trip" in res.output
    res = CliRunner().invoke(main, ["check", str(ECONOMIES / "cournot_duopoly.yaml"),
                                    "--set", "markets[0].params.slope=-1"])
    assert res.exit_code == 1 and "markets[0].params.slope" in res.output
    assert "Traceback" not in res.output


def test_cli_list_shows_every_registry():
    res = CliRunner().invoke(main, ["list"])
    assert res.exit_code == 0, res.output
    for section in ("markets:", "agent types:", "processes:", "experiment kinds:"):
        assert section in res.output
    for name in ("bertrand_logit", "cournot_linear", "household", "competitive_firm", "ar1",
                 "krusell_smith", "tabular", "rllib", "interventions"):
        assert f"  {name} " in res.output


def test_cli_list_includes_plugins_and_optional_registries(monkeypatch):
    """A market registered by a plugin appears; an optional registry that exists is listed
    by its section, one that is absent is left out."""
    import types

    from marketsai import catalog
    from marketsai.markets import markets
    from marketsai.markets.cournot import CournotLinear
    from marketsai.registry import Registry

    class PluginMarket(CournotLinear):
        """A market from a plugin."""

    markets.register("plugin_market_demo", PluginMarket)
    fake = types.ModuleType("fake_learners")
    fake.learners = Registry("learners", object)
    fake.learners.register("q_demo", type("QDemo", (), {"__doc__": "A demo learner."}))
    monkeypatch.setitem(sys.modules, "fake_learners", fake)
    monkeypatch.setattr(catalog, "OPTIONAL_REGISTRIES",
                        {"learners": ("fake_learners", "learners"),
                         "evaluations": ("no_such_module_xyz.evaluations", "evaluations")})
    try:
        cat = catalog.catalog()
    finally:
        markets._items.pop("plugin_market_demo", None)
    assert "plugin_market_demo" in dict(cat["markets"])
    assert dict(cat["learners"])["q_demo"].endswith("A demo learner.")
    assert "evaluations" not in cat
