"""`marketsai run` on a `kind: rllib` file: the standard run folder, `--set`, resume.

One module-scoped run trains a tiny PPO experiment with two seeds (one iteration each),
interrupted after the first seed's unit and resumed; every other test reads that folder
or runs the CLI on it without training again.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from rl_helpers import ROOT, experiment

from marketsai.cli import main

pytestmark = pytest.mark.rllib

OVERRIDES = {"economy.markets[0].params.mu": 0.3, "algorithm.settings.lr": 1e-4}
SETS = ["--set", "economy.markets[0].params.mu=0.3", "--set", "algorithm.settings.lr=1e-4"]


@pytest.fixture(scope="module")
def run(tmp_path_factory, local_ray):
    """Two seeds; the run is interrupted after seed 0's unit, then resumed."""
    from marketsai.rl.train import RLlibKind
    from marketsai.runner import run_experiment
    from marketsai.runner.execute import CHUNK_LIMIT_ENV

    tmp = tmp_path_factory.mktemp("rlrun")
    f = tmp / "tiny.yaml"
    f.write_text(yaml.safe_dump(experiment("PPO", seeds=[0, 1],
                                           checkpoint={"frequency": 0, "keep": 1})))
    out = tmp / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CHUNK_LIMIT_ENV, "1")
        with pytest.raises(KeyboardInterrupt):
            run_experiment(f, out=out, overrides=OVERRIDES, progress=False)
    first = pd.read_parquet(out / "chunks" / "seed0" / "results.parquet")
    marker = out / "chunks" / "seed0" / "done.json"
    stamp = marker.stat().st_mtime_ns
    assert not (out / "chunks" / "seed1" / "done.json").exists()

    trained = []
    real = RLlibKind.run_unit

    def counting(self, cfg, unit, threads=None, context=None):
        trained.append(unit.params["seed"])
        return real(self, cfg, unit, threads, context=context)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(RLlibKind, "run_unit", counting)
        folder = run_experiment(f, out=out, overrides=OVERRIDES, progress=False)
        resumed = list(trained)
        trained.clear()
        run_experiment(f, out=out, overrides=OVERRIDES, progress=False)  # all done: trains nothing
        again = list(trained)
    return {"file": f, "out": folder, "first": first, "stamp": stamp, "marker": marker,
            "resumed": resumed, "again": again}


def test_standard_run_folder(run):
    from marketsai.rl.train import PROGRESS_COLUMNS, RESULT_COLUMNS
    from marketsai.runner import load_experiment
    from marketsai.yamlio import read_yaml

    out = run["out"]
    for name in ("config.yaml", "results.parquet", "results.csv", "progress.parquet",
                 "summary.json", "log", "figures/training_curve.png"):
        assert (out / name).is_file(), name
    results = pd.read_parquet(out / "results.parquet")
    assert list(results.columns) == list(RESULT_COLUMNS)
    assert results["seed"].tolist() == [0, 1]
    assert results["iterations"].tolist() == [1, 1]
    assert results["env_steps"].tolist() == [200, 200]
    for ck in results["checkpoint"]:  # under the run folder, relative to it
        assert not ck.startswith("/") and (out / ck).is_dir() and ck.startswith("trials/")
    progress = pd.read_parquet(out / "progress.parquet")
    assert list(progress.columns) == list(PROGRESS_COLUMNS) and len(progress) == 2
    summary = json.loads((out / "summary.json").read_text())
    assert summary["kind"] == "rllib" and summary["algorithm"] == "PPO" and summary["trials"] == 2
    assert summary["env_steps_total"] == 400
    # config.yaml is fully resolved (economy inline, overrides applied) and a valid file
    cfg = read_yaml(out / "config.yaml")
    assert cfg["economy"]["markets"][0]["params"]["mu"] == 0.3
    assert cfg["algorithm"]["settings"]["lr"] == 1e-4 and cfg["seeds"] == [0, 1]
    assert load_experiment(cfg).config == cfg
    # what `marketsai evaluate` reads sits above each checkpoint
    assert (out / "trials" / "seed0" / "experiment.yaml").is_file()


def test_report_redraws_from_the_tables(run):
    from marketsai.runner import report, summary_text

    figure = run["out"] / "figures" / "training_curve.png"
    figure.unlink()
    summary = report(run["out"])
    assert figure.is_file() and summary["trials"] == 2
    text = summary_text(run["out"])
    assert "episode_return_mean" in text and "env_steps_total" in text


def test_resume_skips_the_finished_seed(run):
    assert run["resumed"] == [1]  # seed 0 was not trained again
    assert run["again"] == []  # a finished run trains nothing
    assert run["marker"].stat().st_mtime_ns == run["stamp"]
    results = pd.read_parquet(run["out"] / "results.parquet")
    pd.testing.assert_frame_equal(results.iloc[[0]].reset_index(drop=True), run["first"])
    assert "1 already done" in (run["out"] / "log").read_text()


def test_set_through_the_cli_and_the_resume_rule(run):
    out = str(run["out"])
    res = CliRunner().invoke(main, ["run", str(run["file"]), "--out", out, "--no-progress", *SETS])
    assert res.exit_code == 0, res.output  # the same config: resumed, nothing trained
    assert "episode_return_mean" in res.output and "run folder" in res.output
    res = CliRunner().invoke(main, ["run", str(run["file"]), "--out", out, "--no-progress",
                                    "--set", "economy.markets[0].params.mu=0.3",
                                    "--set", "algorithm.settings.lr=1e-3"])
    assert res.exit_code == 1
    assert "different configuration" in res.output and "algorithm.settings.lr" in res.output


def test_train_front_end_is_the_same_run(run):
    from marketsai.rl.spec import load_rl_experiment
    from marketsai.rl.train import train

    spec = load_rl_experiment(run["file"], [s for s in SETS if s != "--set"])
    table = train(spec, run["out"], verbose=0)  # same config: resumes, trains nothing
    assert table["seed"].tolist() == [0, 1] and table["error"].isna().all()
    assert all(str(run["out"]) in ck for ck in table["checkpoint"])
    assert pd.read_csv(run["out"] / "trials.csv")["seed"].tolist() == [0, 1]


def test_bad_key_names_the_field(tmp_path):
    f = tmp_path / "tiny.yaml"
    f.write_text(yaml.safe_dump(experiment("PPO")))
    res = CliRunner().invoke(main, ["run", str(f), "--out", str(tmp_path / "r"),
                                    "--set", "learner.lr=1e-4"])
    assert res.exit_code == 1 and "learner" in res.output and "unknown key" in res.output
    assert "algorithm" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["run", str(f), "--set", "algorithm.setings.lr=1e-4"])
    assert res.exit_code == 1 and "algorithm.setings" in res.output
    assert "did you mean 'settings'" in res.output
    res = CliRunner().invoke(main, ["validate", str(f), "--set", "stop.training_iteration=0"])
    assert res.exit_code == 1 and "stop.training_iteration" in res.output
    assert not (tmp_path / "r" / "results.parquet").exists()


def test_loading_an_rllib_file_does_not_import_ray():
    code = ("import sys; from marketsai.runner import load_experiment; "
            "exp = load_experiment('experiments/tabular_vs_deep/ppo.yaml', "
            "{'economy.markets[0].params.mu': 0.3}); "
            "print(len(exp.units()), 'ray' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["4", "False", "False"]
