"""A core install (no ``rllib`` extra) imports: every module outside the RLlib layer imports
with ray and torch made unimportable, and the CLI starts. Run in a subprocess whose meta
path refuses ray and torch, so the check holds on a machine that has them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "marketsai"

#: the modules allowed to import ray or torch at import time: the RLlib layer
RLLIB_LAYER = ("marketsai.rl.", "marketsai.envs.rllib")

BLOCKED = ("ray", "torch")

PROBE = """
import importlib, importlib.abc, json, sys, traceback

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ImportError(f"No module named {{name!r}} (blocked: core install)", name=name)
        return None

sys.meta_path.insert(0, Refuse())
failed = {{}}
for name in {modules!r}:
    try:
        importlib.import_module(name)
    except Exception:
        failed[name] = traceback.format_exc(limit=-3)
from click.testing import CliRunner
from marketsai.cli import main
res = CliRunner().invoke(main, ["--help"])
print(json.dumps({{"failed": failed, "cli": [res.exit_code, res.output],
                  "loaded": sorted(m for m in sys.modules if m.split(".")[0] in {blocked!r})}}))
"""


def core_modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if not name.startswith(RLLIB_LAYER):
            names.append(name)
    return names


def test_core_modules_import_without_ray_or_torch():
    modules = core_modules()
    assert "marketsai.economy" in modules and "marketsai.rl" in modules
    assert not any(m.startswith("marketsai.rl.") for m in modules)
    out = subprocess.run([sys.executable, "-c", PROBE.format(blocked=BLOCKED, modules=modules)],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert not report["failed"], "\n".join(f"{k}:\n{v}" for k, v in report["failed"].items())
    assert report["loaded"] == []
    code, text = report["cli"]
    assert code == 0 and "train" in text and "run" in text, text
