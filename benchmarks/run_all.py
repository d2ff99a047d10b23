"""Run every benchmark script in this folder; each writes a new, dated benchmarks/results/<name>_<date>.md.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/run_all.py [name ...]``). A script
that exits with status 2 cannot run on this machine (``bench_gpu_sessions``: no CUDA
device) and is skipped; any other non-zero status fails the run after the others ran.
"""

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).parent
SKIPPED = 2  # a script's exit status when this machine lacks what it measures


def main(names):
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in names]
    sys.path.insert(0, str(HERE))
    failed = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        sys.argv = [str(script)]  # each script's defaults (run_all's own arguments are names)
        try:
            runpy.run_path(str(script), run_name="__main__")
        except SystemExit as stop:
            if stop.code == SKIPPED:
                print(f"== {script.name}: skipped (cannot run on this machine)", flush=True)
            elif stop.code not in (0, None):
                failed.append(script.name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
