"""The ``marketsai`` command line.

::

    marketsai run FILE [--out DIR] [--set key=value ...] [--address RAY] [--threads N]
                  [--processes N] [--force]
    marketsai validate FILE          # economy or experiment file -> fully resolved YAML
    marketsai report RUN_DIR         # redraw summary.json and figures/ from the tables
    marketsai train FILE / marketsai evaluate CHECKPOINT   # deep RL (the rllib extra);
                                     # `run` runs kind: rllib files too, `train` is its front end
    marketsai export CHECKPOINT --out DIR   # a trusted checkpoint -> weights + JSON (no pickles)
    marketsai list                   # registered markets, agent types, processes, kinds, ...
    marketsai check FILE             # conformance checks of an economy file; prints the report

Bad input exits with code 1 and the :class:`~marketsai.errors.SpecError` message (file,
field path, bad value, what is allowed) -- no traceback. See docs/cli.md.
"""

from __future__ import annotations

import sys

import click

from marketsai.errors import SpecError, command_errors

LAZY = {"train": "train", "evaluate": "evaluate", "export": "export"}
RL_MODULE = "marketsai.rl.commands"


def _fail(err: Exception, code: int = 1):
    click.echo(f"error: {err}", err=True)
    sys.exit(code)


def parse_sets(values) -> dict:
    """``("a.b=1", "c=x")`` -> ``{"a.b": 1, "c": "x"}``; see
    :func:`marketsai.runner.schema.parse_sets` (imported on use: a lean CLI start)."""
    from marketsai.runner.schema import parse_sets as parse
    return parse(values)


class LazyGroup(click.Group):
    """Adds ``train`` / ``evaluate`` from :mod:`marketsai.rl.commands` on first use, so the
    core CLI starts without importing ray or torch."""

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(LAZY))

    def get_command(self, ctx, name):
        if name in LAZY:
            return _rl_command(name)
        return super().get_command(ctx, name)


def _rl_command(name: str) -> click.Command:
    try:
        import importlib
        module = importlib.import_module(RL_MODULE)
        cmd = getattr(module, LAZY[name])
        if isinstance(cmd, click.Command):
            return cmd
        reason = f"{RL_MODULE}.{LAZY[name]} is not a click command"
    except ImportError as exc:
        missing = getattr(exc, "name", "") or ""
        if missing.split(".")[0] in ("ray", "torch", "gymnasium", "tensorboard"):
            reason = (f"`marketsai {name}` needs the rllib extra ({missing} is not installed): "
                      "pip install 'marketsai[rllib]'")
        else:
            reason = f"`marketsai {name}` is unavailable: {exc}"
    except AttributeError:
        reason = f"{RL_MODULE} has no command {LAZY[name]!r}"

    @click.command(name=name, context_settings={"ignore_unknown_options": True},
                   help=f"Deep RL ({name}); needs the rllib extra.")
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def stub(args):
        click.echo(f"error: {reason}", err=True)
        sys.exit(1)
    return stub


@click.group(cls=LazyGroup)
@click.version_option(package_name="marketsai")
def main():
    """marketsai: agent-based economics with reinforcement learning."""
    _show_spec_warnings()


def _show_spec_warnings() -> None:
    """A :class:`~marketsai.errors.SpecWarning` prints as one ``warning:`` line on stderr
    (like our errors), not as Python's file:line warning with source."""
    import warnings

    from marketsai.errors import SpecWarning
    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, SpecWarning):
            click.echo(f"warning: {message}", err=True)
        else:
            default(message, category, filename, lineno, file, line)
    warnings.showwarning = show


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Run folder (default runs/<name>); rerun to resume.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a config key (dotted, e.g. learner.alpha=0.1); repeatable.")
@click.option("--address", default=None, help="Ray cluster address: run chunks as Ray tasks.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Threads per chunk (results do not depend on it).")
@click.option("--processes", type=click.IntRange(min=1), default=1, show_default=True,
              help="Units at once, each in a local process of its own (e.g. chunk_size 4 of 8 "
                   "seeds and --processes 2: both cores); results do not depend on it.")
@click.option("--force", is_flag=True, help="Overwrite a run folder holding another config.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option("--verbose", is_flag=True,
              help="Deep learners: Ray's and RLlib's logs on the console (by default in RUN/log).")
def run(file, out, sets, address, threads, processes, force, no_progress, verbose):
    """Run an experiment FILE into a run folder and print its summary."""
    from marketsai.runner import run_experiment, summary_text
    with command_errors("finished chunks are saved -- rerun the same command to resume", RuntimeError):
        folder = run_experiment(file, out=out, overrides=parse_sets(sets), address=address,
                                threads=threads, force=force, progress=not no_progress,
                                verbose=verbose, processes=processes)
    click.echo(summary_text(folder))
    click.echo(f"\nrun folder: {folder}")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False), required=False)
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a config key before validating.")
def validate(file, sets):
    """Validate an economy or experiment FILE (or a shipped economy by name, e.g.
    bertrand_duopoly); print it fully resolved. Without FILE, print every default of every
    experiment kind and learner."""
    from marketsai.runner.schema import dump_yaml, read_yaml
    from marketsai.shipped import bare_name, economy_file
    from marketsai.yamlio import is_file
    if file is None:
        from marketsai.runner.config import describe_defaults
        click.echo(describe_defaults())
        return
    with command_errors("nothing was written"):
        overrides = parse_sets(sets)
        if not is_file(file) and bare_name(file) is not None:
            # a bare name is a shipped economy's (a misspelt one: "did you mean" and the list)
            file = str(economy_file(file, field="FILE"))
        data = read_yaml(file)
        if isinstance(data, dict) and "kind" not in data and ("markets" in data or "agents" in data):
            from marketsai.economy import Economy
            from marketsai.runner.schema import set_path
            for key, value in overrides.items():
                set_path(data, key, value)
            try:
                resolved = Economy.from_dict(data).to_dict()
            except SpecError as err:
                raise (err if err.file else err.with_file(file)) from None
        else:
            from marketsai.runner import load_experiment
            exp = load_experiment(file, overrides)
            resolved = exp.config
            from marketsai.policy_groups import warn_shared_policies
            warn_shared_policies(resolved)
            check_with_rllib(resolved, file)
    click.echo(dump_yaml(resolved), nl=False)


def check_with_rllib(resolved: dict, file: str) -> None:
    """RLlib settings against RLlib's own config class, where ray is installed: a ``kind:
    rllib`` file's ``algorithm.settings`` and an RLlib learner's ``learner.settings`` under
    ``kind: learn`` (the run itself checks them only when it builds the config)."""
    try:
        from marketsai.rl.algorithms import check_settings
    except ImportError:  # a core install: RLlib's config class is not there to ask
        return
    if resolved["kind"] == "rllib":
        check_settings(resolved["algorithm"]["name"], resolved["algorithm"]["settings"], file)
    elif resolved["kind"] == "learn":
        from marketsai.learners import learners
        learner = learners.get(resolved["learner"]["name"], "learner.name")()
        if hasattr(learner, "check_with_rllib"):  # the RLlib learners
            try:
                learner.check_with_rllib(resolved["economy"], resolved["learner"]["settings"])
            except SpecError as err:  # every path is one of the learner's settings
                raise err.under("learner.settings").with_file(file) from None


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True))
def report(run_dir):
    """Redraw summary.json and figures/ of RUN_DIR from its tables; print the summary."""
    from marketsai.runner import report as redraw
    from marketsai.runner import summary_text
    with command_errors("rerun the command", FileNotFoundError, RuntimeError):
        redraw(run_dir)
    click.echo(summary_text(run_dir))


@main.command(name="list")
def list_():
    """List what files can name: markets, agent types, processes, learners, evaluations
    and experiment kinds (plugins included), and the economies shipped with the package
    (economy: NAME in an experiment file)."""
    from marketsai.catalog import catalog_text
    click.echo(catalog_text(), nl=False)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a key of the economy file (dotted, as in load_economy).")
@click.option("--steps", type=click.IntRange(min=1), default=50, show_default=True,
              help="Random periods simulated.")
def check(file, sets, steps):
    """Run the conformance checks of an economy FILE and print what passed."""
    from marketsai.checks import check_economy
    from marketsai.economy import load_economy
    try:
        report = check_economy(load_economy(file, parse_sets(sets)), steps=steps)
    except SpecError as err:
        _fail(err)
    except AssertionError as err:
        _fail(f"check failed: {err}")
    click.echo(str(report))


if __name__ == "__main__":  # pragma: no cover
    main()
