"""Run every benchmark script in this folder; each writes a new, dated benchmarks/results/<name>_<date>.md.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/run_all.py [name ...]``).
"""

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main(names):
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in names]
    sys.path.insert(0, str(HERE))
    for script in scripts:
        print(f"== {script.name}", flush=True)
        runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
