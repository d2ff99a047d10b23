"""RLlib PPO sampling with a stacked population against the one-agent-per-sub-env VectorEnv.

Agent-steps per second, measured side by side in one run on two economies:

* ``growth_market`` with N = 10, 100, 1000 households (one shared policy);
* the Calvano duopoly (``bertrand_duopoly``) run as S = 100 and 1000 parallel sessions,
  two independent firms (``policies: agent``: one network per firm), whose unit is a
  session-period;
* ``krusell_smith`` with N = 100 (8 sessions) and N = 1000 (4 sessions) households, also
  with ``critic_state`` (the sampling of the centralised critic: each step also carries
  every session's aggregate state for the learner).

Columns: ``bare step`` (the economy's batched step with random decisions, the ceiling),
``bare + forward`` (plus one batched 64x64 torch forward pass per step, the ceiling of
any sampler), ``stacked`` (RLlib's env runner sampling with :class:`~marketsai.rl.stacked.RowModule`
over :class:`~marketsai.envs.stacked.EconomyStackedEnv`: one RLlib step per block of
sessions) and ``vector`` (the same runner over :class:`~marketsai.envs.vector.EconomyVectorEnv`,
one sub-environment per agent, RLlib's default module: the baseline of the previous
design). Torch and OpenMP use one thread. Best of ``--repeats``; the machine may be shared.

Usage: ``python benchmarks/bench_stacked.py [--steps 100000] [--repeats 2]``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from common import best_of, peak_rss_mb, rate_of, single_threaded, write_table

ROOT = Path(__file__).resolve().parents[1]


def economy(name: str, n: int | None = None):
    import marketsai as mai
    d = mai.load_economy(ROOT / "economies" / f"{name}.yaml").to_dict()
    if n is not None:
        d["agents"][0]["count"] = n
    return mai.Economy.from_dict(d)


def bare(econ, sessions: int, periods: int, forward: bool):
    import torch
    rng = np.random.default_rng(0)
    dec = econ.decisions
    n, d = len(econ.actors), econ.observer.spaces[econ.actors[0]].shape[0]
    net = torch.nn.Sequential(torch.nn.Linear(d, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64), torch.nn.Tanh(),
                              torch.nn.Linear(64, 2))

    grid = all(s.kind == "grid" for s in dec)
    values = np.stack([s.grid for s in dec]) if grid else None  # the duopoly: equal grids
    low, high = np.array([s.low for s in dec]), np.array([s.high for s in dec])

    def run():
        state = econ.initial_state(rng, sessions)
        for _ in range(periods):
            if grid:
                x = np.take_along_axis(values.T, rng.integers(0, values.shape[1], (sessions, len(dec))), axis=0)
            else:
                x = rng.uniform(low, high, (sessions, len(dec)))
            state, _, _ = econ.step(state, x, rng)
            if forward:
                with torch.no_grad():
                    net(torch.from_numpy(econ.observer.observe_actors(state).reshape(sessions * n, d)))
    return run


def sampler(econ, sessions: int, steps_per_call: int, stacked: bool, block: int = 1, heads: int = 1,
            critic: bool = False):
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.tune.registry import register_env

    from marketsai.rl.stacked import RowModule, StackedPPOLearner
    name = f"bench_{econ.spec.name}_{len(econ.actors)}_{sessions}_{int(stacked)}_{block}_{int(critic)}"
    config = PPOConfig()
    if stacked:
        register_env(name, econ.stacked_env_creator())
        n_envs = sessions // block
        config = (config.training(learner_class=StackedPPOLearner)
                  .rl_module(rl_module_spec=RLModuleSpec(module_class=RowModule,
                                                         model_config={"fcnet_hiddens": [64, 64], "row_heads": heads})))
        env_config = {"max_cycles": 10**6, "block": block, "agent_ids": heads > 1, "critic_state": critic}
    else:
        register_env(name, econ.vector_env_creator())
        n_envs = sessions * len(econ.actors)
        config = config.rl_module(model_config={"fcnet_hiddens": [64, 64]})
        env_config = {"max_cycles": 10**6}
    config = (config.environment(name, env_config=env_config)
              .env_runners(num_env_runners=0, num_envs_per_env_runner=n_envs,
                           gym_env_vectorize_mode="vector_entry_point"))
    algo = config.build_algo()
    runner = algo.env_runner
    rows = len(econ.actors) * block if stacked else 1  # agent-steps per sub-environment step
    env_steps = max(steps_per_call // rows, n_envs)  # RLlib counts sub-environment steps

    def run():
        runner.sample(num_timesteps=env_steps, random_actions=False)
    return run, algo, env_steps * rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000, help="agent-steps per timed call")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-vector-above", type=int, default=400_000,
                        help="skip the VectorEnv baseline above this many sub-environments x steps")
    parser.add_argument("--only", nargs="*", help="economies to run (default: all)")
    args, _ = parser.parse_known_args()
    single_threaded()
    import ray
    load_start = os.getloadavg()[0]
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200 * 2**20, log_to_driver=False)
    cases = [("growth_market", 10, 100, 100, 1, False), ("growth_market", 100, 10, 10, 1, False),
             ("growth_market", 1000, 4, 1, 1, False), ("bertrand_duopoly", None, 100, 100, 2, False),
             ("bertrand_duopoly", None, 1000, 1000, 2, False), ("krusell_smith", 100, 8, 1, 1, False),
             ("krusell_smith", 100, 8, 1, 1, True), ("krusell_smith", 1000, 4, 1, 1, False),
             ("krusell_smith", 1000, 4, 1, 1, True)]
    if args.only:
        cases = [c for c in cases if c[0] in args.only]
    rows = []
    try:
        for name, n, sessions, block, heads, critic in cases:
            econ = economy(name, n)
            agents = len(econ.actors)
            periods = max(args.steps // (sessions * agents), 10)
            total = periods * sessions * agents
            t_bare = best_of(bare(econ, sessions, periods, False), repeat=args.repeats, warmup=1)
            t_fwd = best_of(bare(econ, sessions, periods, True), repeat=args.repeats, warmup=1)
            row = [name + (" + critic_state" if critic else ""), agents, sessions, block,
                   f"{total / t_bare:,.0f}", f"{total / t_fwd:,.0f}"]
            for stacked in (True, False):
                if not stacked and (critic or sessions * agents * periods > args.skip_vector_above):
                    row.append("(not run)")
                    continue
                run, algo, done = sampler(econ, sessions, args.steps, stacked, block, heads, critic and stacked)
                row.append(rate_of(run, algo, done, args.repeats))
            row.append("—" if row[-1] == "(not run)" else
                       f"{float(row[-2].replace(',', '')) / float(row[-1].replace(',', '')):.1f}x")
            rows.append(row)
            print(row, flush=True)
    finally:
        ray.shutdown()
    notes = (f"Agent-steps per second (duopoly: firm-periods; divide by 2 for session-periods), best of "
             f"{args.repeats}, about {args.steps:,} agent-steps per timed call; torch and OpenMP 1 thread; "
             f"peak RSS {peak_rss_mb():.0f} MB; {time.strftime('%H:%M')} UTC. 'block': sessions per stacked "
             "sub-environment. The duopoly uses one network per firm (policies: agent) in the stacked module; "
             "the VectorEnv baseline one shared network. '+ critic_state': the stacked env also puts every "
             "session's aggregate state in the step's info (what the centralised critic learns from); the "
             "VectorEnv baseline is not run for it, nor above --skip-vector-above agent-steps per call. "
             f"1-minute load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
             "(2 cores: above 2, other jobs shared the machine and the rates are lower than on a quiet one).")
    table = "stacked" if not args.only else "stacked_" + "_".join(args.only)  # a subset: its own table
    print(write_table(table, "RLlib PPO sampling: stacked population vs one agent per sub-environment",
                      ["economy", "agents N", "sessions S", "block", "bare step", "bare + forward",
                       "RLlib stacked", "RLlib VectorEnv", "stacked / VectorEnv"], rows, notes))


if __name__ == "__main__":
    main()
