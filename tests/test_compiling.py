"""Issue 23, item 7: a first run says that numba is compiling (instead of sitting at 0 %);
a warm cache says nothing. Checked on a tiny cached function of a throwaway module."""

from __future__ import annotations

import importlib
import sys

import pytest

from marketsai.tabular import compiling


@pytest.fixture
def fresh_module(tmp_path, monkeypatch):
    (tmp_path / "tiny_kernel_23.py").write_text(
        "from numba import njit\n\n@njit(cache=True)\ndef plus_one(x):\n    return x + 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(compiling, "_said", False)
    yield importlib.import_module("tiny_kernel_23")
    sys.modules.pop("tiny_kernel_23", None)


def test_a_cold_kernel_is_announced_once_and_a_warm_cache_is_silent(fresh_module, capsys):
    f = fresh_module.plus_one
    assert compiling.cold(f)
    assert compiling.announce(f) and compiling.announce(f) is False  # once per process
    assert capsys.readouterr().err.strip() == compiling.MESSAGE
    assert compiling.MESSAGE.endswith("compiling kernels (first run only, about a minute)")
    assert f(1) == 2  # compiles and writes the cache
    assert not compiling.cold(f)
    again = importlib.reload(fresh_module).plus_one  # as a new process sees it: nothing loaded
    assert not again.signatures and not compiling.cold(again)  # the disk cache is warm
    compiling._said = False
    assert compiling.announce(again) is False
    assert capsys.readouterr().err == ""

