"""Training an RLlib experiment with Ray Tune: run folder, checkpoints, resume, logs.

A run folder ``OUT`` holds::

    experiment.yaml   the resolved experiment, economy inline (what `evaluate` reads)
    tune/             Ray Tune's experiment: one folder per trial (seed) with
                      progress.csv (CSV log), result.json, events.out.tfevents.*
                      (TensorBoard: `tensorboard --logdir OUT/tune`) and checkpoint_*/
    trials.csv        one row per trial: seed, iterations, env steps, wall time,
                      mean episode return, last checkpoint
    summary.json      the same, plus the command's settings

Running the same command again on an interrupted run resumes it from its latest
checkpoints (Tune's ``Tuner.restore``), and a finished run is not trained again.
One trial per seed; all trials run on the local Ray instance or on the cluster at
``address``, each with the env runners and learners the experiment file asks for.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pandas as pd
import yaml

from marketsai.rl.spec import RLExperimentSpec
from marketsai.runner.store import atomic_write_text, json_text

EXPERIMENT_FILE = "experiment.yaml"
TUNE_DIR = "tune"


def _economy(spec: RLExperimentSpec):
    from marketsai.economy import Economy
    return Economy.from_dict(spec.economy_dict(), file=spec.file)


def resolved_experiment(spec: RLExperimentSpec, econ) -> dict:
    """The experiment as written to ``experiment.yaml``: every default, economy inline."""
    data = spec.to_dict()
    data["economy"] = econ.to_dict()
    return data


def train(spec: RLExperimentSpec, out: str | Path, *, address: str | None = None,
          num_cpus: int | None = None, verbose: int = 1) -> pd.DataFrame:
    """Train every seed of ``spec`` with Tune; returns the trials table (also on disk)."""
    from ray import tune
    from ray.tune import CheckpointConfig, RunConfig, TuneConfig, Tuner

    from marketsai.rl.algorithms import build_config
    from marketsai.rl.cluster import init_ray
    from marketsai.rl.envs import register_economy

    out = Path(out).resolve()
    econ = _economy(spec)  # validate before starting Ray
    config = build_config(spec, econ, "<not registered yet>")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / EXPERIMENT_FILE, yaml.safe_dump(resolved_experiment(spec, econ), sort_keys=False))

    init_ray(address, num_cpus=num_cpus)
    env = register_economy(econ)
    config = build_config(spec, econ, env)
    if len(spec.seeds) > 1:
        config.debugging(seed=tune.grid_search(list(spec.seeds)))

    trainable = config.algo_class
    tune_path = out / TUNE_DIR
    started = time.time()
    if Tuner.can_restore(str(tune_path)):
        import sys
        print(f"note: resuming {tune_path}: Ray Tune unpickles its saved state and checkpoints; "
              "resume only run folders you created (docs/cli.md, trust model)", file=sys.stderr)
        tuner = Tuner.restore(str(tune_path), trainable=trainable, param_space=config,
                              resume_unfinished=True, resume_errored=True)
    else:
        ck = spec.checkpoint
        tuner = Tuner(
            trainable,
            param_space=config,
            tune_config=TuneConfig(max_concurrent_trials=spec.resources["max_concurrent_trials"]),
            run_config=RunConfig(
                name=TUNE_DIR, storage_path=str(out), stop=dict(spec.stop), verbose=verbose,
                checkpoint_config=CheckpointConfig(checkpoint_frequency=ck["frequency"],
                                                   num_to_keep=ck["keep"],
                                                   checkpoint_at_end=ck["at_end"]),
            ),
        )
    grid = tuner.fit()
    table = trials_table(grid)
    atomic_write_text(out / "trials.csv", table.to_csv(index=False))
    summary = {"experiment": spec.name, "algorithm": spec.algorithm, "economy": econ.spec.name,
               "address": address, "seeds": list(spec.seeds), "wall_time_s": time.time() - started,
               "trials": json.loads(table.to_json(orient="records"))}
    atomic_write_text(out / "summary.json", json_text(summary))
    errors = [str(r.error) for r in grid if r.error is not None]
    if errors:
        raise RuntimeError(f"{len(errors)} trial(s) failed; first error: {errors[0]}")
    return table


def trials_table(grid) -> pd.DataFrame:
    """One row per trial of a Tune ``ResultGrid``."""
    rows = []
    for r in grid:
        m = r.metrics or {}
        cfg = r.config or {}
        runners = m.get("env_runners", {}) or {}
        rows.append({
            "trial": os.path.basename(r.path) if r.path else None,
            "seed": cfg.get("seed"),
            "iterations": m.get("training_iteration"),
            "env_steps": m.get("num_env_steps_sampled_lifetime"),
            "time_total_s": m.get("time_total_s"),
            "episode_return_mean": runners.get("episode_return_mean"),
            "checkpoint": r.checkpoint.path if r.checkpoint else None,
            "error": None if r.error is None else str(r.error).splitlines()[0][:200],
        })
    return pd.DataFrame(rows)
