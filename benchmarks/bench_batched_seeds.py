"""Seeds as a batch dimension: per-seed DQN update cost, batched ensemble vs a bare PyTorch loop.

Measured side by side in one run (interleaved rounds, best round kept: the machine is
shared), the same network (obs 2 -> 64 -> 64 -> 15, the Calvano duopoly's firm), batch 64,
the same loss (double-Q, Huber, gamma 0.95), Adam 5e-4, global-norm clipping at 40:

* ``bare loop``: one ``torch.nn.Sequential`` network, ``torch.nn.utils.clip_grad_norm_``,
  its own target network -- written here only, the floor a seed's update could cost;
* ``batched S``: :class:`marketsai.rl.ensemble.DQNEnsemble` with ``S`` members (one network
  per seed), one update step for all; per-seed cost = step time / S.

Replay sampling is excluded from both (fixed batches: the update alone). The end-to-end
row trains ``dqn_batched`` on the duopoly (2 firms: ``2 S`` networks) at one update per
period and reports periods (= updates) per second per seed, environment and replay included.
RLlib's DQN per-seed rate is cited from ``benchmarks/results/replay.md`` (sessions-replay path).

Usage: ``python benchmarks/bench_batched_seeds.py [--updates 300] [--rounds 3] [--sizes 1 4 8 16]``.
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


def rate(fn, n: int) -> float:
    for _ in range(10):
        fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - t)


def end_to_end(sizes, periods: int, rounds: int) -> dict:
    """Periods per second of each seed of ``dqn_batched`` on the duopoly, one update per
    period: interleaved windows of ``periods`` periods, the best window of each ``S``."""
    from marketsai.economy import load_economy
    from marketsai.params import validate_mapping
    from marketsai.rl.batched_dqn import SETTINGS, BatchedRun
    econ = load_economy(ROOT / "economies" / "bertrand_duopoly.yaml")
    cfg = validate_mapping({"periods": 10**9, "learning_starts": 100, "checkpoint_every": 0}, SETTINGS, "", "s")
    runs = {S: BatchedRun(econ, cfg, list(range(S))) for S in sizes}
    best = dict.fromkeys(sizes, 0.0)
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
    args, _ = parser.parse_known_args()
    torch = single_threaded()
    load0 = os.getloadavg()[0]
    fns = {"bare": bare_loop(torch)} | {S: batched(torch, S) for S in args.sizes}
    best = {k: 0.0 for k in fns}
    for _ in range(args.rounds):
        for k, fn in fns.items():
            best[k] = max(best[k], rate(fn, args.updates))
    e2e = end_to_end((1, 8), args.periods, args.rounds) if args.periods else {}
    load1 = os.getloadavg()[0]
    bare = best["bare"]
    rows = [["bare PyTorch loop, 1 network", 1, f"{bare:,.0f}", f"{1e3 / bare:.2f}", "1.00"]]
    for S in args.sizes:
        per_seed = best[S] * S
        rows.append([f"dqn_batched ensemble, S = {S}", S, f"{per_seed:,.0f}", f"{1e3 / per_seed:.2f}",
                     f"{bare / per_seed:.2f}"])
    stamp = time.strftime("%Y-%m-%d", time.gmtime())
    lines = [f"# Seeds as a batch dimension: DQN per-seed update cost ({stamp})", "",
             f"Machine: {machine()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; torch "
             f"{torch.__version__}, 1 thread; 1-minute load average {load0:.1f} at the start, {load1:.1f} at the end "
             "(2 cores: above 2, other jobs shared the machine).", "",
             "| update | seeds S | per-seed updates / s | per-seed ms / update | ratio to bare loop |",
             "|---|---|---|---|---|", *["| " + " | ".join(str(c) for c in r) + " |" for r in rows], "",
             f"One update: obs {OBS} -> 64 -> 64 -> {ACT}, batch {BATCH}, double-Q Huber loss, Adam, "
             f"global-norm clipping (per seed in the ensemble). Best of {args.rounds} interleaved rounds of "
             f"{args.updates} updates on fixed batches. Goal (issue 20): ratio at S = 8 at most 2."]
    if e2e:
        lines += ["", "End to end, `dqn_batched` on the Calvano duopoly (2 firms, `policies: agent`: 2 S networks), "
                  "one session per seed, one update per period, environment and replay sampling included "
                  f"(best of {args.rounds} interleaved windows of {args.periods} periods):", "",
                  "| seeds S | periods (= updates) / s of each seed | seed-periods / s, all seeds | "
                  "ms per seed-period |", "|---|---|---|---|"]
        lines += [f"| {S} | {r:,.0f} | {r * S:,.0f} | {1e3 / (r * S):.2f} |" for S, r in e2e.items()]
        lines += ["", "RLlib's DQN on the sessions-replay path (`benchmarks/results/replay.md`, 2026-12-01, same "
                  "machine class): 180 updates/s of both firms' networks for one seed (5.5 ms per update), 16 "
                  "sessions, one update per 4 periods."]
    text = "\n".join(lines) + "\n"
    out = dated("batched_seeds")
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
