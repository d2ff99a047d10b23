"""The README's quickstart runs as printed (its run folder moved to a temporary one), and
the README keeps the newcomer's order: the two commands, then what it is, then code."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_opens_with_the_two_commands_then_a_short_quickstart():
    blocks = re.findall(r"```(\w+)\n(.*?)```", README, flags=re.S)
    assert blocks[0][0] == "bash" and blocks[0][1].splitlines()[0].startswith("make demo")
    assert blocks[0][1].splitlines()[1].startswith("make test")
    assert blocks[1][0] == "python"
    code = [ln for ln in blocks[1][1].splitlines() if ln.strip()]
    assert len(code) <= 16, f"the quickstart has {len(code)} lines"


def test_readme_quickstart_runs(tmp_path, capsys, monkeypatch):
    code = re.findall(r"```python\n(.*?)```", README, flags=re.S)[0]
    assert code.count('"runs/quickstart"') == 1
    code = code.replace('"runs/quickstart"', repr(str(tmp_path / "quickstart")))
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", os.environ.get("RAY_USAGE_STATS_ENABLED", "0"))
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "1.4729" in out  # the static Nash price
    assert "checks passed" in out and "(4, 51)" in out
    assert "profit_gain_histogram" in out and "impulse_response_best_response" in out
    assert (tmp_path / "quickstart" / "summary.json").is_file()
