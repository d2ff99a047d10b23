"""The printed output of each tutorial at full size, as committed text with its provenance.

Why: a tutorial's "What this run shows" paragraphs quote numbers its code prints at full
size; the test suite runs the tutorials at a small size, where the numbers differ. This
script runs each tutorial as a reader would (as ``python docs/tutorials/NAME.py``: in this
process with ``runpy``, its working folder a fresh one that sees the shipped ``economies/``,
as tests/test_tutorials.py runs them; ``MARKETSAI_TUTORIAL_SIZE`` unset) and writes its standard output to
``results/NAME.txt`` with a ``NAME.source.json`` sidecar (command, commit, machine, load,
wall time), which the tutorial names as its source. It takes about 8 minutes for all six
(``deep_learners`` alone 4 to 6).

    python experiments/tutorials/record_outputs.py [NAME ...]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import runpy
import tempfile
import time
from pathlib import Path

from marketsai.runner.provenance import write_source

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = ROOT / "docs" / "tutorials"
OUT = Path(__file__).resolve().parent / "results"


def record(name: str) -> Path:
    """Run one tutorial at full size; write its standard output and sidecar. Returns the text's path."""
    script = TUTORIALS / f"{name}.py"
    os.environ.pop("MARKETSAI_TUTORIAL_SIZE", None)
    printed = io.StringIO()
    with tempfile.TemporaryDirectory(prefix=f"tutorial-{name}-") as folder:
        (Path(folder) / "economies").symlink_to(ROOT / "economies")  # as from the repository root
        start = time.perf_counter()
        with contextlib.chdir(folder), contextlib.redirect_stdout(printed):
            runpy.run_path(str(script), run_name="__main__")
        seconds = time.perf_counter() - start
    path = OUT / f"{name}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(printed.getvalue(), encoding="utf-8")
    write_source(path, command=f"python docs/tutorials/{name}.py (full size, fresh working folder)",
                 wall_s=round(seconds, 1))
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="tutorials (default: every docs/tutorials/*.py)")
    args = parser.parse_args(argv)
    for name in args.names or sorted(p.stem for p in TUTORIALS.glob("*.py")):
        print(record(name))


if __name__ == "__main__":
    main()
