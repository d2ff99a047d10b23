"""User extensions: a market from outside the package, by import path and entry point."""

import sys

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

import marketsai as mai
from marketsai.errors import SpecError
from marketsai.markets import Market, markets
from marketsai.registry import Registry

ECONOMY = {
    "name": "user_market",
    "agents": [{"name": "shop", "count": 2, "params": {"cost": 1.0}}],
    "markets": [{"type": "linear_demand:LinearDemandBertrand", "participants": ["shop_0", "shop_1"],
                 "params": {"a": 10.0, "gamma": 0.5}}],
}


@pytest.fixture
def plugin_path(monkeypatch):
    monkeypatch.syspath_prepend("tests/plugins")


def test_user_market_by_import_path_is_loaded_stepped_and_tabulated(plugin_path, tmp_path):
    import yaml
    f = tmp_path / "user.yaml"
    f.write_text(yaml.safe_dump(ECONOMY))
    econ = mai.load_economy(f)
    nash = econ.markets[0].nash()
    assert np.allclose(nash, (10 + 1) / (2 - 0.5))  # symmetric Nash: p = (a + c)/(2 - gamma)
    mai.check_economy(econ)
    parallel_api_test(econ.parallel_env(max_cycles=30), num_cycles=60)
    env = econ.parallel_env(max_cycles=2)
    env.reset(seed=0)
    _, rew, *_ = env.step({"shop_0": 3, "shop_1": 3})
    p = econ.decisions[0].grid[3]
    assert np.isclose(rew["shop_0"], (p - 1.0) * (10 - p + 0.5 * p))
    assert econ.finite_game().payoffs.shape == (1, 225, 2)


def test_import_path_errors_are_spec_errors(plugin_path):
    bad = {**ECONOMY, "markets": [{**ECONOMY["markets"][0], "type": "linear_demand:Nope"}]}
    with pytest.raises(mai.SpecError, match=r"markets\[0\]\.type.*not a Market subclass"):
        mai.Economy.from_dict(bad)
    bad["markets"][0]["type"] = "no_such_module:X"
    with pytest.raises(mai.SpecError, match="cannot import module"):
        mai.Economy.from_dict(bad)


def test_entry_point_plugin(tmp_path, monkeypatch):
    """A package that declares ``[project.entry-points."marketsai.markets"]`` is found by name."""
    pkg = tmp_path / "acme_markets"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from linear_demand import LinearDemandBertrand as Acme\n")
    from distributions import fake_distribution
    fake_distribution(tmp_path, "acme-markets", "marketsai.markets", {"acme_linear": "acme_markets:Acme"})
    monkeypatch.syspath_prepend("tests/plugins")
    monkeypatch.syspath_prepend(str(tmp_path))
    fresh = Registry("markets", Market)
    assert "acme_linear" in fresh.names()
    assert fresh.get("acme_linear").__name__ == "LinearDemandBertrand"
    monkeypatch.setattr(markets, "_entry_points_loaded", False)
    econ = mai.Economy.from_dict({**ECONOMY, "markets": [{**ECONOMY["markets"][0], "type": "acme_linear"}]})
    assert econ.markets[0].n == 2
    sys.modules.pop("acme_markets", None)


def test_a_broken_entry_point_plugin_breaks_only_its_own_name(tmp_path, monkeypatch):
    """A plug-in whose module does not import (uninstalled, renamed) is our error for its own
    name; every other lookup, a typo's "did you mean" included, still works (issue 23)."""
    dist = tmp_path / "broken_markets-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-markets\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[marketsai.markets]\nbroken = no_such_module_23:Market\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    fresh = Registry("markets", Market)
    fresh.register("good", markets.get("bertrand_logit"))
    assert fresh.get("good") is markets.get("bertrand_logit")
    with pytest.raises(SpecError, match="did you mean 'good'"):
        fresh.get("goood")
    with pytest.raises(SpecError) as info:
        fresh.get("broken", path="markets[0].type")
    assert info.value.path == "markets[0].type"
    assert "plug-in 'broken' is installed but cannot be loaded" in str(info.value)
    assert "no_such_module_23" in str(info.value)


def test_registry_is_loud():
    class NotAMarket:
        pass
    with pytest.raises(TypeError, match="not a subclass"):
        markets.register("x", NotAMarket)
    with pytest.raises(ValueError, match="already registered"):
        markets.register("bertrand_logit", type("Other", (Market,), {}))
