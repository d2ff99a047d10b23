"""The docs' worked examples run, and the economy-file reference lists every field."""

import re
import sys
import types

from marketsai.markets import markets
from marketsai.spec import describe_fields


def test_add_a_market_walkthrough_runs(capsys):
    text = open("docs/add_a_market.md").read()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 4
    module = types.ModuleType("mymarkets")
    exec(compile(blocks[0], "mymarkets.py", "exec"), module.__dict__)
    sys.modules["mymarkets"] = module
    try:
        namespace = {"LinearCity": module.LinearCity}
        for block in blocks[1:]:
            exec(compile(block, "docs/add_a_market.md", "exec"), namespace)
        out = capsys.readouterr().out
        assert "15 225" in out
        assert "markets[0].params.g = 2.0" in out
    finally:
        sys.modules.pop("mymarkets", None)
        markets.unregister("linear_city_demo")


def test_economy_file_reference_is_complete():
    text = open("docs/economy_files.md").read()
    for section, rows in describe_fields().items():
        assert f"### `{section}`" in text
        for name, *_ in rows:
            assert f"| `{name}` |" in text, f"{section}.{name} missing from docs/economy_files.md"
    for name in markets.names():
        if ":" not in name and markets.get(name).__module__.startswith("marketsai."):
            assert f"market `{name}`" in text
            for param in markets.get(name).params:
                assert f"| `{param}` |" in text


def test_dynamic_economies_example_runs():
    text = open("docs/dynamic_economies.md").read()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "docs/dynamic_economies.md", "exec"), {})


def test_economy_file_reference_is_generated_from_the_code():
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_economy_reference", "docs/make_economy_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.reference() in open("docs/economy_files.md").read(), \
        "docs/economy_files.md is stale: run python docs/make_economy_reference.py"


def test_architecture_page_examples_run(capsys):
    """The learner, evaluation and experiment of docs/architecture.md run as printed: a
    registered learner's policies evaluated by calvano and by the page's own evaluation."""
    from marketsai.analysis.evaluations import evaluations
    from marketsai.learners import learners

    text = open("docs/architecture.md").read()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 3
    namespace: dict = {}
    try:
        for block in blocks:
            exec(compile(block, "docs/architecture.md", "exec"), namespace)
        results = namespace["results"]
        game = __import__("marketsai").load_economy("economies/bertrand_duopoly.yaml").finite_game()
        second_highest = float(game.actions[0][-2])
        assert results["price_high"].tolist() == [second_highest] * 2
        assert results["mean_price"].tolist() == [second_highest] * 2  # a fixed price pair
        assert (results["profit_gain"] > 0.8).all()  # near the monopoly price
        assert "profit_gain" in capsys.readouterr().out
    finally:
        learners.unregister("architecture_demo_top_price")
        evaluations.unregister("architecture_demo_price_range")
