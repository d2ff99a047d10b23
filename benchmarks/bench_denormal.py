"""Learning with and without flushing subnormal floats, from a long batched run's checkpoint.

Why: a published-scale batched run (``dqn_batched_500k.yaml``) ran about 3.7x slower per
period than ``learn_file_rate.py``'s 5,000-period check predicted. Late in a run Adam's
second moments of rarely updated weights decay into subnormal floats, on which x86
arithmetic is slow; the learners' ``flush_denormal`` setting flushes them while learning.
This restores a unit's checkpoint (``RUN/units/<chunk>/dqn_batched.pt`` of the FILE's run),
counts the subnormal entries of its networks and optimiser, and times ``--periods`` periods
from there with the setting off and on, alternating, ``--rounds`` times each (the run is
restored before every timing, so both time the same periods).

Usage: ``python benchmarks/bench_denormal.py FILE UNIT_CHECKPOINT [--periods 1000] [--rounds 2]``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import yaml
from common import single_threaded


def subnormals(obj) -> tuple[int, int]:
    """(subnormal entries, floating entries) of every tensor in a nested state."""
    import torch
    if torch.is_tensor(obj):
        if not obj.is_floating_point():
            return 0, 0
        tiny = torch.finfo(obj.dtype).tiny
        return int(((obj != 0) & (obj.abs() < tiny)).sum()), obj.numel()
    items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else ()
    counts = [subnormals(v) for v in items]
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--periods", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    single_threaded()
    import torch

    from marketsai.economy import load_economy
    from marketsai.learners import learners
    from marketsai.params import validate_mapping
    from marketsai.shipped import economy_file

    data = yaml.safe_load(args.file.read_text())
    learner = learners.get(data["learner"]["name"])()
    snap = torch.load(args.checkpoint, weights_only=False)["run"]
    tiny, total = subnormals(snap["ensemble"])
    economy = load_economy(economy_file(data["economy"], base_dir=args.file.parent))
    times = {False: [], True: []}
    for _ in range(args.rounds):
        for flush in (False, True):
            cfg = validate_mapping(dict(data["learner"]["settings"]) | {"checkpoint_every": 0, "flush_denormal": flush},
                                   learner.settings, "learner.settings", "settings")
            run = learner.run_class_for(economy)(economy, cfg, data["seeds"], 0)
            run.restore(torch.load(args.checkpoint, weights_only=False)["run"])
            start = run.periods
            t = time.perf_counter()
            run.advance(start + args.periods)
            times[flush].append(time.perf_counter() - t)
    S = len(data["seeds"])
    rate = {f: S * args.periods / min(ts) for f, ts in times.items()}
    print(f"{args.file.name} from period {snap['step_count']:,}: subnormal entries {tiny:,} of {total:,} "
          f"({tiny / total:.0%}) in the networks and optimiser")
    print(f"flush_denormal false: {rate[False]:.0f} seed-periods/s; true: {rate[True]:.0f} seed-periods/s; "
          f"ratio {rate[True] / rate[False]:.2f} (best of {args.rounds}, {args.periods} periods each); "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
