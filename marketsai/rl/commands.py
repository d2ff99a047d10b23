"""``marketsai train`` and ``marketsai evaluate`` (registered lazily by ``marketsai.cli``).

::

    marketsai train FILE [--out DIR] [--set key=value ...] [--address ADDR] [--num-cpus N]
                    [--quiet] [--verbose]
    marketsai evaluate CHECKPOINT|EXPORT [--episodes N] [--out DIR] [--experiment FILE]
    marketsai export CHECKPOINT --out EXPORT     # weights + JSON, safe to share
    marketsai export RUN/units/<chunk id>/<learner>.pt --seed S --out EXPORT   # a batched unit's seed

``train`` is ``marketsai run`` for ``kind: rllib`` files with RLlib's options (a local
Ray instance's ``--num-cpus``): the same runner, run folder, ``--set`` syntax and resume
rule (one unit per seed, each a Ray Tune trial with checkpoints, CSV and TensorBoard logs
under ``DIR/trials/seed<S>/tune``; see :mod:`marketsai.rl.train`); it also writes
``DIR/trials.csv`` (the results with absolute checkpoint paths). Run it again on the same
``--out`` to resume an interrupted experiment. ``--address`` joins an existing Ray cluster (``host:port`` or
``auto``); see docs/cluster.md for token authentication. ``evaluate`` plays a
checkpoint's greedy policies in the economy and writes the tabular engine's measures.
A raw checkpoint is a folder of pickles (loading it can run code); ``export`` turns a
checkpoint you trust into data only, which ``evaluate`` reads without unpickling.
``train`` is quiet: Ray's, RLlib's and Tune's own output goes to ``DIR/log`` (``--verbose``
shows it on the console; ``--quiet`` also hides the progress bar).

Ray and torch are imported only when a command runs, so ``marketsai --help`` stays fast.
Bad input exits with code 1 and a :class:`~marketsai.errors.SpecError` message.
"""

from __future__ import annotations

from pathlib import Path

import click

from marketsai.errors import SpecError, command_errors


@click.command("train")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Run folder (default: runs/<experiment name>). An existing one is resumed.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a field of the file, e.g. --set stop.training_iteration=10.")
@click.option("--address", default=None, help="Ray cluster to join (host:port or 'auto').")
@click.option("--num-cpus", type=int, default=None, help="CPUs of a local Ray instance.")
@click.option("--force", is_flag=True, help="Overwrite a run folder holding another config.")
@click.option("--quiet", is_flag=True, help="Less progress output.")
@click.option("--verbose", is_flag=True,
              help="Ray's and RLlib's logs on the console (by default only in DIR/log).")
def train(file, out, sets, address, num_cpus, force, quiet, verbose):
    """Train the deep-RL experiment FILE (kind: rllib): `marketsai run` with RLlib options."""
    from marketsai.rl.spec import load_rl_experiment
    from marketsai.runner.schema import parse_sets
    with command_errors("finished seeds are saved and an unfinished one resumes from its latest "
                        "checkpoint -- rerun the same command", RuntimeError):
        spec = load_rl_experiment(file, parse_sets(sets))
        from marketsai.rl.train import train as run_training
        out = out or str(Path("runs") / spec.name)
        table = run_training(spec, out, address=address, num_cpus=num_cpus,
                             verbose=0 if quiet else 1, force=force, show_logs=verbose)
    cols = ["seed", "iterations", "env_steps", "time_total_s", "episode_return_mean"]
    click.echo(table[[c for c in cols if c in table]].to_string(index=False))
    click.echo(f"run folder: {Path(out).resolve()}")
    for ck in table["checkpoint"].dropna():
        click.echo(f"checkpoint: {ck}")


@click.command("evaluate")
@click.argument("checkpoint", type=click.Path(exists=True))
@click.option("--episodes", type=int, default=None, help="Greedy episodes (random start states).")
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: <run folder>/evaluation/<trial>-<checkpoint>).")
@click.option("--experiment", type=click.Path(exists=True, dir_okay=False), default=None,
              help="experiment.yaml of the run (default: found above the checkpoint).")
@click.option("--seed", type=int, default=0, help="Seed of the start states.")
def evaluate(checkpoint, episodes, out, experiment, seed):
    """Evaluate CHECKPOINT (a policy export, or a raw RLlib checkpoint you trust): prices,
    profit gain, limit cycles, impulse response."""
    import warnings
    with command_errors("nothing more was written -- rerun the command", FileNotFoundError, KeyError):
        from marketsai.rl.evaluate import evaluate as run_evaluation
        from marketsai.rl.export import UNSAFE_WARNING, UnsafeCheckpointWarning, is_export
        if episodes is not None and episodes < 1:
            raise SpecError("must be >= 1", path="--episodes", value=episodes, allowed="an integer >= 1")
        from marketsai.rl.seed_export import unit_checkpoint
        if not is_export(checkpoint) and Path(checkpoint).is_dir() and unit_checkpoint(checkpoint) is None:
            click.echo("warning: " + UNSAFE_WARNING.format(what=checkpoint), err=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnsafeCheckpointWarning)
            summary = run_evaluation(checkpoint, out, episodes=episodes, experiment=experiment,
                                     seed=seed)
    sd = summary["profit_gain_sd"]
    click.echo(f"{summary['algorithm']}: profit gain Delta {summary['profit_gain']:.3f}"
               + (f" (sd {sd:.3f})" if sd is not None and sd == sd else "")
               + f", mean price {summary['mean_price']:.4f} over {summary['sessions']} episode(s)")
    if summary.get("cycle_length_mean") is not None:
        click.echo(f"limit cycle length (mean) {summary['cycle_length_mean']:.2f}; "
                   f"Nash on path in {100 * summary['eq_on_path_share']:.0f}% of episodes")
    dev, riv = summary.get("impulse_best_response_deviator"), summary.get("impulse_best_response_rival")
    if dev:
        t2 = summary["impulse_best_response_t2_rival"]
        click.echo(f"impulse response: pre-shock {summary['impulse_best_response_pre_shock']:.4f}, "
                   f"deviator t=1 {dev[1]:.4f}, rival t=2 " + ("--" if t2 is None else f"{t2:.4f}")
                   + f", t={len(dev) - 1}: {dev[-1]:.4f} / {riv[-1]:.4f}")
    click.echo(f"written to {summary['out']}")


@click.command("export")
@click.argument("checkpoint", type=click.Path(exists=True))
@click.option("--out", "out", type=click.Path(file_okay=False), required=True,
              help="Export folder: policy.json + weights.npz (data only, safe to share).")
@click.option("--experiment", type=click.Path(exists=True, dir_okay=False), default=None,
              help="experiment.yaml of the run (default: found above the checkpoint).")
@click.option("--seed", type=int, default=None,
              help="The seed to export from a seed-batched learner's unit (RUN/units/<chunk id>/<learner>.pt).")
def export(checkpoint, out, experiment, seed):
    """Export the policies of a CHECKPOINT you trust as weights + JSON (no pickles).

    CHECKPOINT is an RLlib checkpoint folder, or a seed-batched learner's unit file
    (dqn_batched.pt, sac_batched.pt, ppo_batched.pt; or its unit folder) with --seed.
    Reading an RLlib checkpoint unpickles its files; the export holds data only, and
    `marketsai evaluate EXPORT` never unpickles anything.
    """
    import warnings
    with command_errors("nothing more was written -- rerun the command", FileNotFoundError, KeyError):
        from marketsai.rl.export import UNSAFE_WARNING, UnsafeCheckpointWarning
        from marketsai.rl.seed_export import export_checkpoint, unit_checkpoint
        if unit_checkpoint(checkpoint) is None:  # a batched unit is read without unpickling code
            click.echo("note: " + UNSAFE_WARNING.format(what=checkpoint), err=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnsafeCheckpointWarning)
            folder = export_checkpoint(checkpoint, out, experiment=experiment, seed=seed)
    click.echo(f"exported to {folder}")
