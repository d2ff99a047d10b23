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
