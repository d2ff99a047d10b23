"""Environment steps per second when sampling the Calvano duopoly under RLlib.

Compares, in one run on one machine:

1. ``pettingzoo``   -- the economy's PettingZoo ParallelEnv stepped in a plain loop
                       (random grid actions): the floor of what any learner pays;
2. ``rllib_env``    -- the same through the RLlib adapter (``econ.rllib_env_creator()``);
3. ``runner_random``-- RLlib's ``MultiAgentEnvRunner.sample`` with random actions: adds
                       RLlib's episode bookkeeping and connector pipelines;
4. ``runner_ppo``   -- the same runner acting with a PPO RLModule (64x64 MLP, torch CPU):
                       what PPO training pays per environment step for sampling;
5. ``train_impala``, ``train_appo`` -- whole training (``algo.train()``) with one remote
                       env runner actor sampling while the learner (in this process, 1
                       torch thread) updates: env steps sampled and learned per second
                       of wall time, our default settings (500-step train batches of
                       50-step fragments), 64x64 MLP.

One environment step = one period in which both firms act. Usage::

    python benchmarks/bench_rllib.py [--steps 20000] [--out benchmarks/results/rllib_<date>.md]
    python benchmarks/bench_rllib.py --only impala,appo   # just those rows, in their own section
"""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

import numpy as np
from common import best_of, dated, latest, window_rates

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


ALONE = "## Rows measured alone (`--only`)"


def bench_training(name: str, econ, steps: int, hiddens=(64, 64)) -> tuple[float, float]:
    """(env steps sampled/s, env steps learned/s) while ``name`` trains with 1 env runner.

    One warm-up iteration (actor start-up, first weights), then iterations until ``steps``
    more env steps have been sampled; rates are over that window of wall time.
    """
    import torch

    from marketsai.rl.algorithms import build_config
    from marketsai.rl.envs import register_economy
    from marketsai.rl.spec import RLExperimentSpec

    spec = RLExperimentSpec.from_dict({
        "kind": "rllib", "economy": str(ROOT / "economies" / "bertrand_duopoly.yaml"),
        "env": {"max_cycles": 1000},
        "algorithm": {"name": name, "model": {"fcnet_hiddens": list(hiddens)}},
        "stop": {"training_iteration": 1}, "resources": {"num_env_runners": 1}})
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    algo = build_config(spec, econ, register_economy(econ)).build_algo()
    try:
        def counts(r):
            return (r["num_env_steps_sampled_lifetime"],
                    r["learners"]["__all_modules__"]["num_env_steps_trained_lifetime"])
        return window_rates(algo, steps, counts)
    finally:
        algo.stop()
        torch.set_num_threads(threads)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=None,
                        help="the table (default: a new dated benchmarks/results/rllib_<date>.md)")
    parser.add_argument("--only", default=None,
                        help="comma-separated rows (impala, appo, ...) to run; written in a section of their own "
                             "after the full run's table")
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
    keys = ("pettingzoo", "rllib_env", "runner", "impala", "appo")
    only = set(args.only.split(",")) if args.only else set(keys)
    if not only <= set(keys):
        parser.error(f"--only takes some of {', '.join(keys)}")
    rows = []  # (path, what, env steps sampled/s, env steps learned/s or None)
    n = args.steps
    if "pettingzoo" in only:
        t = _best_of(bench_env_loop(econ.parallel_env(max_cycles=1000), n), args.repeats)
        rows.append(("pettingzoo", "ParallelEnv loop, random grid actions", n / t, None))
    if "rllib_env" in only:
        t = _best_of(bench_env_loop(econ.rllib_env_creator()({"max_cycles": 1000}), n), args.repeats)
        rows.append(("rllib_env", "RLlib MultiAgentEnv adapter loop, random actions", n / t, None))

    ray.init(num_cpus=2, object_store_memory=300 * 2**20, include_dashboard=False, log_to_driver=False)
    if "runner" in only:
        spec = RLExperimentSpec.from_dict({
            "kind": "rllib", "economy": str(ROOT / "economies" / "bertrand_duopoly.yaml"),
            "env": {"max_cycles": 1000}, "algorithm": {"name": "PPO", "model": {"fcnet_hiddens": [64, 64]}},
            "stop": {"training_iteration": 1}, "resources": {"num_env_runners": 0}})
        algo = build_config(spec, econ, register_economy(econ)).build_algo()
        runner = algo.env_runner
        t = _best_of(lambda: runner.sample(num_timesteps=n, random_actions=True, force_reset=True),
                     args.repeats)
        rows.append(("runner_random", "MultiAgentEnvRunner.sample, random actions", n / t, None))
        t = _best_of(lambda: runner.sample(num_timesteps=n, explore=True, force_reset=True), args.repeats)
        rows.append(("runner_ppo", "MultiAgentEnvRunner.sample, PPO module (64x64, explore)", n / t, None))
        algo.stop()
    for key, name in (("impala", "IMPALA"), ("appo", "APPO")):
        if key in only:
            sampled, learned = bench_training(name, econ, n)
            rows.append((f"train_{key}", f"{name} training, 1 remote env runner, learner here "
                         "(64x64, 1 torch thread)", sampled, learned))
    ray.shutdown()

    base = rows[0][2] if rows[0][0] == "pettingzoo" else None
    flag = f" --only {args.only}" if args.only else ""
    lines = [
        "# Sampling speed under RLlib: the Calvano duopoly",
        "",
        f"Command: `python benchmarks/bench_rllib.py --steps {n} --repeats {args.repeats}{flag}` "
        f"(sampling rows: best of {args.repeats} after a warm-up; training rows: one window of "
        f">= {n} sampled steps after a warm-up iteration; one step = one period, both firms act).",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}, ray {ray.__version__}, torch {torch.__version__}, "
        f"marketsai {marketsai.__version__}; torch threads {torch.get_num_threads()} "
        f"(training rows: 1); load average at the end {os.getloadavg()[0]:.1f} (other jobs "
        "on the machine slow every row).",
        "",
        "| path | what | env steps/s | env steps learned/s | relative to the plain env loop |",
        "|---|---|---|---|---|",
    ]
    for key, what, rate, learned in rows:
        rel = f"{rate / base:.3f}" if base else "-"
        lines.append(f"| {key} | {what} | {rate:,.0f} | {'-' if learned is None else f'{learned:,.0f}'} "
                     f"| {rel} |")
    lines += ["", "For scale: the tabular numba kernel runs millions of periods per second per core "
              "(docs/REFERENCE: C port 26 million, numba port 3.8 million); pure Python about 16,000."]
    out = Path(args.out) if args.out else dated("rllib")
    base = Path(args.out) if args.out else latest("rllib")
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.only:  # keep the last full run's table; (re)write a section for these rows after it
        lines = [ALONE, ""] + lines[2:-2]
        old = base.read_text().split(ALONE)[0].rstrip("\n") + "\n\n" if base and base.exists() else ""
        out.write_text(old + "\n".join(lines) + "\n")
    else:
        out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
