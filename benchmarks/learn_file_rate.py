"""Seed-periods per second of a batched learn file and its full horizon's wall time at that rate.

The learners: ``dqn_batched``, ``sac_batched``, ``ppo_batched``.

Why: the published-scale study files (``experiments/tabular_vs_deep/*_500k.yaml``) are too
long to run to check; this runs the file's learner with its own settings and seeds for
``--periods`` periods and times the periods after ``learning_starts`` (one update per
period there), the rate the whole horizon runs at.

Usage: ``python benchmarks/learn_file_rate.py FILE [--periods 5000] [--backend rllib]``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import yaml
from common import single_threaded


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--periods", type=int, default=5000)
    parser.add_argument("--backend", default=None, help="dqn_batched's backend instead of the file's")
    args = parser.parse_args()
    single_threaded()
    from marketsai.economy import load_economy
    from marketsai.learners import learners
    from marketsai.params import validate_mapping
    from marketsai.shipped import economy_file

    data = yaml.safe_load(args.file.read_text())
    name = data["learner"]["name"]
    learner = learners.get(name)()
    given = dict(data["learner"]["settings"])
    horizon = given["periods"]
    given |= {"periods": args.periods, "checkpoint_every": 0} | ({"backend": args.backend} if args.backend else {})
    cfg = validate_mapping(given, learner.settings, "learner.settings", "settings")
    if args.periods <= cfg["learning_starts"]:
        parser.error(f"--periods = {args.periods}: nothing to time (allowed: more than the file's "
                     f"learning_starts, {cfg['learning_starts']})")
    economy = load_economy(economy_file(data["economy"], base_dir=args.file.parent))
    run = learner.run_class_for(economy)(economy, cfg, data["seeds"], 0)
    run.advance(cfg["learning_starts"])
    t = time.perf_counter()
    run.advance(args.periods)
    wall, S = time.perf_counter() - t, len(data["seeds"])
    rate = S * (args.periods - cfg["learning_starts"]) / wall
    print(f"{args.file.name} backend={cfg.get('backend', 'rllib')}: {S} seeds, periods {cfg['learning_starts']}.."
          f"{args.periods} ({run.updates} updates) in {wall:.1f} s: {rate:.0f} seed-periods/s; "
          f"{horizon:,} periods x {S} seeds -> {S * horizon / rate / 3600:.2f} h; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
