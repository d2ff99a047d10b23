"""The schema of RLlib experiment files (``kind: rllib``).

An experiment file names an economy, an algorithm with its settings, how agents map to
policies, when to stop, the resources and the seeds::

    kind: rllib
    name: dqn_duopoly
    economy: ../../economies/bertrand_duopoly.yaml   # relative to this file, or inline
    env: {max_cycles: 500, sessions: 64}              # episode length; sessions: one batched env
    algorithm:
      name: DQN                                       # DQN | SAC | PPO | IMPALA | APPO | centralised_critic
      settings: {lr: 0.0005, train_batch_size_per_learner: 64}
      model: {fcnet_hiddens: [64, 64]}
    policies: group                                   # group (shared by agent group) | agent
    stop: {training_iteration: 50}
    resources: {num_env_runners: 0}
    seeds: [0, 1, 2]

Validation here is pure Python (no ray import); the algorithm's settings are checked
against RLlib's ``AlgorithmConfig`` attributes in :mod:`marketsai.rl.algorithms`. Every
problem is a :class:`~marketsai.errors.SpecError` naming the field path.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marketsai.errors import SpecError
from marketsai.limits import MAX_PERIODS, MAX_SESSIONS, MAX_TRACE_PERIODS
from marketsai.params import (
    Check,
    Param,
    int_range,
    nonnegative_int,
    one_of,
    positive_int,
    validate_mapping,
)
from marketsai.rl.numeric import check_numeric
from marketsai.yamlio import is_file, parse_scalar, read_yaml

ALGORITHM_NAMES = ("DQN", "SAC", "PPO", "IMPALA", "APPO", "centralised_critic")
MAX_SEEDS = 1_000  # trials of one experiment
MAX_WORKERS = 4_096  # env runners, learners, CPUs or GPUs of one trial
MAX_ITERATIONS = 100_000_000
MAX_EPISODES = 100_000

_mapping = Check(lambda x: x is None or isinstance(x, dict), "a mapping")
_name = Check(lambda x: isinstance(x, str) and x.replace("-", "_").isidentifier(),
              "an identifier (letters, digits, _ or -)")
_economy = Check(lambda x: isinstance(x, (str, dict)) and bool(x),
                 "a path to an economy file (relative to the experiment file) or an inline economy")
_seeds = Check(lambda x: isinstance(x, list) and 1 <= len(x) <= MAX_SEEDS
               and all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**63 for s in x),
               f"a list of 1 to {MAX_SEEDS} integers in [0, 2**63)")
_positive = Check(lambda x: isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0,
                  "a number > 0")

EXPERIMENT_FIELDS = {
    "kind": Param(check=one_of("rllib"), doc="experiment kind; this schema is for 'rllib'"),
    "name": Param(None, Check(lambda x: x is None or _name(x), "null or an identifier"),
                  "experiment name (default: the file name)"),
    "description": Param("", Check(lambda x: isinstance(x, str), "a string"), "free text"),
    "economy": Param(check=_economy, doc="economy file (relative to this file) or inline economy"),
    "env": Param(None, _mapping, "the environment: max_cycles (episode length), sessions (batched)"),
    "algorithm": Param(check=Check(lambda x: isinstance(x, dict), "a mapping with name, settings, model"),
                       doc="the algorithm and its settings"),
    "policies": Param("group", one_of("group", "agent"),
                      "group: one policy per agent group (shared); agent: one policy per agent"),
    "stop": Param(check=Check(lambda x: isinstance(x, dict) and len(x) >= 1, "a non-empty mapping"),
                  doc="stop conditions (any reached stops a trial)"),
    "resources": Param(check=Check(lambda x: isinstance(x, dict), "a mapping"),
                       doc="num_env_runners (required), learners, CPUs"),
    "seeds": Param([0], _seeds, "one trial per seed"),
    "checkpoint": Param(None, _mapping, "checkpoint frequency and how many to keep"),
    "evaluation": Param(None, _mapping, "settings of `marketsai evaluate`"),
}
ALGORITHM_FIELDS = {
    "name": Param(check=one_of(*ALGORITHM_NAMES), doc="the algorithm"),
    "settings": Param(None, _mapping, "AlgorithmConfig attributes (e.g. lr, gamma, train_batch_size_per_learner)"),
    "model": Param(None, _mapping, "model_config of the RLModule (e.g. fcnet_hiddens)"),
}
STOP_FIELDS = {
    "training_iteration": Param(None, Check(lambda x: x is None or int_range(1, MAX_ITERATIONS)(x),
                                            f"null or an integer in [1, {MAX_ITERATIONS:,}]"),
                                "training iterations"),
    "num_env_steps_sampled_lifetime": Param(None, Check(lambda x: x is None or int_range(1, MAX_PERIODS)(x),
                                                        f"null or an integer in [1, {MAX_PERIODS:.0e}]"),
                                            "environment steps sampled"),
    "time_total_s": Param(None, Check(lambda x: x is None or _positive(x), "null or a number > 0"),
                          "wall-clock seconds per trial"),
}
RESOURCE_FIELDS = {
    "num_env_runners": Param(check=int_range(0, MAX_WORKERS),
                             doc="remote env runners per trial (0: sample in the driver); always explicit"),
    "num_envs_per_env_runner": Param(1, int_range(1, MAX_WORKERS), "vectorised environments per env runner"),
    "num_cpus_per_env_runner": Param(1, int_range(1, MAX_WORKERS), "CPUs reserved per env runner"),
    "num_learners": Param(0, int_range(0, MAX_WORKERS), "remote learners (0: learn in the driver process)"),
    "num_cpus_per_learner": Param(1, int_range(1, MAX_WORKERS), "CPUs per remote learner"),
    "num_gpus_per_learner": Param(0, Check(lambda x: isinstance(x, (int, float)) and not isinstance(x, bool)
                                           and 0 <= x <= MAX_WORKERS,
                                           f"a number in [0, {MAX_WORKERS}]"),
                                  "GPUs per learner"),
    "max_concurrent_trials": Param(None, Check(lambda x: x is None or positive_int(x), "null or an integer >= 1"),
                                   "trials (seeds) running at once; null: as many as fit"),
}
CHECKPOINT_FIELDS = {
    "frequency": Param(5, nonnegative_int, "checkpoint every N iterations (0: only at the end)"),
    "keep": Param(2, positive_int, "checkpoints kept per trial"),
    "at_end": Param(True, one_of(True, False), "checkpoint when a trial stops"),
}
ENV_FIELDS = {
    "max_cycles": Param(1000, int_range(1, MAX_TRACE_PERIODS),
                        "periods per episode (every session starts and ends together)"),
    # Why a separate path: RLlib's per-agent dict bookkeeping costs ~0.2 ms per agent-step;
    # one policy group stepped as a gymnasium VectorEnv (marketsai.envs.vector) does not.
    "sessions": Param(None, Check(lambda x: x is None or int_range(1, MAX_SESSIONS)(x),
                                  f"null or an integer in [1, {MAX_SESSIONS:,}]"),
                      "null: the per-agent MultiAgentEnv; N: N simulations of an economy whose agents "
                      "form one policy group, as one VectorEnv per env runner (single-agent module)"),
}
EVALUATION_FIELDS = {
    "episodes": Param(1, int_range(1, MAX_EPISODES), "greedy episodes from different random start states"),
    "periods": Param(200, int_range(1, MAX_TRACE_PERIODS), "periods of greedy play per episode (the last ones are averaged)"),
    "tail": Param(50, int_range(1, MAX_TRACE_PERIODS), "last periods of each episode over which prices/profits are averaged"),
    "impulse_periods": Param(15, int_range(1, MAX_TRACE_PERIODS), "periods after the one-period deviation"),
}


def nearest(name: str, choices) -> str | None:
    """The closest of ``choices`` to ``name``, ignoring case (None when nothing is close).

    >>> nearest("ppo2", ALGORITHM_NAMES), nearest("xyz", ALGORITHM_NAMES)
    ('PPO', None)
    """
    import difflib
    lower = {c.lower(): c for c in choices}
    near = difflib.get_close_matches(str(name).lower(), list(lower), n=1, cutoff=0.5)
    return lower[near[0]] if near else None


@dataclass(frozen=True)
class RLExperimentSpec:
    """A validated RLlib experiment file.

    Examples
    --------
    >>> spec = RLExperimentSpec.from_dict({
    ...     "kind": "rllib", "economy": "duopoly.yaml",
    ...     "algorithm": {"name": "PPO", "settings": {"lr": 0.001}},
    ...     "stop": {"training_iteration": 2}, "resources": {"num_env_runners": 0}})
    >>> spec.algorithm, spec.settings, spec.resources["num_learners"]
    ('PPO', {'lr': 0.001}, 0)
    >>> RLExperimentSpec.from_dict({**spec.to_dict(), "algorithm": {"name": "DQNN"}})
    Traceback (most recent call last):
    ...
    marketsai.errors.SpecError: algorithm.name = 'DQNN': unknown algorithm; did you mean 'DQN'? (allowed: DQN, SAC, PPO, IMPALA, APPO, centralised_critic)
    """

    name: str
    economy: Any  # path string (resolved against base_dir) or inline mapping
    algorithm: str
    settings: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)
    policies: str = "group"
    stop: dict = field(default_factory=dict)
    resources: dict = field(default_factory=dict)
    seeds: tuple = (0,)
    checkpoint: dict = field(default_factory=dict)
    evaluation: dict = field(default_factory=dict)
    description: str = ""
    base_dir: str = "."
    file: str | None = None

    # ------------------------------------------------------------------ build
    @classmethod
    def from_dict(cls, data: Any, *, base_dir: str | Path = ".", file: str | Path | None = None,
                  default_name: str = "experiment") -> RLExperimentSpec:
        try:
            return cls._from_dict(data, base_dir=base_dir, file=file, default_name=default_name)
        except SpecError as err:
            raise (err.with_file(file) if file and not err.file else err) from None

    @classmethod
    def _from_dict(cls, data, *, base_dir, file, default_name) -> RLExperimentSpec:
        top = validate_mapping(data, EXPERIMENT_FIELDS, "", "an rllib experiment")
        algo = top["algorithm"]
        if isinstance(algo.get("name"), str) and algo["name"] not in ALGORITHM_NAMES:
            hint = f"; did you mean {nearest(algo['name'], ALGORITHM_NAMES)!r}?" \
                if nearest(algo["name"], ALGORITHM_NAMES) else ""
            raise SpecError(f"unknown algorithm{hint}", path="algorithm.name", value=algo["name"],
                            allowed=", ".join(ALGORITHM_NAMES))
        algo = validate_mapping(algo, ALGORITHM_FIELDS, "algorithm", "the algorithm")
        check_numeric(algo["settings"] or {}, algo["model"] or {})
        stop = {k: v for k, v in validate_mapping(top["stop"], STOP_FIELDS, "stop", "stop").items()
                if v is not None}
        if not stop:
            raise SpecError("no stop condition set", path="stop", value=top["stop"],
                            allowed=", ".join(STOP_FIELDS))
        env = validate_mapping(top["env"], ENV_FIELDS, "env", "env")
        resources = validate_mapping(top["resources"], RESOURCE_FIELDS, "resources", "resources")
        if env["sessions"] is not None and resources["num_envs_per_env_runner"] != 1:
            raise SpecError("with env.sessions the env runner's sub-environments are the sessions "
                            "times the agents; leave num_envs_per_env_runner at 1",
                            path="resources.num_envs_per_env_runner",
                            value=resources["num_envs_per_env_runner"], allowed="1 (or unset)")
        checkpoint = validate_mapping(top["checkpoint"], CHECKPOINT_FIELDS, "checkpoint", "checkpoint")
        evaluation = validate_mapping(top["evaluation"], EVALUATION_FIELDS, "evaluation", "evaluation")
        if evaluation["tail"] > evaluation["periods"]:
            raise SpecError("tail must not exceed periods", path="evaluation.tail",
                            value=evaluation["tail"], allowed=f"<= {evaluation['periods']}")
        return cls(name=top["name"] or default_name, economy=copy.deepcopy(top["economy"]),
                   algorithm=algo["name"], settings=dict(algo["settings"] or {}),
                   model=dict(algo["model"] or {}), env=env,
                   policies=top["policies"], stop=stop, resources=resources,
                   seeds=tuple(top["seeds"]), checkpoint=checkpoint, evaluation=evaluation,
                   description=top["description"], base_dir=str(Path(base_dir).resolve()),
                   file=str(file) if file else None)

    def to_dict(self) -> dict:
        """The fully resolved file contents (every default visible; economy as given)."""
        return {
            "kind": "rllib", "name": self.name, "description": self.description,
            "economy": copy.deepcopy(self.economy), "env": dict(self.env),
            "algorithm": {"name": self.algorithm, "settings": copy.deepcopy(self.settings),
                          "model": copy.deepcopy(self.model)},
            "policies": self.policies, "stop": dict(self.stop), "resources": dict(self.resources),
            "seeds": list(self.seeds), "checkpoint": dict(self.checkpoint),
            "evaluation": dict(self.evaluation),
        }

    def economy_dict(self) -> dict:
        """The economy as a plain mapping (a file path is read relative to ``base_dir``)."""
        if isinstance(self.economy, dict):
            return copy.deepcopy(self.economy)
        path = Path(self.economy)
        if not path.is_absolute():
            path = Path(self.base_dir) / path
        if not is_file(path):
            raise SpecError("economy file not found", path="economy", value=self.economy,
                            allowed=f"a file path relative to {self.base_dir}", file=self.file)
        return read_yaml(path)


def apply_overrides(data: dict, overrides: list[str] | tuple[str, ...]) -> dict:
    """Apply ``key.sub=value`` overrides (from ``--set``) to a raw experiment mapping.

    Examples
    --------
    >>> apply_overrides({"algorithm": {"name": "PPO"}}, ["algorithm.settings.lr=1e-3", "seeds=[1, 2]"])
    {'algorithm': {'name': 'PPO', 'settings': {'lr': 0.001}}, 'seeds': [1, 2]}
    """
    data = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise SpecError("an override must look like key.sub=value", path="--set", value=item,
                            allowed="e.g. stop.training_iteration=10")
        key, _, text = item.partition("=")
        parts = [p for p in key.strip().split(".") if p]
        if not parts:
            raise SpecError("empty key in override", path="--set", value=item)
        node = data
        for i, p in enumerate(parts[:-1]):
            nxt = node.get(p)
            if nxt is None:
                nxt = node[p] = {}
            if not isinstance(nxt, dict):
                raise SpecError("cannot set a key below a non-mapping", path=".".join(parts[:i + 1]),
                                value=nxt)
            node = nxt
        node[parts[-1]] = parse_scalar(text)
    return data


def load_rl_experiment(path: str | Path, overrides=()) -> RLExperimentSpec:
    """Read and validate an experiment file (with ``--set`` overrides applied)."""
    path = Path(path)
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise SpecError("an experiment file must hold a mapping", value=data, file=str(path))
    data = apply_overrides(data, overrides)
    return RLExperimentSpec.from_dict(data, base_dir=path.parent, file=path, default_name=path.stem)


