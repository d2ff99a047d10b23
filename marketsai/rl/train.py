"""The ``rllib`` experiment kind: RLlib training as units of the one runner.

``marketsai run FILE`` (and ``marketsai train FILE``, its RLlib front end) runs a
``kind: rllib`` file through :mod:`marketsai.runner` like every other kind: one unit per
seed (a Ray Tune trial), the same ``--set`` overrides, the same resume rule and the same
run folder::

    RUN/config.yaml             the resolved experiment (economy inline); a valid file
    RUN/results.parquet, .csv   one row per trial: seed, iterations, env_steps (RLlib's:
                                sub-environment steps), agent_steps (agent-periods they
                                carried), time_total_s (training), wall_s, episode_return_mean,
                                checkpoint (relative to RUN), trial
    RUN/progress.parquet, .csv  one row per trial and training iteration (the curves)
    RUN/summary.json, RUN/figures/training_curve.png (drawn from progress), RUN/log
    RUN/chunks/seed<S>/         the runner's finished units (hashed, atomic)
    RUN/trials/seed<S>/         the trial's own files: experiment.yaml (what `evaluate`
                                reads), tune/<trial>/ with progress.csv, result.json,
                                TensorBoard events and checkpoint_*/
    RUN/trials.csv              (``marketsai train`` only) results with absolute paths

Resume: a finished seed (its chunk) is never trained again; a seed interrupted in the
middle (Ctrl-C, a crash) is restored from its latest checkpoint (Tune's
``Tuner.restore``) when the same config is run again on the folder. A different config is
refused unless ``--force`` (then the trials of stale seeds are removed).

Ray and torch are imported only inside a unit; importing this module does not.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

import pandas as pd

from marketsai.errors import SpecError
from marketsai.rl.spec import RL_SCHEMA, RLExperimentSpec, check_rl_config
from marketsai.runner.kinds import ExperimentKind, Unit, UnitContext, experiment_kinds
from marketsai.runner.store import atomic_write_frame, atomic_write_text

log = logging.getLogger("marketsai.runner")

EXPERIMENT_FILE = "experiment.yaml"
TUNE_DIR = "tune"
FINGERPRINT_FILE = "fingerprint"
#: Ray Tune's console output during a trial (0 silent, 1 status table, 2 every result)
VERBOSE_ENV = "MARKETSAI_TUNE_VERBOSE"
RESULT_COLUMNS = ("seed", "iterations", "env_steps", "agent_steps", "time_total_s", "wall_s",
                  "episode_return_mean", "checkpoint", "trial")
PROGRESS_COLUMNS = ("seed", "iteration", "env_steps", "time_total_s", "episode_return_mean")


def resolved_experiment(spec: RLExperimentSpec, econ) -> dict:
    """The experiment as written to ``experiment.yaml``: every default, economy inline."""
    data = spec.to_dict()
    data["economy"] = econ.to_dict()
    return data


@experiment_kinds.register("rllib")
class RLlibKind(ExperimentKind):
    """``kind: rllib``: one unit per seed, trained by Ray Tune (see the module doc)."""

    schema = RL_SCHEMA
    size_keys = ("seeds",)
    unit_label = "trials"
    sweep_value = "episode_return_mean"
    sweep_value_label = "mean episode return (mean over seeds)"
    uses_workdir = True
    workdir_name = "trials"
    ray_in_unit = True

    def noisy(self, cfg: dict) -> bool:  # Ray's and RLlib's logs: to the run's log file
        return True

    def starts_ray(self, cfg: dict) -> str:  # each seed's Tune trial, on a local Ray or --address
        return "kind: rllib (a Ray Tune trial per seed)"

    def check(self, cfg: dict) -> dict:
        return check_rl_config(cfg)

    def units(self, cfg: dict) -> list[Unit]:
        return [Unit(f"seed{s}", 1, {"seed": s}) for s in cfg["seeds"]]

    def run_unit(self, cfg: dict, unit: Unit, threads: int | None = None,
                 context: UnitContext | None = None) -> dict[str, pd.DataFrame]:
        if context is None:
            raise TypeError("the rllib kind needs a UnitContext (its trial folder)")
        return train_seed(cfg, int(unit.params["seed"]), context)

    def summarise(self, tables: dict[str, pd.DataFrame], cfg: dict) -> dict:
        res = tables["results"]
        ret = pd.to_numeric(res["episode_return_mean"], errors="coerce")
        econ = cfg.get("economy")
        return {
            "algorithm": cfg["algorithm"]["name"],
            "economy": econ.get("name") if isinstance(econ, dict) else econ,
            "trials": int(len(res)),
            "seeds": [int(s) for s in res["seed"]],
            "iterations_mean": float(res["iterations"].mean()),
            "env_steps_total": int(res["env_steps"].fillna(0).sum()),
            "episode_return_mean": float(ret.mean()),
            "episode_return_sd": float(ret.std(ddof=1)) if ret.notna().sum() > 1 else float("nan"),
            "time_total_s": float(res["time_total_s"].sum()),
        }

    def figures(self, tables: dict[str, pd.DataFrame], cfg: dict, summary: dict) -> dict:
        prog = tables.get("progress")
        if prog is None or prog.empty or prog["episode_return_mean"].isna().all():
            return {}
        return {"training_curve": training_curve(prog, title=f"{cfg['algorithm']['name']} on "
                                                              f"{summary.get('economy')}")}

    def format_summary(self, summary: dict, ref: dict) -> str | None:
        from marketsai.runner.run import default_summary_text
        keys = ["algorithm", "economy", "trials", "iterations_mean", "env_steps_total",
                "episode_return_mean", "episode_return_sd", "time_total_s"]
        return default_summary_text(summary, ref, keys=keys)

    def progress(self, tables: dict[str, pd.DataFrame]) -> dict[str, int]:
        return {}


def training_curve(progress: pd.DataFrame, title: str = ""):
    """Mean episode return against environment steps, one line per seed (from the table)."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.add_subplot()
    for seed, rows in progress.groupby("seed", sort=True):
        ax.plot(rows["env_steps"], rows["episode_return_mean"], marker=".", label=f"seed {seed}")
    ax.set_xlabel("environment steps sampled")
    ax.set_ylabel("mean episode return")
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------ one trial


def train_seed(cfg: dict, seed: int, context: UnitContext) -> dict[str, pd.DataFrame]:
    """Train one seed of a resolved ``kind: rllib`` config in ``context.workdir``.

    A workdir left by an interrupted run of the same unit (same fingerprint) is restored
    from its latest checkpoint; one of another config is removed first. Raises
    :class:`KeyboardInterrupt` when Tune stopped before a stop condition was reached (Ctrl-C:
    the unit is not finished and the runner does not record it) and :class:`RuntimeError`
    when the trial failed.
    """
    try:
        from ray.tune import CheckpointConfig, RunConfig, Tuner
    except ImportError as exc:
        raise RuntimeError(f"kind: rllib needs the rllib extra ({exc.name or 'ray'} is not "
                           "installed): pip install 'marketsai[rllib]'") from None

    from marketsai.economy import Economy
    from marketsai.rl.algorithms import build_config
    from marketsai.rl.envs import env_name, register_economy
    from marketsai.runner.cluster import init_ray, workers_hash_seed_fixed
    from marketsai.runner.schema import dump_yaml

    t0 = time.perf_counter()
    work = Path(context.workdir).resolve()
    stamp = work / FINGERPRINT_FILE
    if work.exists() and (not stamp.is_file() or stamp.read_text().strip() != context.fingerprint):
        log.info("removing %s: written for another configuration", work)
        shutil.rmtree(work)
    spec = RLExperimentSpec.from_config(cfg | {"seeds": [seed]}, base_dir=context.root)
    econ = Economy.from_dict(spec.economy_dict())
    # built once, before Ray starts (a bad config is refused first); the env name is the
    # economy's digest, which register_economy registers under once Ray is up
    config = build_config(spec, econ, env_name(econ), seed=seed)
    work.mkdir(parents=True, exist_ok=True)
    atomic_write_text(stamp, context.fingerprint + "\n")
    atomic_write_text(work / EXPERIMENT_FILE, dump_yaml(resolved_experiment(spec, econ)))

    init_ray(context.address)
    if not workers_hash_seed_fixed():
        log.warning("Ray was started without a fixed PYTHONHASHSEED for its workers: seed %d may "
                    "train differently on another run; let marketsai start Ray, or pass "
                    "runtime_env={'env_vars': {'PYTHONHASHSEED': '0'}} to ray.init", seed)
    register_economy(econ)
    tune_path = work / TUNE_DIR
    verbose = int(os.environ.get(VERBOSE_ENV, "1") or 0)
    if Tuner.can_restore(str(tune_path)):
        log.info("seed %d: resuming %s from its latest checkpoint", seed, tune_path)
        tuner = Tuner.restore(str(tune_path), trainable=config.algo_class, param_space=config,
                              resume_unfinished=True, resume_errored=True)
    else:
        ck = spec.checkpoint
        tuner = Tuner(config.algo_class, param_space=config, run_config=RunConfig(
            name=TUNE_DIR, storage_path=str(work), stop=dict(spec.stop), verbose=verbose,
            checkpoint_config=CheckpointConfig(checkpoint_frequency=ck["frequency"],
                                               num_to_keep=ck["keep"],
                                               checkpoint_at_end=ck["at_end"])))
    (result,) = list(tuner.fit())
    if result.error is not None:
        raise RuntimeError(f"seed {seed}: training failed: {str(result.error).splitlines()[0][:300]}"
                           f" (trial folder {result.path})")
    metrics = result.metrics or {}
    if not stop_reached(metrics, spec.stop):
        raise KeyboardInterrupt(f"seed {seed} stopped at iteration "
                                f"{metrics.get('training_iteration')} before its stop condition")
    checkpoint = None
    if result.checkpoint is not None:
        ck_path = Path(result.checkpoint.path).resolve()
        try:
            checkpoint = ck_path.relative_to(Path(context.root).resolve()).as_posix()
        except ValueError:
            checkpoint = str(ck_path)
    env_steps = metrics.get("num_env_steps_sampled_lifetime")
    row = {"seed": seed, "iterations": metrics.get("training_iteration"), "env_steps": env_steps,
           "agent_steps": None if env_steps is None else env_steps * agents_per_env_step(spec, econ),
           "time_total_s": metrics.get("time_total_s"), "wall_s": time.perf_counter() - t0,
           "episode_return_mean": (metrics.get("env_runners") or {}).get("episode_return_mean"),
           "checkpoint": checkpoint, "trial": Path(result.path).name if result.path else None}
    results = pd.DataFrame([row], columns=list(RESULT_COLUMNS))
    return {"results": results, "progress": progress_table(result.path, seed)}


def agents_per_env_step(spec: RLExperimentSpec, econ) -> int:
    """Agent-steps in one of RLlib's env steps: every actor (MultiAgentEnv), one (VectorEnv
    sub-environment), or the ``block`` sessions' actors of a stacked sub-environment."""
    from marketsai.rl.algorithms import sessions_replay

    if spec.env.get("sessions") is None or sessions_replay(spec):  # replay: env steps are session-periods
        return len(econ.actors)
    return spec.env["block"] * len(econ.actors) if spec.env.get("stacked") else 1


def stop_reached(metrics: dict, stop: dict) -> bool:
    """Whether Tune's last result meets one of the stop conditions (Tune's rule: >=).

    >>> stop_reached({"training_iteration": 3}, {"training_iteration": 3}), stop_reached({}, {"time_total_s": 1})
    (True, False)
    """
    return any(isinstance(metrics.get(k), (int, float)) and metrics[k] >= v for k, v in stop.items())


def progress_table(trial_dir, seed: int) -> pd.DataFrame:
    """One row per training iteration from the trial's ``result.json`` (a restored trial
    repeats iterations after its checkpoint: the last record of each is kept)."""
    rows = {}
    path = Path(trial_dir) / "result.json" if trial_dir else None
    if path is not None and path.is_file():
        for line in path.read_text().splitlines():
            try:
                r = json.loads(line)
            except ValueError:
                continue  # a line cut by an interruption
            it = r.get("training_iteration")
            if it is None:
                continue
            rows[int(it)] = {"seed": seed, "iteration": int(it),
                             "env_steps": r.get("num_env_steps_sampled_lifetime"),
                             "time_total_s": r.get("time_total_s"),
                             "episode_return_mean": (r.get("env_runners") or {}).get("episode_return_mean")}
    frame = pd.DataFrame([rows[k] for k in sorted(rows)], columns=list(PROGRESS_COLUMNS))
    return frame.astype({"episode_return_mean": float, "time_total_s": float})


# ------------------------------------------------------------------ the train front end


def train(spec: RLExperimentSpec, out: str | Path, *, address: str | None = None,
          num_cpus: int | None = None, verbose: int = 1, force: bool = False,
          show_logs: bool = False) -> pd.DataFrame:
    """Train every seed of ``spec`` through the runner into ``out``; returns the trials table.

    ``verbose``: 0 hides the progress bar and Tune's status tables; ``show_logs``: Ray's,
    RLlib's and Tune's output on the console instead of only in ``out/log``.

    ``marketsai run`` on the same file and folder is the same run (and resumes it). The
    table is the run's ``results`` with absolute checkpoint paths and an ``error`` column
    (a failed trial raises instead); it is also written to ``out/trials.csv``.
    """
    from marketsai.console import library_output_to
    from marketsai.runner.cluster import init_ray
    from marketsai.runner.config import load_experiment
    from marketsai.runner.run import run_experiment

    cfg = spec.to_dict()
    if isinstance(cfg["economy"], str) and not Path(cfg["economy"]).is_absolute():
        cfg["economy"] = str(Path(spec.base_dir) / cfg["economy"])
    try:
        load_experiment(cfg)  # refuse a bad file before Ray starts
    except SpecError as err:
        raise (err.with_file(spec.file) if spec.file and not err.file else err) from None
    with library_output_to(Path(out) / "log", not show_logs):
        init_ray(address, num_cpus=num_cpus)
    before = os.environ.get(VERBOSE_ENV)
    os.environ[VERBOSE_ENV] = str(verbose)
    try:
        folder = run_experiment(cfg, out=out, address=address, force=force, progress=verbose > 0,
                                verbose=show_logs)
    finally:
        if before is None:
            os.environ.pop(VERBOSE_ENV, None)
        else:
            os.environ[VERBOSE_ENV] = before
    table = pd.read_parquet(folder / "results.parquet")
    table["checkpoint"] = [None if not isinstance(c, str) else str((folder / c).resolve())
                           for c in table["checkpoint"]]
    table["error"] = None
    atomic_write_frame(folder / "trials.csv", table, fmt="csv")
    return table
