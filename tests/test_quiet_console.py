"""Issue 23, item 7: deep runs are quiet -- libraries' output goes to the run's log file.

:func:`marketsai.runner.console.library_output_to` redirects descriptors 1 and 2, so it
catches what Python, C code and child processes print; the progress bar keeps the console.
"""

from __future__ import annotations

import os
import subprocess
import sys

from marketsai.console import library_output_to
from marketsai.runner.kinds import get_kind


def test_library_output_goes_to_the_log_and_ours_to_the_console(tmp_path, capfd):
    log = tmp_path / "run" / "log"
    with library_output_to(log) as console:
        print("python print")
        print("python stderr", file=sys.stderr)
        os.write(1, b"raw descriptor 1\n")
        subprocess.run([sys.executable, "-c", "import sys; print('child'); print('child err', file=sys.stderr)"],
                       check=True)
        console.write("progress for the user\n")
    print("after the block")
    out, err = capfd.readouterr()
    text = log.read_text()
    for line in ("python print", "python stderr", "raw descriptor 1", "child", "child err"):
        assert line in text and line not in out + err
    assert "progress for the user" in err and "progress for the user" not in text
    assert "after the block" in out and "after the block" not in text


def test_verbose_leaves_the_console_alone(tmp_path, capfd):
    with library_output_to(tmp_path / "log", enabled=False) as console:
        print("shown")
        assert console is sys.stderr
    assert "shown" in capfd.readouterr().out
    assert not (tmp_path / "log").exists()


def test_only_kinds_whose_libraries_print_are_quieted():
    assert get_kind("tabular").noisy({}) is False
    assert get_kind("learn").noisy({"learner": {"name": "q_learning"}}) is False


def test_the_compile_notice_reaches_the_console_in_a_quiet_run(tmp_path, capfd, monkeypatch):
    from marketsai.tabular import compiling

    source = tmp_path / "kernel_mod.py"
    source.write_text("def kernel():\n    return 1\n")

    class Cold:  # a dispatcher nothing compiled yet: no signatures, no cache index beside it
        signatures = ()
        py_func = None

    import importlib.util
    spec = importlib.util.spec_from_file_location("kernel_mod", source)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    Cold.py_func = staticmethod(mod.kernel)
    monkeypatch.setattr(compiling, "_said", False)
    with library_output_to(tmp_path / "log"):
        assert compiling.announce(Cold())
    assert compiling.MESSAGE in capfd.readouterr().err
    assert compiling.MESSAGE not in (tmp_path / "log").read_text()
