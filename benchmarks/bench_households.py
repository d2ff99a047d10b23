"""Household-steps per second in the market economies, N households stepping as one batch.

``growth_market`` (N = 1, 10, 100, 1000) and ``two_sector_labor`` (N = 100, 1000): N
households of one policy group, competitive firms (not actors). ``S`` sessions (default
1) of N households; a household-step is one household in one period. Measured in one run:

a. ``bare step``     -- ``economy.step`` on the batch (S, all decisions), random decisions;
b. ``VectorEnv``     -- ``economy.vector_env(S)`` step with observations (S x N sub-envs),
                        random actions drawn beforehand;
c. ``+ MLP``         -- (b) plus one batched torch forward pass of a PPO-sized policy MLP
                        (64x64, tanh) on all S x N observations per step, Gaussian actions;
d. ``RLlib batched`` -- ``SingleAgentEnvRunner.sample`` (RLlib's local env runner, built from a
                        ``PPOConfig`` without the rest of the algorithm) with the PPO module (64x64)
                        through ``gym_env_vectorize_mode="vector_entry_point"``
                        (``num_envs_per_env_runner = S x N``, ``num_env_runners=0``);
e. ``RLlib per agent`` -- the per-agent ``MultiAgentEnv`` (``economy.rllib_env_creator()``),
                        ``MultiAgentEnvRunner.sample``, all households mapped to one PPO module.

Household-steps under RLlib are counted from the returned episodes. Each figure is the
best of ``--repeats`` timed calls after one warm-up call, per CPU second of this process
(the machine is shared: other jobs stretch wall time, hardly CPU time; wall-clock rates of
the same calls are reported too). Peak RSS
is the process's high-water mark during each configuration (reset through
``/proc/self/clear_refs`` before it where Linux allows, else the process's peak so far).

The economy file allows at most 1,000 agents in all (``limits.MAX_AGENTS``); N = 1000
households plus their firms exceed it, so this script raises the limit in-process.
Torch and OpenMP use one thread (``RLLIB_SCALE``: the defaults were 2-3x slower and noisy).

Usage: ``python benchmarks/bench_households.py [--n 1 10 100 1000] [--sessions 1] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

import numpy as np
from common import dated, peak_rss_mb, single_threaded, write_table

ROOT = Path(__file__).resolve().parents[1]


def reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


def economy(name: str, n: int):
    import marketsai as mai
    from marketsai import limits
    from marketsai.economy import Economy
    limits.MAX_AGENTS = max(limits.MAX_AGENTS, n + 10)
    data = mai.load_economy(ROOT / "economies" / f"{name}.yaml").to_dict()
    data["agents"][0]["count"] = n
    return Economy.from_dict(data)


def bare_step(econ, sessions: int, periods: int):
    rng = np.random.default_rng(0)
    lo = np.array([s.low for s in econ.decisions])
    hi = np.array([s.high for s in econ.decisions])

    def run():
        state = econ.initial_state(rng, sessions)
        for _ in range(periods):
            state, _, _ = econ.step(state, rng.uniform(lo, hi, size=(sessions, len(lo))), rng)
    return run


def vector_env(econ, sessions: int, periods: int, mlp: bool):
    import torch
    env = econ.vector_env(sessions=sessions, max_cycles=10**9)
    env.action_space.seed(0)
    pool = [env.action_space.sample() for _ in range(8)]
    obs_dim = env.single_observation_space.shape[0]
    act_dim = env.single_action_space.shape[0]
    net = torch.nn.Sequential(torch.nn.Linear(obs_dim, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64),
                              torch.nn.Tanh(), torch.nn.Linear(64, 2 * act_dim))

    def run():
        obs, _ = env.reset(seed=0)
        for t in range(periods):
            if mlp:
                with torch.no_grad():
                    out = net(torch.from_numpy(obs))
                    mean, log_std = out[:, :act_dim], out[:, act_dim:]
                    act = (mean + log_std.exp() * torch.randn_like(mean)).numpy()
            else:
                act = pool[t % len(pool)]
            obs, *_ = env.step(act)
    return run


def agent_steps(episodes) -> int:
    total = 0
    for ep in episodes:
        total += ep.agent_steps() if hasattr(ep, "agent_steps") else len(ep)
    return total


def rllib_runner(econ, sessions: int, steps: int, batched: bool):
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.env.multi_agent_env_runner import MultiAgentEnvRunner
    from ray.rllib.env.single_agent_env_runner import SingleAgentEnvRunner
    from ray.tune.registry import register_env
    n = len(econ.actors)
    name = f"bench_households_{econ.spec.name}_{n}_{'vec' if batched else 'ma'}"
    config = PPOConfig()
    if batched:
        register_env(name, econ.vector_env_creator())
        config = config.env_runners(num_env_runners=0, num_envs_per_env_runner=sessions * n,
                                    gym_env_vectorize_mode="vector_entry_point")
    else:
        register_env(name, econ.rllib_env_creator())
        config = (config.env_runners(num_env_runners=0, num_envs_per_env_runner=sessions)
                  .multi_agent(policies={"households"}, policy_mapping_fn=_to_households))
    config = (config.environment(name, env_config={"max_cycles": 1000})
              .rl_module(model_config={"fcnet_hiddens": [64, 64]}))
    # the env runner an Algorithm builds locally with num_env_runners=0, without the learner (faster to build)
    runner = (SingleAgentEnvRunner if batched else MultiAgentEnvRunner)(config=config)
    counted = []

    def run():
        counted.append(agent_steps(runner.sample(num_timesteps=steps, random_actions=False)))
    return run, runner, counted


def _to_households(agent_id, episode, **kwargs):
    return "households"


def measure(fn, repeats: int) -> tuple[float, float, float]:
    """(best CPU seconds of this process, best wall seconds, peak RSS MB during the calls).

    Why CPU time: on a machine shared with other jobs the wall time of a single-threaded
    loop grows with the load (here up to 10x); its CPU time hardly does. Everything runs
    in this process (RLlib's local env runner, torch on one thread).
    """
    reset_peak()
    fn()
    cpu, wall = [], []
    for _ in range(repeats):
        c, w = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return min(cpu), min(wall), peak_mb()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1, 10, 100, 1000], help="households (growth_market)")
    parser.add_argument("--n-two-sector", type=int, nargs="*", default=[100, 1000])
    parser.add_argument("--sessions", type=int, default=1, help="independent economies stepped as one batch")
    parser.add_argument("--steps", type=int, default=5000, help="household-steps per timed call (at most)")
    parser.add_argument("--per-agent-max-n", type=int, default=100, help="largest N for the per-agent MultiAgentEnv path")
    parser.add_argument("--repeats", type=int, default=3)
    args, _ = parser.parse_known_args()
    single_threaded().manual_seed(0)

    S = args.sessions
    configs = [("growth_market", n) for n in args.n] + [("two_sector_labor", n) for n in args.n_two_sector]
    rows, records, wall_rows = [], [], []
    started = time.perf_counter()
    load0 = os.getloadavg()[0]
    for name, N in configs:
        econ = economy(name, N)
        width = S * N
        periods = int(np.clip(args.steps // width, 50, 5000))
        hh = periods * width
        rec = {"economy": name, "N": N, "sessions": S}
        t_a, w_a, m_a = measure(bare_step(econ, S, periods), args.repeats)
        t_b, w_b, _ = measure(vector_env(econ, S, periods, mlp=False), args.repeats)
        t_c, w_c, m_c = measure(vector_env(econ, S, periods, mlp=True), args.repeats)
        rec.update(bare=hh / t_a, vector_env=hh / t_b, vector_env_mlp=hh / t_c)
        rec.update(bare_wall=hh / w_a, vector_env_wall=hh / w_b, vector_env_mlp_wall=hh / w_c)
        # RLlib: fewer steps where a call would take many seconds (one env step per household at small N)
        d_steps = min(args.steps, 1000 * width)
        run, runner, counted = rllib_runner(econ, S, d_steps, batched=True)
        t_d, w_d, m_d = measure(run, args.repeats)
        runner.stop()
        rec.update(rllib_batched=counted[-1] / t_d, rllib_batched_wall=counted[-1] / w_d)
        rec["rllib_per_agent"] = rec["rllib_per_agent_wall"] = m_e = None
        if name == "growth_market" and N <= args.per_agent_max_n:
            # MultiAgentEnvRunner counts env steps (each one is N household-steps)
            e_steps = max(min(args.steps // 2, 500 * width) // N, 1)
            run, runner, counted = rllib_runner(econ, S, e_steps, batched=False)
            t_e, w_e, m_e = measure(run, args.repeats)
            runner.stop()
            rec.update(rllib_per_agent=counted[-1] / t_e, rllib_per_agent_wall=counted[-1] / w_e)
        rec.update(rss_bare_mb=m_a, rss_mlp_mb=m_c, rss_rllib_batched_mb=m_d, rss_rllib_per_agent_mb=m_e)
        records.append(rec)
        e = rec["rllib_per_agent"]
        rows.append([name, N, f"{rec['bare']:,.0f}", f"{rec['vector_env']:,.0f}", f"{rec['vector_env_mlp']:,.0f}",
                     f"{rec['rllib_batched']:,.0f}", f"{e:,.0f}" if e else "(not run)",
                     f"{rec['rllib_batched'] / rec['bare']:.3f}", f"{rec['rllib_batched'] / rec['vector_env_mlp']:.3f}",
                     f"{rec['rllib_batched'] / e:.1f}x" if e else "—",
                     f"{m_a:.0f} / {m_c:.0f} / {m_d:.0f}" + (f" / {m_e:.0f}" if e else "")])
        wall_rows.append([name, N] + [f"{rec[k]:,.0f}" if rec[k] else "—" for k in
                                      ("bare_wall", "vector_env_wall", "vector_env_mlp_wall", "rllib_batched_wall",
                                       "rllib_per_agent_wall")])
        print(rows[-1], f"{time.perf_counter() - started:.0f} s", flush=True)
    out_csv = dated("households", ".csv")
    with open(out_csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(records[0]))
        w.writeheader()
        w.writerows(records)
    notes = (f"Household-steps (one household in one period) per **CPU second** of the benchmark process, "
             f"**best of {args.repeats}** timed calls after one warm-up: the machine is shared with other jobs (load "
             "below), which stretches wall time but hardly CPU time; wall-clock rates, best of the same calls, are "
             f"in the second table and in the dated households CSV. {S} session(s) of N households stepped as one batch; up to "
             f"{args.steps} household-steps per timed call (fewer under RLlib at small N); torch and OpenMP 1 thread; "
             "PPO module 64x64 in RLlib's local env runner (`num_env_runners=0`, no `ray.init`). Competitive firms "
             "are not actors. Peak RSS (MB) is the process's high-water mark during (a) / (c) / (d) / (e), ray and "
             "torch loaded. (e), RLlib's per-agent MultiAgentEnv path, is run up to N = "
             f"{args.per_agent_max_n} in growth_market only. N = 1000 needs the 1,000-agent limit raised "
             f"(households + firms). Whole run {time.perf_counter() - started:.0f} s; 1-minute load average "
             f"{load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (2 cores).")
    out_md = out_csv.with_suffix(".md")
    text = write_table("households", f"Household-steps per CPU second (best of {args.repeats}): market economies, "
                       "N households as one batch",
                       ["economy", "N", "(a) bare step", "(b) VectorEnv", "(c) VectorEnv + MLP forward",
                        "(d) RLlib PPO sampling, vector_entry_point", "(e) RLlib PPO sampling, per-agent MultiAgentEnv",
                        "(d)/(a)", "(d)/(c)", "(d)/(e)", "peak RSS MB (a/c/d/e)"], rows, notes, path=out_md)
    header = ["economy", "N", "(a)", "(b)", "(c)", "(d)", "(e)"]
    text += "\n".join(["", f"## Wall clock: household-steps per second (best of {args.repeats}, same calls)", "",
                       "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                      + ["| " + " | ".join(str(c) for c in r) + " |" for r in wall_rows]) + "\n"
    out_md.write_text(text)
    print(text)

if __name__ == "__main__":
    main()
