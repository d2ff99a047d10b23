"""Where a learned Brock--Mirman savings rule is worst, and whether averaging its last kept
policies' weights (Polyak--Ruppert averaging of the iterates) would have helped.

Why: the goal of issue 22 item 2 is the *max* share error over the ergodic set, and
annealed learning rates halved the mean error but not the max (docs/growth.md). Two
explanations predict different things: if the worst state is the iterates' noise, the
deviations move from one kept policy to the next and an average of the last ones is
better; if it is a systematic misfit, the deviations sit in the same states and averaging
changes nothing. This reads a finished run folder with kept policies (``keep_policies:
true``), scores nothing new in the economy, and writes a text table.

    python experiments/growth_deep/worst_state.py RUN [--last 3] [--out FILE]

For each seed: the saved share's relative error ``s / (alpha beta) - 1`` of its last kept
policy at the reference path's capital quantiles (0, 1, 10, 50, 90, 99, 100 %) in each TFP
state, with the share of time the reference path spends in that state; then the growth
evaluation's ``share_err_max``, ``share_err_mean`` and ergodic Euler error of the last kept
policy and of the policy whose weights are the mean of the last ``--last`` kept ones.
"""

from __future__ import annotations

import argparse
import copy
import io
from pathlib import Path

import numpy as np

from marketsai.analysis.euler import simulate_path
from marketsai.analysis.growth_policy import growth_model_of, policy_savings, reference_savings
from marketsai.economy import Economy
from marketsai.learners import kept_policies, learners
from marketsai.policies import FunctionPolicy
from marketsai.run_folder import load_run
from marketsai.runner.learn import evaluate_policy

QUANTILES = (0.0, 0.01, 0.1, 0.5, 0.9, 0.99, 1.0)


def averaged(nets: list):
    """A copy of the last of ``nets`` (numpy policy networks of one shape) whose layers are
    the mean of theirs."""
    out = copy.copy(nets[-1])
    out.layers = [tuple(np.mean([n.layers[i][j] for n in nets], axis=0) for j in range(2))
                  for i in range(len(nets[-1].layers))]
    return out


def report(run_dir: Path, last: int) -> str:
    run = load_run(run_dir)
    cfg = run.config
    econ = Economy.from_dict(cfg["economy"])
    learner = learners.get(cfg["learner"]["name"])()
    (unit,) = sorted((run_dir / "units").iterdir())
    kept = kept_policies.kept(unit)
    model = growth_model_of(econ)
    ref, _ = reference_savings(model)
    k, iz = simulate_path(model, ref, 11_000, np.random.default_rng(0))
    k, iz = k[1000:], iz[1000:]
    ks = np.quantile(k, QUANTILES)
    s_ref = float(np.mean(ref(k, iz) / model.cash_on_hand(k, model.z_values[iz])))
    visits = np.bincount(iz, minlength=len(model.z_values)) / len(iz)
    out = io.StringIO()
    print(f"run {run_dir.name}; kept policies at periods {[x['periods'] for x in kept]}; reference share "
          f"{s_ref:.4f}; capital quantiles {', '.join(f'{q:g}' for q in QUANTILES)} of the reference path: "
          f"{', '.join(f'{x:.4f}' for x in ks)}", file=out)
    for s, seed in enumerate(cfg["seeds"]):
        nets = [x["policies"][s].functions[econ.agents[0]] for x in kept[-last:]]
        savings = policy_savings(econ, FunctionPolicy({econ.agents[0]: nets[-1]}))
        print(f"seed {seed}: relative share error (%) of the last kept policy, by TFP state and capital quantile",
              file=out)
        for j, share in enumerate(visits):
            iz_j = np.full(len(ks), j)
            err = savings(ks, iz_j) / model.cash_on_hand(ks, model.z_values[iz_j]) / s_ref - 1.0
            print(f"  z{j} ({100 * share:4.1f} % of periods): " + " ".join(f"{100 * e:+6.2f}" for e in err), file=out)
        for name, net in (("last", nets[-1]), (f"mean of last {len(nets)}", averaged(nets))):
            res, _ = evaluate_policy(econ, FunctionPolicy({econ.agents[0]: net}), cfg["evaluate"], seed, learner,
                                     cfg["learner"]["settings"])
            m = res.mean(numeric_only=True)
            print(f"  {name:>14}: share_err_max {100 * m['share_err_max']:.2f} %, share_err_mean "
                  f"{100 * m['share_err_mean']:.3f} %, euler_ergodic_mean {m['euler_ergodic_mean']:.3f}", file=out)
    return out.getvalue()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a finished run folder with kept policies")
    parser.add_argument("--last", type=int, default=3, help="kept policies averaged (the last ones)")
    parser.add_argument("--out", type=Path, help="write the report here too")
    args = parser.parse_args(argv)
    text = report(args.run, args.last)
    print(text, end="")
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
