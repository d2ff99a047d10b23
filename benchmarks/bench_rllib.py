"""Environment steps per second when sampling the Calvano duopoly under RLlib.

Compares, in one run on one machine:

1. ``pettingzoo``   -- the economy's PettingZoo ParallelEnv stepped in a plain loop
                       (random grid actions): the floor of what any learner pays;
2. ``rllib_env``    -- the same through the RLlib adapter (``econ.rllib_env_creator()``);
3. ``runner_random``-- RLlib's ``MultiAgentEnvRunner.sample`` with random actions: adds
                       RLlib's episode bookkeeping and connector pipelines;
4. ``runner_ppo``   -- the same runner acting with a PPO RLModule (64x64 MLP, torch CPU):
                       what PPO training pays per environment step for sampling.

One environment step = one period in which both firms act. Usage::

    python benchmarks/bench_rllib.py [--steps 20000] [--out benchmarks/results/rllib.md]
"""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

import numpy as np
from common import best_of

ROOT = Path(__file__).resolve().parents[1]


def _best_of(fn, repeats: int) -> float:
    """Best wall time of ``repeats`` runs (after one warm-up run)."""
    return best_of(fn, repeat=repeats, warmup=1)


def bench_env_loop(env, steps: int, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    agents = list(env.possible_agents)
    m = env.action_spaces[agents[0]].n

    def loop():
        env.reset(seed=seed)
        acts = rng.integers(0, m, size=(steps, len(agents)))
        for t in range(steps):
            _, _, term, trunc, _ = env.step({a: int(acts[t, i]) for i, a in enumerate(agents)})
            if trunc.get("__all__", False) or (trunc and all(trunc.values())):
                env.reset()
    return loop


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "rllib.md"))
    args, _ = parser.parse_known_args()  # benchmarks/run_all.py passes its own argv
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

    import ray
    import torch

    import marketsai
    from marketsai.economy import load_economy
    from marketsai.rl.algorithms import build_config
    from marketsai.rl.envs import register_economy
    from marketsai.rl.spec import RLExperimentSpec

    econ = load_economy(ROOT / "economies" / "bertrand_duopoly.yaml")
    rows = []
    n = args.steps
    t = _best_of(bench_env_loop(econ.parallel_env(max_cycles=1000), n), args.repeats)
    rows.append(("pettingzoo", "ParallelEnv loop, random grid actions", n / t))
    t = _best_of(bench_env_loop(econ.rllib_env_creator()({"max_cycles": 1000}), n), args.repeats)
    rows.append(("rllib_env", "RLlib MultiAgentEnv adapter loop, random actions", n / t))

    ray.init(num_cpus=2, object_store_memory=300 * 2**20, include_dashboard=False, log_to_driver=False)
    spec = RLExperimentSpec.from_dict({
        "kind": "rllib", "economy": str(ROOT / "economies" / "bertrand_duopoly.yaml"),
        "env": {"max_cycles": 1000}, "algorithm": {"name": "PPO", "model": {"fcnet_hiddens": [64, 64]}},
        "stop": {"training_iteration": 1}, "resources": {"num_env_runners": 0}})
    algo = build_config(spec, econ, register_economy(econ)).build_algo()
    runner = algo.env_runner
    t = _best_of(lambda: runner.sample(num_timesteps=n, random_actions=True, force_reset=True), args.repeats)
    rows.append(("runner_random", "MultiAgentEnvRunner.sample, random actions", n / t))
    t = _best_of(lambda: runner.sample(num_timesteps=n, explore=True, force_reset=True), args.repeats)
    rows.append(("runner_ppo", "MultiAgentEnvRunner.sample, PPO module (64x64, explore)", n / t))
    algo.stop()
    ray.shutdown()

    base = rows[0][2]
    lines = [
        "# Sampling speed under RLlib: the Calvano duopoly",
        "",
        f"Command: `python benchmarks/bench_rllib.py --steps {n} --repeats {args.repeats}` "
        f"(best of {args.repeats} after a warm-up; one step = one period, both firms act).",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}, ray {ray.__version__}, torch {torch.__version__}, "
        f"marketsai {marketsai.__version__}; torch threads {torch.get_num_threads()}.",
        "",
        "| path | what | env steps/s | relative to the plain env loop |",
        "|---|---|---|---|",
    ]
    for key, what, rate in rows:
        lines.append(f"| {key} | {what} | {rate:,.0f} | {rate / base:.3f} |")
    lines += ["", "For scale: the tabular numba kernel runs millions of periods per second per core "
              "(docs/REFERENCE: C port 26 million, numba port 3.8 million); pure Python about 16,000."]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
