"""DQN and SAC end to end: env steps and gradient updates per second at a given replay ratio.

Off-policy learners are bound by their updates, not their sampling: at one update per
period RLlib's DQN and SAC trained the Calvano duopoly at 140-230 periods/s. This measures,
in one run, each algorithm at one update per ``--ratio`` sampled periods (RLlib's
``rollout_fragment_length``; batch 64, ``num_env_runners: 0``, torch 1 thread) on:

* the Calvano duopoly, independent learners (``policies: agent``: one network per firm),
  DQN and SAC on the 15-point price grid, SAC on the price interval;
* the Brock–Mirman planner (``economies/brock_mirman_share.yaml``), SAC on the savings share;
* and, side by side, the same duopoly cases on the sessions replay path
  (``env: {sessions: 16, stacked: true}``, :mod:`marketsai.rl.replay`): 16 sessions stepped
  as one batch, each firm's transitions in a flat replay buffer, RLlib's own learner fed
  one ``MultiAgentBatch`` per update -- the path of ``experiments/tabular_vs_deep/*_200k.yaml``.

Rates are over a window of ``--steps`` sampled periods after a warm-up iteration that
fills the replay buffer past ``num_steps_sampled_before_learning_starts``. Updates per
second are learner updates (each trains every firm's network on a batch of 64): one module's
trained rows over 64. On the sessions path RLlib's env steps are session-periods, so "1 per
4" is one update per 4 periods of one learner's experience on both paths.

Usage: ``python benchmarks/bench_replay.py [--steps 4000] [--ratio 4 1]``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from common import single_threaded, window_rates, write_table

ROOT = Path(__file__).resolve().parents[1]
BATCH = 64
INTERVAL = "../experiments/tabular_vs_deep/bertrand_duopoly_interval.yaml"
SESSIONS = 16  # the sessions replay path's batch of sessions, as in experiments/tabular_vs_deep/*_200k.yaml
CASES = [("DQN", "bertrand_duopoly.yaml", "agent", None), ("SAC", "bertrand_duopoly.yaml", "agent", None),
         ("SAC", INTERVAL, "agent", None), ("SAC", "brock_mirman_share.yaml", "group", None),
         ("DQN", "bertrand_duopoly.yaml", "agent", SESSIONS), ("SAC", "bertrand_duopoly.yaml", "agent", SESSIONS),
         ("SAC", INTERVAL, "agent", SESSIONS)]


def measure(algorithm: str, economy: str, policies: str, sessions: int | None, ratio: int,
            steps: int) -> tuple[float, float]:
    from marketsai.economy import Economy
    from marketsai.rl.algorithms import build_config
    from marketsai.rl.envs import register_economy
    from marketsai.rl.spec import RLExperimentSpec

    spec = RLExperimentSpec.from_dict({
        "kind": "rllib", "economy": str((ROOT / "economies" / economy).resolve()),
        "env": {"max_cycles": 500} if sessions is None else {"max_cycles": 500, "sessions": sessions, "stacked": True},
        "algorithm": {"name": algorithm, "model": {"fcnet_hiddens": [64, 64]},
                      "settings": {"train_batch_size_per_learner": BATCH, "rollout_fragment_length": ratio,
                                   "num_steps_sampled_before_learning_starts": 500,
                                   "min_sample_timesteps_per_iteration": 500}},
        "policies": policies, "stop": {"training_iteration": 1}, "resources": {"num_env_runners": 0}})
    econ = Economy.from_dict(spec.economy_dict())
    config = build_config(spec, econ, register_economy(econ))
    module = sorted(config.policies)[0] if config.is_multi_agent else "default_policy"
    algo = config.build_algo()
    try:
        def counts(r):  # periods sampled; rows one module trained on (BATCH per update)
            return r["num_env_steps_sampled_lifetime"], (r["learners"].get(module) or {}).get(
                "num_module_steps_trained_lifetime", 0)
        counts(algo.train())  # the next result is past the learning start
        sampled, trained = window_rates(algo, steps, counts)
    finally:
        algo.stop()
    return sampled, trained / BATCH


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000, help="sampled periods per timed window")
    parser.add_argument("--ratio", type=int, nargs="*", default=[4, 1], help="sampled periods per update")
    args, _ = parser.parse_known_args()  # benchmarks/run_all.py passes its own argv
    single_threaded()
    import ray
    load_start = os.getloadavg()[0]
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200 * 2**20, log_to_driver=False)
    rows = []
    try:
        for algorithm, economy, policies, sessions in CASES:
            for ratio in args.ratio:
                sampled, updates = measure(algorithm, economy, policies, sessions, ratio, args.steps)
                path = "per-agent" if sessions is None else f"sessions replay, {sessions} sessions"
                rows.append([algorithm, Path(economy).stem, policies, path, f"1 per {ratio}", f"{sampled:,.0f}",
                             f"{updates:,.1f}", f"{updates * ratio / max(sampled, 1e-9):.2f}"])
                print(rows[-1], flush=True)
    finally:
        ray.shutdown()
    notes = (f"Periods (env steps) sampled per second and learner updates (batch {BATCH}) per second over "
             f"{args.steps:,} sampled periods after the replay buffer's start, num_env_runners 0, torch and OpenMP "
             f"1 thread; 1-minute load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
             "(2 cores: above 2, other jobs shared the machine). 'check' is updates x ratio / periods (1 when the "
             "ratio is what RLlib did). At one update per 4 periods, 200,000 periods are 50,000 updates: divide "
             "to get the wall time of one seed.")
    print(write_table("replay", "DQN and SAC: periods and gradient updates per second at a replay ratio",
                      ["algorithm", "economy", "policies", "path", "updates per period", "periods / s",
                       "updates / s", "check"], rows, notes))


if __name__ == "__main__":
    main()
