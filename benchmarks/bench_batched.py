"""Agent-steps per second when many simulations of one policy group step as one batch.

The RBC planner economy (one agent, continuous savings share), ``S`` independent
sessions. Compared in one run:

1. ``bare step``       -- ``economy.step`` on a batch of S sessions with random decisions;
2. ``VectorEnv``       -- ``economy.vector_env(S)``: the gymnasium VectorEnv shell (observations included);
3. ``RLlib, batched``  -- RLlib's single-agent env runner sampling with a PPO module (64x64)
                          through ``gym_env_vectorize_mode="vector_entry_point"``: one forward pass for S;
4. ``RLlib, per env``  -- the same runner over S copies of the single-session gymnasium env
                          (RLlib's default sync vectorisation): the per-agent baseline.

Torch and OpenMP use one thread (``RLLIB_SCALE``: defaults were 2-3x slower and noisy).
Usage: ``python benchmarks/bench_batched.py [--sessions 10 100 1000] [--steps 20000]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from common import best_of, peak_rss_mb, rate_of, single_threaded, write_table

ROOT = Path(__file__).resolve().parents[1]
ECONOMY = ROOT / "economies" / "rbc.yaml"


def bare_step(econ, sessions: int, periods: int):
    rng = np.random.default_rng(0)
    dec = econ.decisions[0]

    def run():
        state = econ.initial_state(rng, sessions)
        for _ in range(periods):
            x = rng.uniform(dec.low, dec.high, size=(sessions, 1))
            state, _, _ = econ.step(state, x, rng)
    return run


def vector_env(econ, sessions: int, periods: int):
    env = econ.vector_env(sessions=sessions, max_cycles=10**9)
    env.action_space.seed(0)

    def run():
        env.reset(seed=0)
        for _ in range(periods):
            env.step(env.action_space.sample())
    return run


def rllib_runner(econ, sessions: int, steps: int, batched: bool):
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.tune.registry import register_env
    name = f"bench_rbc_{'vec' if batched else 'single'}"
    if batched:
        register_env(name, econ.vector_env_creator())
        vec = {"gym_env_vectorize_mode": "vector_entry_point"}
    else:
        register_env(name, lambda cfg: econ.gymnasium_env(max_cycles=int(cfg.get("max_cycles", 1000))))
        vec = {}
    config = (PPOConfig().environment(name, env_config={"max_cycles": 1000})
              .env_runners(num_env_runners=0, num_envs_per_env_runner=sessions, **vec)
              .rl_module(model_config={"fcnet_hiddens": [64, 64]}))
    algo = config.build_algo()
    runner = algo.env_runner

    def run():
        runner.sample(num_timesteps=steps, random_actions=False)
    return run, algo


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--steps", type=int, default=20000, help="agent-steps per timed call")
    parser.add_argument("--repeats", type=int, default=3)
    args, _ = parser.parse_known_args()
    single_threaded()
    import ray

    import marketsai as mai
    econ = mai.load_economy(ECONOMY)
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200 * 2**20, log_to_driver=False)
    rows = []
    try:
        for S in args.sessions:
            periods = max(args.steps // S, 20)
            n = periods * S
            t_bare = best_of(bare_step(econ, S, periods), repeat=args.repeats, warmup=1)
            t_vec = best_of(vector_env(econ, S, periods), repeat=args.repeats, warmup=1)
            row = [S, f"{n / t_bare:,.0f}", f"{n / t_vec:,.0f}"]
            for batched in (True, False):
                if not batched and S > 100:
                    row.append("(not run: minutes per call)")
                    continue
                run, algo = rllib_runner(econ, S, n, batched)
                row.append(rate_of(run, algo, n, args.repeats))
            rows.append(row)
            print(row, flush=True)
    finally:
        ray.shutdown()
    notes = (f"Agent-steps per second (a session-period of the one-agent RBC planner), best of {args.repeats}; "
             f"about {args.steps} agent-steps per timed call; torch 1 thread; peak RSS {peak_rss_mb():.0f} MB; "
             f"{time.strftime('%H:%M')} UTC. The per-env RLlib path is skipped above 100 sessions.")
    print(write_table("batched", "Batched sampling: RBC planner, S sessions as one batch",
                      ["sessions S", "bare step", "VectorEnv", "RLlib PPO sampling, batched (vector_entry_point)",
                       "RLlib PPO sampling, S single envs"], rows, notes))


if __name__ == "__main__":
    main()
