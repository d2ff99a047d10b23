"""PPO on the d-sector planner (vector actions): the stacked population against the VectorEnv path.

The settings of ``experiments/dimension/ppo.yaml`` at one ``d`` (default 4): 128 sessions,
8,192 planner-periods a train batch, 10 epochs of minibatches of 1,024. The VectorEnv path
runs them as the file does (one sub-environment per session); the stacked path as
``experiments/dimension/ppo_stacked.yaml`` does (the 128 sessions as rows of one
sub-environment, ``train_batch_size_per_learner`` 64 sub-environment steps = 8,192
planner-periods, minibatches of 1,024 rows): the same data per iteration, 64 periods of every
session. Both algorithms are built in one process and trained in alternating windows of
``--iterations`` iterations (after one warm-up iteration each), so that a change in the
machine's load hits both. Rates are planner-periods (env steps of the VectorEnv path) per
second of wall time: whole iterations (sampling and learning) and sampling alone (RLlib's
``env_runner_sampling_timer``). Torch and OpenMP use one thread.

Usage: ``python benchmarks/bench_stacked_vector_actions.py [--d 4] [--iterations 3] [--rounds 2]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import yaml
from common import load, peak_rss_mb, single_threaded, write_table

ROOT = Path(__file__).resolve().parents[1]
FILE = ROOT / "experiments" / "dimension" / "ppo.yaml"


def planner_settings(d: int) -> tuple[dict, dict]:
    """``(economy, learner settings)`` of ``ppo.yaml``'s case ``d`` (economy inline)."""
    from marketsai.runner.schema import apply_overrides

    exp = yaml.safe_load(FILE.read_text())
    case = exp["sweep"]["d"]["cases"][d]
    economy = yaml.safe_load((FILE.parent / exp["economy"]).read_text())
    economy = apply_overrides({"economy": economy}, {k: v for k, v in case.items()
                                                     if k.startswith("economy.")})["economy"]
    return economy, dict(exp["learner"]["settings"])


def stacked_settings(settings: dict, block: int) -> dict:
    """The same sessions and data per iteration on the stacked path, ``block`` sessions a sub-environment."""
    env = settings["env"]
    return {**settings, "env": {**env, "stacked": True, "block": block},
            "train_batch_size_per_learner": settings["train_batch_size_per_learner"] // block}


def build(economy: dict, settings: dict):
    """The Algorithm of these learner settings (as a ``kind: rllib`` file), and its planner-periods per env step."""
    from marketsai.economy import Economy
    from marketsai.rl.algorithms import build_config
    from marketsai.rl.envs import register_economy
    from marketsai.rl.learners import SECTIONS
    from marketsai.rl.spec import RLExperimentSpec
    from marketsai.rl.train import agents_per_env_step

    sections = {k: settings[k] for k in SECTIONS if k in settings}
    algorithm = {k: v for k, v in settings.items() if k not in sections and k != "model"}
    spec = RLExperimentSpec.from_dict({"kind": "rllib", "name": "bench", "economy": economy, **sections,
                                       "algorithm": {"name": "PPO", "settings": algorithm,
                                                     "model": settings.get("model", {})}})
    econ = Economy.from_dict(spec.economy_dict())
    return build_config(spec, econ, register_economy(econ), seed=0).build_algo(), agents_per_env_step(spec, econ)


def window(algo, per_step: int, iterations: int) -> tuple[float, float]:
    """(whole-iteration rate, sampling rate) in planner-periods per second over ``iterations``."""
    from ray.rllib.utils.metrics import ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED

    done = sampling = 0.0
    t0 = time.perf_counter()
    for _ in range(iterations):
        result = algo.train()
        done += result[ENV_RUNNER_RESULTS][NUM_ENV_STEPS_SAMPLED] * per_step
        sampling += result["timers"]["env_runner_sampling_timer"]
    return done / (time.perf_counter() - t0), done / sampling


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=4)
    parser.add_argument("--iterations", type=int, default=3, help="timed iterations per window")
    parser.add_argument("--block", type=int, default=8, help="sessions per stacked sub-environment")
    parser.add_argument("--rounds", type=int, default=2, help="alternating windows per path")
    args = parser.parse_args()
    single_threaded()
    import ray
    load_start = load()
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200 * 2**20, log_to_driver=False)
    economy, settings = planner_settings(args.d)
    paths = {"VectorEnv": settings, "stacked": stacked_settings(settings, args.block)}
    rates = {name: [] for name in paths}
    try:
        algos = {name: build(economy, s) for name, s in paths.items()}
        for algo, _ in algos.values():
            algo.train()  # warm-up
        for _ in range(args.rounds):
            for name, (algo, per_step) in algos.items():
                rates[name].append(window(algo, per_step, args.iterations))
                print(name, rates[name][-1], flush=True)
        for algo, _ in algos.values():
            algo.stop()
    finally:
        ray.shutdown()
    medians = {name: [statistics.median(r[k] for r in rates[name]) for k in (0, 1)] for name in paths}
    rows = [[name, paths[name]["env"].get("block", "—"), paths[name]["train_batch_size_per_learner"],
             " / ".join(f"{r[0]:,.0f}" for r in rates[name]), f"{medians[name][0]:,.0f}",
             " / ".join(f"{r[1]:,.0f}" for r in rates[name]), f"{medians[name][1]:,.0f}"] for name in paths]
    ratio = [medians["stacked"][k] / medians["VectorEnv"][k] for k in (0, 1)]
    rows.append(["stacked / VectorEnv", "", "", "", f"{ratio[0]:.2f}x", "", f"{ratio[1]:.2f}x"])
    notes = (f"d = {args.d}, the settings of experiments/dimension/ppo.yaml (128 sessions, 8,192 planner-periods "
             f"an iteration, 10 epochs, minibatches of 1,024). Planner-periods per second; each cell of a window "
             f"column is one window of {args.iterations} iterations, the windows of the two paths alternating "
             f"({args.rounds} each, after a warm-up iteration). 'whole': wall time of algo.train() (sampling and "
             f"learning); 'sampling': RLlib's env_runner_sampling_timer. Torch and OpenMP 1 thread; peak RSS "
             f"{peak_rss_mb():.0f} MB. {load_start} at the start, {load()} at the end (2 cores: above 2, other jobs "
             f"shared the machine and both rates are lower than on a quiet one; the ratio is what to read). "
             f"Command: nice -n 19 python benchmarks/bench_stacked_vector_actions.py --d {args.d} "
             f"--iterations {args.iterations} --rounds {args.rounds}")
    print(write_table("stacked_vector_actions", f"PPO on the d = {args.d} sector planner: stacked population vs VectorEnv",
                      ["path", "block", "train batch (env steps)", "whole: windows", "whole: median",
                       "sampling: windows", "sampling: median"], rows, notes))


if __name__ == "__main__":
    main()
