"""Seeds as a batch dimension: per-seed DQN update cost -- RLlib per seed, RLlib batched, plain-torch batched, bare loop.

Measured side by side in one run (interleaved rounds, best round kept: the machine is
shared), the same network (obs 2 -> 64 -> 64 -> 15 ReLU, the Calvano duopoly's firm),
batch 64, the same loss (double-Q, Huber, gamma 0.95), Adam 5e-4, global-norm clipping at 40:

* ``bare loop``: one ``torch.nn.Sequential`` network, ``torch.nn.utils.clip_grad_norm_``,
  its own target network -- written here only, the floor a seed's update could cost;
* ``RLlib, one algorithm per seed``: RLlib's ``DQNTorchLearner`` on its default DQN module
  (same layers, no dueling head), one local ``LearnerGroup.update`` per seed -- what each
  seed's algorithm pays per update on today's path (sampling and the training step excluded);
* ``RLlib batched S``: ``dqn_batched`` with ``backend: rllib`` -- RLlib's own learner and
  loss over one RLModule whose parameters carry the seed axis
  (:mod:`marketsai.rl.seed_batched_rllib`), one ``LearnerGroup.update`` for all ``S``;
* ``plain-torch batched S``: :class:`marketsai.rl.ensemble.DQNEnsemble`, our own loss;
  per-seed cost = step time / S.

Replay sampling is excluded from the update rows (fixed batches). The end-to-end rows train
``dqn_batched`` (both backends) on the duopoly (2 firms: ``2 S`` networks) at one update per
period and report periods (= updates) per second per seed, environment and replay included;
beside them RLlib's DQN algorithm on the per-agent path at one update per period
(:func:`bench_replay.measure`: RLlib's default DQN head on a 64x64 encoder, one local Ray).

Usage: ``python benchmarks/bench_batched_seeds.py [--updates 300] [--rounds 3] [--sizes 1 4 8 16]
[--periods 200] [--rllib-steps 2000]``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from common import dated, machine, single_threaded

ROOT = Path(__file__).resolve().parents[1]
OBS, HID, ACT, BATCH, GAMMA = 2, [64, 64], 15, 64, 0.95


def bare_loop(torch, seed: int = 0):
    """One network's update, plain PyTorch (the benchmark's own code)."""
    torch.manual_seed(seed)

    def net():
        return torch.nn.Sequential(torch.nn.Linear(OBS, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64),
                                   torch.nn.ReLU(), torch.nn.Linear(64, ACT))
    online, target = net(), net()
    target.load_state_dict(online.state_dict())
    opt = torch.optim.Adam(online.parameters(), lr=5e-4, eps=1e-8)
    obs, nxt = torch.randn(BATCH, OBS), torch.randn(BATCH, OBS)
    act, rew = torch.randint(0, ACT, (BATCH,)), torch.randn(BATCH)

    def update():
        q = online(obs).gather(1, act[:, None])[:, 0]
        with torch.no_grad():
            best = online(nxt).argmax(1, keepdim=True)
            y = rew + GAMMA * target(nxt).gather(1, best)[:, 0]
        loss = torch.nn.functional.huber_loss(q, y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(online.parameters(), 40.0)
        opt.step()
    return update


def batched(torch, S: int):
    from marketsai.rl.ensemble import DQNEnsemble
    ens = DQNEnsemble([torch.Generator().manual_seed(s) for s in range(S)], OBS, HID, ACT, gamma=GAMMA)
    obs, nxt = torch.randn(S, BATCH, OBS), torch.randn(S, BATCH, OBS)
    act, rew = torch.randint(0, ACT, (S, BATCH)), torch.randn(S, BATCH)
    return lambda: ens.update(obs, act, rew, nxt)


def fixed_batch(rng, S: int) -> dict:
    """Fixed transitions ``(S, BATCH, ...)`` as numpy arrays."""
    return {"obs": rng.normal(size=(S, BATCH, OBS)).astype("float32"), "actions": rng.integers(0, ACT, (S, BATCH)),
            "rewards": rng.normal(size=(S, BATCH)).astype("float32"),
            "next_obs": rng.normal(size=(S, BATCH, OBS)).astype("float32")}


def rllib_batched(S: int):
    """RLlib's learner over the S seeds' one stacked RLModule (``backend: rllib``)."""
    import numpy as np

    from marketsai.rl.seed_batched_rllib import RLlibMembers, learner_group
    ens = RLlibMembers(learner_group(list(range(S)), OBS, HID, ACT, lr=5e-4, adam_epsilon=1e-8, grad_clip=40.0,
                                     gamma=GAMMA, double_q=True, huber=True, target_network_update_freq=10**9))
    batch = fixed_batch(np.random.default_rng(0), S)
    return lambda: ens.update(batch, 0)


def rllib_per_seed():
    """One seed's update on today's path: RLlib's DQN learner on its default module, one network."""
    import gymnasium as gym
    import numpy as np
    from ray.rllib.algorithms.dqn import DQNConfig
    from ray.rllib.policy.sample_batch import MultiAgentBatch
    from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME

    from marketsai.rl.replay import transitions
    config = (DQNConfig().training(lr=5e-4, gamma=GAMMA, double_q=True, dueling=False, num_atoms=1, n_step=1,
                                   grad_clip=40.0, grad_clip_by="global_norm", target_network_update_freq=10**9)
              .rl_module(model_config={"fcnet_hiddens": HID, "fcnet_activation": "relu", "head_fcnet_hiddens": []})
              .learners(num_learners=0))
    group = config.build_learner_group(spaces={"default_policy": (
        gym.spaces.Box(-np.inf, np.inf, (OBS,), np.float32), gym.spaces.Discrete(ACT))})
    b = {c: v[0] for c, v in fixed_batch(np.random.default_rng(0), 1).items()}
    batch = MultiAgentBatch({"default_policy": transitions(b["obs"], b["actions"], b["rewards"], b["next_obs"])},
                            env_steps=BATCH)
    return lambda: group.update(batch=batch, timesteps={NUM_ENV_STEPS_SAMPLED_LIFETIME: 0})


def rllib_algorithm_per_seed(steps: int) -> float:
    """Periods (= updates of both firms' networks) per second of one seed's RLlib DQN
    algorithm, per-agent path, one update per period (one local Ray for the measurement)."""
    import ray
    from bench_replay import measure
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200 * 2**20, log_to_driver=False)
    try:
        return measure("DQN", "bertrand_duopoly.yaml", "agent", None, 1, steps)[0]
    finally:
        ray.shutdown()


def rate(fn, n: int) -> float:
    for _ in range(10):
        fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - t)


def end_to_end(sizes, periods: int, rounds: int) -> dict:
    """Periods per second of each seed of ``dqn_batched`` (both backends) on the duopoly, one
    update per period: interleaved windows of ``periods`` periods, the best window of each
    ``(backend, S)``."""
    from marketsai.economy import load_economy
    from marketsai.params import validate_mapping
    from marketsai.rl.batched_dqn import SETTINGS, BatchedRun
    econ = load_economy(ROOT / "economies" / "bertrand_duopoly.yaml")
    runs = {(backend, S): BatchedRun(econ, validate_mapping({
        "periods": 10**9, "learning_starts": 100, "checkpoint_every": 0, "backend": backend}, SETTINGS, "", "s"),
        list(range(S))) for backend in ("torch", "rllib") for S in sizes}
    best = dict.fromkeys(runs, 0.0)
    for run in runs.values():
        run.advance(200)
    for _ in range(rounds):
        for S, run in runs.items():
            t = time.perf_counter()
            run.advance(run.periods + periods)
            best[S] = max(best[S], periods / (time.perf_counter() - t))
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=300, help="updates per timed window")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (best kept)")
    parser.add_argument("--sizes", type=int, nargs="*", default=[1, 4, 8, 16])
    parser.add_argument("--periods", type=int, default=200, help="end-to-end periods per window (0: skip)")
    parser.add_argument("--rllib-steps", type=int, default=2000,
                        help="periods of RLlib's DQN algorithm's timed window (0: skip)")
    args, _ = parser.parse_known_args()
    torch = single_threaded()
    load0 = os.getloadavg()[0]
    fns = {("bare", 1): bare_loop(torch), ("rllib per seed", 1): rllib_per_seed()}
    fns |= {("rllib", S): rllib_batched(S) for S in args.sizes} | {("torch", S): batched(torch, S) for S in args.sizes}
    best = dict.fromkeys(fns, 0.0)
    for _ in range(args.rounds):
        for k, fn in fns.items():
            best[k] = max(best[k], rate(fn, args.updates))
    e2e = end_to_end((1, 8), args.periods, args.rounds) if args.periods else {}
    algo = rllib_algorithm_per_seed(args.rllib_steps) if args.rllib_steps else None
    load1 = os.getloadavg()[0]
    bare = best[("bare", 1)]
    names = {"bare": "bare PyTorch loop, 1 network", "rllib per seed": "RLlib DQN learner, one algorithm per seed",
             "rllib": "RLlib batched (`backend: rllib`)", "torch": "plain-torch batched (`backend: torch`)"}
    rows = []
    for (kind, S), r in best.items():
        per_seed = r * S
        rows.append([names[kind], S, f"{per_seed:,.0f}", f"{1e3 / per_seed:.2f}", f"{bare / per_seed:.2f}"])
    stamp = time.strftime("%Y-%m-%d", time.gmtime())
    lines = [f"# Seeds as a batch dimension: DQN per-seed update cost ({stamp})", "",
             f"Machine: {machine()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; torch "
             f"{torch.__version__}, 1 thread; 1-minute load average {load0:.1f} at the start, {load1:.1f} at the end "
             "(2 cores: above 2, other jobs shared the machine). Command: `nice -n 5 python "
             f"benchmarks/bench_batched_seeds.py --updates {args.updates} --rounds {args.rounds} --sizes "
             f"{' '.join(map(str, args.sizes))} --periods {args.periods} --rllib-steps {args.rllib_steps}`.", "",
             "| update | seeds S | per-seed updates / s | per-seed ms / update | ratio to bare loop |",
             "|---|---|---|---|---|", *["| " + " | ".join(str(c) for c in r) + " |" for r in rows], "",
             f"One update: obs {OBS} -> 64 -> 64 -> {ACT} ReLU, batch {BATCH}, double-Q Huber loss, Adam, "
             f"global-norm clipping (per seed in the batched rows). Best of {args.rounds} interleaved rounds of "
             f"{args.updates} updates on fixed batches. Goal (issue 20): ratio at S = 8 at most 2."]
    if e2e:
        lines += ["", "End to end, `dqn_batched` on the Calvano duopoly (2 firms, `policies: agent`: 2 S networks), "
                  "one session per seed, one update per period, environment and replay sampling included "
                  f"(best of {args.rounds} interleaved windows of {args.periods} periods):", "",
                  "| path | seeds S | periods (= updates) / s of each seed | seed-periods / s, all seeds | "
                  "ms per seed-period |", "|---|---|---|---|---|"]
        lines += [f"| {names[b]} | {S} | {r:,.0f} | {r * S:,.0f} | {1e3 / (r * S):.2f} |" for (b, S), r in e2e.items()]
        if algo is not None:
            lines += [f"| RLlib DQN algorithm, one per seed (per-agent path, RLlib's default dueling head) | 1 | "
                      f"{algo:,.0f} | {algo:,.0f} | {1e3 / algo:.2f} |"]
    text = "\n".join(lines) + "\n"
    out = dated("batched_seeds")
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
