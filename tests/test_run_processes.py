"""``run_experiment(processes=N)`` / ``marketsai run --processes N``: units side by side, each
in a spawned process of its own; the same results as one after another; failures, Ctrl-C
and SIGTERM lose no finished chunk and leave no process behind."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from tiny_runs import tiny_experiment

from marketsai.cli import main
from marketsai.errors import SpecError
from marketsai.params import Check, Param, positive_int
from marketsai.runner import ExperimentKind, Unit, experiment_kinds, run_experiment
from marketsai.runner.execute import CHUNK_LIMIT_ENV
from marketsai.runner.processes import UnitFailed

ECONOMY = str(Path(__file__).resolve().parents[1] / "economies" / "bertrand_duopoly.yaml")
WAIT_S = 60.0  # at most, for a file another unit writes (a machine under load)


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + WAIT_S
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear")
        time.sleep(0.02)


@experiment_kinds.register("test_side_by_side")
class SideBySideKind(ExperimentKind):
    """Units that meet: unit 0 waits until unit 1 has started (so the two ran at the same
    time), unit 1 waits while ``DIR/hold`` exists; unit ``fail`` raises once both met."""

    schema = {"units": Param(3, positive_int), "dir": Param(check=Check(lambda x: isinstance(x, str), "a path")),
              "fail": Param(-1, Check(lambda x: isinstance(x, int), "an integer"))}

    def units(self, cfg):
        return [Unit(f"u{i}", 1, {"i": i}) for i in range(cfg["units"])]

    def run_unit(self, cfg, unit, threads=None):
        i, meet = unit.params["i"], Path(cfg["dir"])
        (meet / f"pid{i}").write_text(str(os.getpid()))
        if i == 0:
            _wait_for(meet / "pid1")
        if i == 1:
            while (meet / "hold").exists():
                time.sleep(0.02)
        if i == cfg["fail"]:
            raise ValueError(f"boom in unit {i}")
        logging.getLogger("marketsai.runner").info("unit u%d ran in process %d", i, os.getpid())
        return {"results": pd.DataFrame({"unit": [i], "pid": [os.getpid()]})}


def side_by_side(folder: Path, **kw) -> dict:
    (folder / "meet").mkdir(parents=True, exist_ok=True)
    return {"kind": "test_side_by_side", "economy": ECONOMY, "seed": 0, "dir": str(folder / "meet")} | kw


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_failing_unit_lets_the_running_ones_finish_then_names_itself(tmp_path):
    cfg = side_by_side(tmp_path, units=4, fail=0)
    (tmp_path / "meet" / "hold").touch()  # unit 1 finishes after the driver logged unit 0's error

    def release():
        log = tmp_path / "run" / "log"
        while not (log.is_file() and "boom in unit 0" in log.read_text()):
            time.sleep(0.02)
        (tmp_path / "meet" / "hold").unlink()
    threading.Thread(target=release, daemon=True).start()
    with pytest.raises(UnitFailed, match="unit u0 failed: ValueError: boom in unit 0") as err:
        run_experiment(cfg, out=tmp_path / "run", processes=2, progress=False)
    assert isinstance(err.value.__cause__, ValueError)
    chunks = tmp_path / "run" / "chunks"
    assert sorted(p.parent.name for p in chunks.glob("*/done.json")) == ["u1"]  # none started after
    text = (tmp_path / "run" / "log").read_text()
    assert "Traceback" in text and "waiting for the 1 running units to finish" in text
    assert gone(int((tmp_path / "meet" / "pid0").read_text()))


@pytest.mark.parametrize("how", ["interrupt", "sigterm"])
def test_a_stopped_run_stops_its_workers_and_resumes(tmp_path, monkeypatch, how):
    """Units 0 and 1 run at once (unit 0 waits for unit 1), each in a process of its own;
    stopped after unit 0's chunk (Ctrl-C, or SIGTERM to the driver), the run terminates unit
    1 and keeps unit 0's chunk; a rerun resumes with units 1 and 2 (after Ctrl-C)."""
    cfg, meet, handler = side_by_side(tmp_path), tmp_path / "meet", signal.getsignal(signal.SIGTERM)
    (meet / "hold").touch()  # unit 1 runs until the driver stops it
    if how == "interrupt":  # Ctrl-C after unit 0's chunk (the runner's test hook)
        monkeypatch.setenv(CHUNK_LIMIT_ENV, "1")
    else:
        def terminate():
            _wait_for(tmp_path / "run" / "chunks" / "u0" / "done.json")
            os.kill(os.getpid(), signal.SIGTERM)
        threading.Thread(target=terminate, daemon=True).start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_experiment(cfg, out=tmp_path / "run", processes=2, progress=False)
    assert time.monotonic() - t0 < WAIT_S / 2
    assert gone(int((meet / "pid1").read_text()))  # terminated, not left running
    assert signal.getsignal(signal.SIGTERM) is handler  # the driver's own handler was put back
    chunks = tmp_path / "run" / "chunks"
    kept = (chunks / "u0" / "done.json").stat().st_mtime_ns
    assert sorted(p.parent.name for p in chunks.glob("*/done.json")) == ["u0"]
    if how == "sigterm":
        return
    monkeypatch.delenv(CHUNK_LIMIT_ENV)
    (meet / "hold").unlink()
    run = run_experiment(cfg, out=tmp_path / "run", processes=2, progress=False)
    assert (chunks / "u0" / "done.json").stat().st_mtime_ns == kept  # resumed, not recomputed
    res = pd.read_parquet(run / "results.parquet")
    assert res["unit"].tolist() == [0, 1, 2]  # in unit order, whichever finished first
    assert os.getpid() not in set(res["pid"]) and res["pid"].nunique() == 3  # a fresh process a unit
    assert all(gone(pid) for pid in res["pid"])
    text = (run / "log").read_text()  # the workers' log records, written by the driver
    assert all(f"unit u{i} ran in process {pid}" in text for i, pid in zip(res["unit"], res["pid"], strict=True))
    runs = json.loads((run / "provenance.json").read_text())["runs"]
    assert [(r["outcome"], r["processes"]) for r in runs] == [("interrupted", 2), ("finished", 2)]
    done = [json.loads((chunks / f"u{i}" / "done.json").read_text()) for i in range(3)]
    assert all(d["started"].endswith("+00:00") and d["seconds"] >= 0 for d in done)


def test_tabular_results_do_not_depend_on_processes(tmp_path):
    one = run_experiment(tiny_experiment(7, sessions=4), out=tmp_path / "one", threads=1, progress=False)
    two = run_experiment(tiny_experiment(7, sessions=4), out=tmp_path / "two", threads=1, processes=2,
                         progress=False)
    tables = sorted(p.name for p in one.glob("*.parquet"))
    assert "results.parquet" in tables and tables == sorted(p.name for p in two.glob("*.parquet"))
    for name in tables:
        pd.testing.assert_frame_equal(pd.read_parquet(one / name), pd.read_parquet(two / name))


def test_batched_learner_results_do_not_depend_on_processes(tmp_path):
    pytest.importorskip("torch")
    settings = {"periods": 40, "learning_starts": 20, "hiddens": [8], "train_batch_size": 8,
                "checkpoint_every": 0, "episode_length": 20}
    cfg = {"kind": "learn", "name": "procs", "economy": ECONOMY, "seed": 3, "seeds": 4, "chunk_size": 2,
           "learner": {"name": "dqn_batched", "settings": settings},
           "evaluate": [{"name": "calvano", "settings": {"episodes": 1, "impulse_response": [],
                                                         "equilibrium_check": False}}]}
    one = run_experiment(cfg, out=tmp_path / "one", threads=1, progress=False)
    two = run_experiment(cfg, out=tmp_path / "two", threads=1, processes=2, progress=False)
    res = pd.read_parquet(two / "results.parquet")
    assert res["seed"].tolist() == [0, 1, 2, 3] and (res["updates"] > 0).all()
    pd.testing.assert_frame_equal(pd.read_parquet(one / "results.parquet"), res)


def test_processes_that_cannot_be_used_are_refused_before_any_folder(tmp_path):
    cfg = side_by_side(tmp_path)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(SpecError, match=r"--processes = .*integer >= 1"):
            run_experiment(cfg, out=tmp_path / "a", processes=bad, progress=False)
    with pytest.raises(SpecError, match="--address as tasks.*give one of them"):
        run_experiment(cfg, out=tmp_path / "b", processes=2, address="auto", progress=False)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    (tmp_path / "exp.yaml").write_text(json.dumps(cfg))
    for args, code, says in ((["--processes", "2", "--address", "auto"], 1, "error: --processes = 2: "),
                             (["--processes", "0"], 2, "0 is not in the range x>=1")):
        done = CliRunner().invoke(main, ["run", str(tmp_path / "exp.yaml"), "--out", str(tmp_path / "c"), *args])
        assert done.exit_code == code and says in done.output, done.output


def test_units_that_start_ray_themselves_are_refused_by_name(tmp_path):
    pytest.importorskip("ray")
    cfg = {"kind": "learn", "name": "ray", "economy": ECONOMY, "seeds": 2,
           "learner": {"name": "PPO", "settings": {"resources": {"num_env_runners": 0},
                                                          "stop": {"training_iteration": 1}}}}
    with pytest.raises(SpecError, match="learner 'PPO' starts a Ray instance of its own"):
        run_experiment(cfg, out=tmp_path / "r", processes=2, progress=False)
    from rl.rl_helpers import experiment  # noqa: PLC0415 (the rllib extra's helpers)
    with pytest.raises(SpecError, match=r"kind: rllib \(a Ray Tune trial per seed\) starts a Ray"):
        run_experiment(experiment("PPO"), out=tmp_path / "k", processes=2, progress=False)
    assert not (tmp_path / "r").exists() and not (tmp_path / "k").exists()
