"""``marketsai evaluate``: a trained checkpoint's greedy policies, measured by the
``calvano`` evaluation (:mod:`marketsai.analysis.calvano`) -- the code and the columns of a
tabular run.

This module only loads: the checkpoint (or a safe export) becomes a
:class:`~marketsai.rl.policy.GreedyPolicies` policy in economy units, and
:func:`marketsai.analysis.evaluations.run_evaluation` does the rest. A
**stacked-population** checkpoint (``env: {sessions: S, stacked: true}``,
:mod:`marketsai.rl.stacked`) holds one RowModule (``default_policy``) for every agent; with
``policies: agent`` it keeps one head per agent, chosen by a one-hot of the agent's index
appended to the observation (:class:`~marketsai.rl.policy.GreedyPolicies` ``one_hot``).

Settings: the experiment's ``evaluation`` section (``episodes``, ``periods``, ``tail``,
``impulse_periods``) overrides the calvano evaluation's defaults.

Outputs (``OUT``): ``results.csv`` / ``results.parquet`` (one row per episode),
``impulse_response.csv`` (``session, deviation, t, price_<i>``), ``impulse.csv`` (the
summary table of the paths), ``benchmarks.csv`` (each firm's Nash and monopoly price and
profit), ``summary.json`` (the tabular runner's keys: ``profit_gain``, ``table_1``,
``nash_price_<i>``, ...) and ``figures/*.png``.
"""

from __future__ import annotations

from pathlib import Path

from marketsai import analysis
from marketsai.analysis.evaluations import run_evaluation
from marketsai.errors import SpecError
from marketsai.rl.export import find_experiment, read_experiment
from marketsai.rl.policy import STACKED_MODULE_ID, GreedyPolicies
from marketsai.rl.spec import RLExperimentSpec
from marketsai.runner.notes import empty_value_notes
from marketsai.runner.store import atomic_write_text, json_text


def evaluate(checkpoint: str | Path, out: str | Path | None = None, *, episodes: int | None = None,
             experiment: str | Path | None = None, seed: int = 0) -> dict:
    """Evaluate a policy export or a checkpoint; writes tables, figures and ``summary.json``.

    ``checkpoint`` is either a policy export folder (:mod:`marketsai.rl.export`: weights and
    JSON only, never unpickled -- safe for folders from others) or a raw RLlib
    checkpoint, which is read with RLlib's unpickling loader after an
    :class:`~marketsai.rl.export.UnsafeCheckpointWarning`.
    """
    from marketsai.economy import Economy
    from marketsai.rl.export import (
        is_export,
        load_export,
        read_meta,
        refuse_batched_unit,
        warn_unsafe,
    )
    from marketsai.rl.seed_export import is_seed_export, load_seed_export

    checkpoint = Path(checkpoint).resolve()
    if is_export(checkpoint):
        if experiment:
            raise SpecError("an export carries its experiment; --experiment is not used",
                            path="--experiment", value=str(experiment))
        default_out = checkpoint / "evaluation"
        if is_seed_export(read_meta(checkpoint)):  # a seed of a batched learner's unit
            econ, policy, exp = load_seed_export(checkpoint)
            evaluation, algorithm, name = exp["evaluation"], exp["learner"]["name"], exp["name"]
        else:
            spec, econ, multi, mapping = load_export(checkpoint)
            policy = greedy_policies(checkpoint, spec, econ, econ.parallel_env().action_spaces,
                                     multi=multi, mapping=mapping)
            evaluation, algorithm, name = spec.evaluation, spec.algorithm, spec.name
    else:
        if not checkpoint.is_dir():
            refuse_batched_unit(checkpoint)
            raise SpecError("not a checkpoint folder", path="CHECKPOINT", value=str(checkpoint),
                            allowed="a checkpoint_* folder of an RLlib trial, or a policy export folder")
        warn_unsafe(checkpoint)
        exp_file = Path(experiment) if experiment else find_experiment(checkpoint)
        spec = read_experiment(exp_file)
        econ = Economy.from_dict(spec.economy_dict())
        default_out = exp_file.parent / "evaluation" / f"{checkpoint.parent.name}-{checkpoint.name}"
        policy = greedy_policies(checkpoint, spec, econ, econ.parallel_env().action_spaces)
        evaluation, algorithm, name = spec.evaluation, spec.algorithm, spec.name
    settings = {"start": "random", **evaluation}
    if episodes is not None:
        settings["episodes"] = int(episodes)
    done = run_evaluation("calvano", econ, policy, settings, seed, figures=True)

    out = Path(out) if out else default_out
    (out / "figures").mkdir(parents=True, exist_ok=True)
    results = done.tables["results"]
    results.to_csv(out / "results.csv", index=False)
    results.to_parquet(out / "results.parquet", index=False)
    imp = done.tables.get("impulse_response")
    if imp is not None:
        imp.to_csv(out / "impulse_response.csv", index=False)
        analysis.impulse_response_table(analysis.frame_to_paths(imp.drop(columns="deviation")),
                                        agents=list(econ.actors)).to_csv(out / "impulse.csv", index=False)
    for name, fig in done.figures.items():
        fig.savefig(out / "figures" / f"{name}.png", dpi=120)
    done.tables["benchmarks"].to_csv(out / "benchmarks.csv", index=False)
    summary = {"algorithm": algorithm, "experiment": name, "checkpoint": str(checkpoint),
               **done.summary}
    notes = empty_value_notes(summary, results)  # why a value is null (docs/experiments.md)
    if notes:
        summary["empty_values"] = notes
    atomic_write_text(out / "summary.json", json_text(summary))
    summary["out"] = str(out)
    return summary


def greedy_policies(checkpoint, spec: RLExperimentSpec, econ, action_spaces: dict, *, multi=None,
                    mapping: dict | None = None):
    """The greedy policy of a trained run: a stacked PPO run's RowModule read with each
    agent's one-hot (``policies: agent``), a vector run's one shared module
    (``env.sessions`` without ``stacked``), otherwise the modules of the per-agent path
    (also DQN / SAC sessions runs). ``multi`` / ``mapping``: an export's."""
    from marketsai.rl.algorithms import policy_ids, stacked_population

    rows = stacked_population(spec)
    vector = spec.env.get("sessions") is not None and not spec.env.get("stacked")  # one shared module
    if mapping is None:
        mapping = ({a: STACKED_MODULE_ID for a in econ.actors} if rows or vector
                   else policy_ids(econ, spec.policies))
    return GreedyPolicies(checkpoint, mapping, action_spaces,
                          normalize_actions=spec.settings.get("normalize_actions", True), multi=multi,
                          one_hot=econ.actors if rows and stacked_agent_ids(spec) else None)


# ---------------------------------------------------------------- stacked populations
def stacked_agent_ids(spec) -> bool:
    """Whether a stacked run's rows carried a one-hot of their agent (``policies: agent``;
    the env's ``agent_ids``, which :func:`marketsai.rl.algorithms.build_config` sets)."""
    return spec.policies == "agent"
