"""Issue 11, finding 5: checkpoints execute code -- a policy export that never unpickles.

A tiny PPO run (one iteration) gives a checkpoint; ``marketsai export`` turns it into
``policy.json`` + ``weights.npz``. Evaluating the export gives the same results as the
checkpoint with every unpickling entry point disabled, a hostile ``weights.npz`` (an
object array that would run code when unpickled) is refused without running it, and
evaluating a raw checkpoint warns that it executes code from the folder.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from rl_helpers import ROOT, experiment

from marketsai.errors import SpecError

pytestmark = [pytest.mark.rllib, pytest.mark.timeout(900)]


def _cli(*args, timeout=400):
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    return subprocess.run([sys.executable, "-m", "marketsai.cli", *map(str, args)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One PPO iteration trained by the CLI with its default console (no --quiet, no
    --verbose: what test_train_is_quiet_and_ray_logs_go_to_the_run_log checks), exported."""
    tmp = tmp_path_factory.mktemp("safe")
    f = tmp / "ppo.yaml"
    f.write_text(yaml.safe_dump(experiment("PPO", checkpoint={"frequency": 1, "keep": 1})))
    proc = _cli("train", f, "--out", tmp / "run", "--num-cpus", "2")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    console = proc.stdout + proc.stderr
    ck = pd.read_csv(tmp / "run" / "trials.csv")["checkpoint"][0]
    export = tmp / "export"
    proc = _cli("export", ck, "--out", export)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "unpickles" in proc.stderr  # exporting reads the checkpoint: said so
    return {"checkpoint": Path(ck), "export": export, "tmp": tmp, "train_console": console}


def test_export_holds_data_only(trained):
    export = trained["export"]
    assert sorted(p.name for p in export.iterdir()) == ["policy.json", "weights.npz"]
    meta = json.loads((export / "policy.json").read_text())
    assert meta["format"] == "marketsai-policy" and meta["version"] == 1
    assert meta["experiment"]["economy"]["name"] == "bertrand_duopoly"  # economy inline
    with np.load(export / "weights.npz", allow_pickle=False) as data:
        names = data.files
        assert all(data[k].dtype.kind == "f" for k in names)
    assert names and all(k.split("/", 1)[0] in meta["modules"] for k in names)


def test_evaluating_an_export_never_unpickles(trained, tmp_path, monkeypatch):
    """Reading the export runs with every unpickling entry point disabled, and the whole
    evaluation opens nothing in the export folder but policy.json and weights.npz."""
    import builtins
    import io
    import warnings

    import cloudpickle
    import ray.cloudpickle
    import torch

    from marketsai.rl.evaluate import evaluate
    from marketsai.rl.export import load_export

    export = trained["export"].resolve()
    opened = []
    real_open, real_io_open = builtins.open, io.open

    def spy(opener):
        def wrapped(file, *args, **kwargs):
            if isinstance(file, (str, os.PathLike)) and export in Path(file).resolve().parents:
                opened.append(Path(file).name)
            return opener(file, *args, **kwargs)
        return wrapped
    monkeypatch.setattr(builtins, "open", spy(real_open))
    monkeypatch.setattr(io, "open", spy(real_io_open))

    def refuse(*args, **kwargs):
        raise AssertionError("unpickling attempted")

    class Refuse:
        def __init__(self, *args, **kwargs):
            refuse()

    with monkeypatch.context() as m:
        # ray.cloudpickle binds pickle's load/loads when first imported: imported above, before
        # the patch (else it keeps `refuse` for the rest of the session), and refused itself
        for module in (pickle, cloudpickle, ray.cloudpickle):
            m.setattr(module, "load", refuse)
            m.setattr(module, "loads", refuse)
        m.setattr(pickle, "Unpickler", Refuse)
        m.setattr(torch, "load", refuse)
        spec, econ, multi, mapping = load_export(export)
    assert set(mapping.values()) <= set(multi.keys())
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no UnsafeCheckpointWarning on this path
        summary = evaluate(export, tmp_path / "safe", episodes=3)
    assert summary["sessions"] == 3
    assert set(opened) == {"policy.json", "weights.npz"}, opened


def test_export_and_checkpoint_evaluate_identically(trained, tmp_path):
    from marketsai.rl.evaluate import evaluate
    from marketsai.rl.export import UnsafeCheckpointWarning
    a = evaluate(trained["export"], tmp_path / "a", episodes=3)
    with pytest.warns(UnsafeCheckpointWarning, match="unpickles files"):
        b = evaluate(trained["checkpoint"], tmp_path / "b", episodes=3)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a" / "results.csv"),
                                  pd.read_csv(tmp_path / "b" / "results.csv"))
    assert a["profit_gain"] == b["profit_gain"]


def test_cli_warns_on_raw_checkpoints_only(trained, tmp_path):
    raw = _cli("evaluate", trained["checkpoint"], "--episodes", "2", "--out", tmp_path / "raw")
    assert raw.returncode == 0 and "warning:" in raw.stderr and "execute arbitrary code" in raw.stderr
    safe = _cli("evaluate", trained["export"], "--episodes", "2", "--out", tmp_path / "safe")
    assert safe.returncode == 0 and "warning:" not in safe.stderr, safe.stderr[-2000:]


class _Payload:
    """Unpickling this creates a marker file: the attack a checkpoint can carry."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_a_hostile_weights_file_is_refused_without_running_it(trained, tmp_path):
    import shutil

    from marketsai.rl.evaluate import evaluate
    from marketsai.runner.store import file_sha256
    export = tmp_path / "hostile"
    shutil.copytree(trained["export"], export)
    marker = tmp_path / "pwned"
    payload = np.empty(1, dtype=object)
    payload[0] = _Payload(marker)
    with np.load(export / "weights.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    first = sorted(arrays)[0]
    arrays[first] = payload
    with open(export / "weights.npz", "wb") as fh:
        np.savez(fh, **arrays)
    meta = json.loads((export / "policy.json").read_text())
    meta["weights_sha256"] = file_sha256(export / "weights.npz")  # a consistent forgery
    (export / "policy.json").write_text(json.dumps(meta))
    with pytest.raises(SpecError, match="without unpickling"):
        evaluate(export, tmp_path / "out", episodes=1)
    assert not marker.exists()
    # and a tampered file whose hash no longer matches is named as such
    meta["weights_sha256"] = "0" * 64
    (export / "policy.json").write_text(json.dumps(meta))
    with pytest.raises(SpecError, match="does not match the SHA-256"):
        evaluate(export, tmp_path / "out", episodes=1)


def test_an_export_whose_arrays_do_not_fit_the_network_is_refused(trained, tmp_path):
    import shutil

    from marketsai.rl.evaluate import evaluate
    from marketsai.runner.store import file_sha256
    export = tmp_path / "wrong"
    shutil.copytree(trained["export"], export)
    with np.load(export / "weights.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    first = sorted(arrays)[0]
    arrays[first] = np.zeros((3, 3), np.float32)
    with open(export / "weights.npz", "wb") as fh:
        np.savez(fh, **arrays)
    meta = json.loads((export / "policy.json").read_text())
    meta["weights_sha256"] = file_sha256(export / "weights.npz")
    (export / "policy.json").write_text(json.dumps(meta))
    with pytest.raises(SpecError, match="has shape"):
        evaluate(export, tmp_path / "out", episodes=1)


def test_train_is_quiet_and_ray_logs_go_to_the_run_log(trained):
    """Issue 23, item 7: about 380 console lines of Ray / Tune output before; now the trials
    table and the run folder, Ray's lines in ``RUN/log``. The run is the module's (a plain
    `marketsai train`): a second training of the same file would check nothing more."""
    from marketsai.runner.kinds import get_kind
    assert get_kind("learn").noisy({"learner": {"name": "PPO"}}) is True
    console = trained["train_console"]
    assert len(console.splitlines()) <= 12, console
    assert "Trial status" not in console and "Trial status" in (trained["tmp"] / "run" / "log").read_text()
