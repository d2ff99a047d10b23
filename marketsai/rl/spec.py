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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marketsai.errors import SpecError
from marketsai.limits import MAX_PERIODS, MAX_SESSIONS, MAX_TRACE_PERIODS
from marketsai.params import (
    Check,
    Param,
    Rule,
    check_rules,
    did_you_mean,
    int_range,
    nonnegative_int,
    one_of,
    or_null,
    positive_int,
)
from marketsai.rl.numeric import check_numeric
from marketsai.shipped import economy_file
from marketsai.yamlio import read_yaml

MAX_SEEDS = 1_000  # trials of one experiment
MAX_WORKERS = 4_096  # env runners, learners, CPUs or GPUs of one trial
MAX_ITERATIONS = 100_000_000
MAX_EPISODES = 100_000

_mapping = Check(lambda x: x is None or isinstance(x, dict), "a mapping")
_seeds = Check(lambda x: x is None or (
    isinstance(x, list) and 1 <= len(x) <= MAX_SEEDS
    and all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**63 for s in x)),
    f"null (the file's seed) or a list of 1 to {MAX_SEEDS} integers in [0, 2**63)")
_positive = Check(lambda x: isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0,
                  "a number > 0")
_peer = Check(lambda x: isinstance(x, str) and bool(x), "all, or a per-agent process field (e)")
_algorithm_name = Check(lambda x: isinstance(x, str), "a registered RLlib learner (DQN, SAC, PPO, "
                        "IMPALA, APPO, centralised_critic, or a plug-in: marketsai.learners)")



def is_rllib_learner(cls) -> bool:
    """An RLlib learner declares the ``AlgorithmConfig`` it builds (:mod:`marketsai.rl.learners`)."""
    return isinstance(cls, type) and bool(getattr(cls, "config_path", ""))


def rllib_names() -> list[str]:
    """The registered learners that are RLlib algorithms (plug-ins included)."""
    from marketsai.learners import learners
    return [n for n in learners.names() if is_rllib_learner(learners.get(n))]


def rllib_learner(name, path: str = "algorithm.name", file: str | None = None):
    """The registered RLlib learner ``name`` (:mod:`marketsai.rl.learners`), instantiated.

    >>> rllib_learner("PPO").paths == {"per_agent", "vector", "stacked"}
    True
    >>> rllib_learner("ppo2")
    Traceback (most recent call last):
    ...
    marketsai.errors.SpecError: algorithm.name = 'ppo2': unknown algorithm; did you mean 'PPO'? (allowed: APPO, DQN, IMPALA, PPO, SAC, centralised_critic)
    """
    from marketsai.learners import learners
    names = rllib_names()
    if isinstance(name, str) and ":" in name:
        cls = learners.get(name, path)
        if not is_rllib_learner(cls):
            raise SpecError("not an RLlib learner", path=path, value=name, file=file,
                            allowed="a subclass of marketsai.rl.learners.RLlibLearner")
        return cls()
    if name not in names:
        raise SpecError(f"unknown algorithm{did_you_mean(name, names, ignore_case=True)}", path=path,
                        value=name, allowed=", ".join(names), file=file)
    return learners.get(name, path)()


RL_SCHEMA = {
    "env": {
        "max_cycles": Param(1000, int_range(1, MAX_TRACE_PERIODS),
                            "periods per episode (every session starts and ends together)"),
        # Why a separate path: RLlib's per-agent dict bookkeeping costs ~0.2 ms per
        # agent-step; one policy group stepped as a gymnasium VectorEnv does not.
        "sessions": Param(None, or_null(int_range(1, MAX_SESSIONS)),
                          "null: the per-agent MultiAgentEnv; N: N simulations of an economy "
                          "whose agents form one policy group, as one VectorEnv per env runner "
                          "(single-agent module)"),
        # Why: with one agent per sub-environment RLlib still pays its bookkeeping per
        # agent; stacking a session's agents into one sub-environment pays it per session.
        "stacked": Param(False, one_of(True, False),
                         "with sessions. DQN / SAC: the sessions are stepped as one batch and each "
                         "agent's rows go to its module's flat replay buffer (marketsai.rl.replay; "
                         "env steps count session-periods). PPO: each sub-environment is one session whose N agents are "
                         "stacked rows, one network applied per row, each row learning from its own "
                         "return (marketsai.rl.stacked); train_batch_size_per_learner counts "
                         "session-periods, minibatch_size rows (agent-steps)"),
        "block": Param(1, int_range(1, MAX_SESSIONS), "stacked: sessions per sub-environment (a divisor of "
                                                      "sessions); many small sessions, one RLlib step per block"),
        # Why: on growth economies the return's noise is almost all the future shocks'; sessions
        # on one shock path compared with each other leave the actions' effect alone.
        "common_shocks": Param(False, one_of(True, False),
                               "stacked: the sessions of a block share their aggregate shock path "
                               "(common random numbers)"),
        "block_baseline": Param(False, one_of(True, False),
                                "stacked PPO: each row learns from its reward minus the mean reward of the "
                                "same agent in the block's other sessions (leave-one-out; unbiased, as "
                                "sessions do not interact); with common_shocks it removes the shocks' noise"),
        # Why: the households of one Krusell-Smith session already share the aggregate shock,
        # so comparing them removes its noise without common random numbers across sessions.
        "peer_baseline": Param(None, or_null(_peer), "stacked PPO: each row learns from its reward minus "
                               "the mean reward that period of the other rows of its session: all of them "
                               "(all), or those with the same value of a per-agent process field (e: the "
                               "same employment; a row alone in its group falls back to all); its peers' "
                               "rewards depend on its action through prices by O(1/N)"),
    },
    "algorithm": {
        "name": Param(check=_algorithm_name, doc="the algorithm"),
        "settings": Param({}, _mapping, "AlgorithmConfig attributes (e.g. lr, gamma, "
                                        "train_batch_size_per_learner)"),
        "model": Param({}, _mapping, "model_config of the RLModule (e.g. fcnet_hiddens)"),
    },
    "policies": Param("group", one_of("group", "agent"),
                      "group: one policy per agent group (shared); agent: one policy per agent"),
    "stop": {  # any condition reached stops a trial; at least one must be set
        "training_iteration": Param(None, or_null(int_range(1, MAX_ITERATIONS)), "training iterations"),
        "num_env_steps_sampled_lifetime": Param(None, or_null(int_range(1, MAX_PERIODS)),
                                                "environment steps sampled"),
        "time_total_s": Param(None, or_null(_positive), "training seconds per trial"),
    },
    "resources": {
        "num_env_runners": Param(check=int_range(0, MAX_WORKERS),
                                 doc="remote env runners per trial (0: sample in the driver); "
                                     "always explicit"),
        "num_envs_per_env_runner": Param(1, int_range(1, MAX_WORKERS),
                                         "vectorised environments per env runner"),
        "num_cpus_per_env_runner": Param(1, int_range(1, MAX_WORKERS), "CPUs reserved per env runner"),
        "num_learners": Param(0, int_range(0, MAX_WORKERS),
                              "remote learners (0: learn in the driver process)"),
        "num_cpus_per_learner": Param(1, int_range(1, MAX_WORKERS), "CPUs per remote learner"),
        "num_gpus_per_learner": Param(0, Check(lambda x: isinstance(x, (int, float))
                                               and not isinstance(x, bool) and 0 <= x <= MAX_WORKERS,
                                               f"a number in [0, {MAX_WORKERS}]"), "GPUs per learner"),
        "max_concurrent_trials": Param(None, or_null(positive_int),
                                       "kept for older files: the runner trains seeds one after "
                                       "another (each unit one seed)"),
    },
    "seeds": Param(None, _seeds, "one trial (one unit of the run) per seed; null: [seed]"),
    "checkpoint": {
        "frequency": Param(5, nonnegative_int, "checkpoint every N iterations (0: only at the end)"),
        "keep": Param(2, positive_int, "checkpoints kept per trial"),
        "at_end": Param(True, one_of(True, False), "checkpoint when a trial stops"),
    },
    "evaluation": {  # settings of `marketsai evaluate`
        "episodes": Param(1, int_range(1, MAX_EPISODES),
                          "greedy episodes from different random start states"),
        "periods": Param(200, int_range(1, MAX_TRACE_PERIODS),
                         "periods of greedy play per episode (the last ones are averaged)"),
        "tail": Param(50, int_range(1, MAX_TRACE_PERIODS),
                      "last periods of each episode over which prices/profits are averaged"),
        "impulse_periods": Param(15, int_range(1, MAX_TRACE_PERIODS),
                                 "periods after the one-period deviation"),
    },
}


def _learner_path(cfg: dict) -> str:
    return rllib_learner(cfg["algorithm"]["name"]).path(cfg["env"])


def _replay(cfg: dict) -> bool:
    return _learner_path(cfg) == "replay"


def _buffer(cfg: dict):
    return cfg["algorithm"]["settings"].get("replay_buffer_config") or {}


def _unsupported(cfg: dict) -> str:
    return f"the sessions replay path of {cfg['algorithm']['name']} does not support this"


_ONE_PROCESS = "the sessions replay path steps its sessions and learns in one process"

#: cross-field rules of a resolved ``kind: rllib`` config, before its environment path
RULES = (
    Rule("stop", lambda c: any(v is not None for v in c["stop"].values()), "no stop condition set",
         ", ".join(RL_SCHEMA["stop"])),
    Rule("resources.num_envs_per_env_runner",
         lambda c: c["env"]["sessions"] is None or c["resources"]["num_envs_per_env_runner"] == 1,
         "with env.sessions the env runner's sub-environments are the sessions times the agents; "
         "leave num_envs_per_env_runner at 1", "1 (or unset)"),
    Rule("env.stacked", lambda c: not c["env"]["stacked"] or c["env"]["sessions"] is not None,
         "a stacked population needs env.sessions (the sub-environments are sessions)",
         "false, or set env.sessions"),
    Rule("env.block", lambda c: c["env"]["block"] == 1
         or (c["env"]["stacked"] and c["env"]["sessions"] % c["env"]["block"] == 0),
         "env.block groups sessions of a stacked population (a divisor of env.sessions)",
         "a divisor of env.sessions with env.stacked, else 1"),
    *(Rule(f"env.{key}", lambda c, key=key: not c["env"][key] or (c["env"]["stacked"] and c["env"]["block"] > 1),
           f"env.{key} compares the sessions of a stacked block", "false, or env.stacked with env.block > 1")
      for key in ("common_shocks", "block_baseline")),
    Rule("env.peer_baseline", lambda c: c["env"]["peer_baseline"] is None or c["env"]["stacked"],
         "env.peer_baseline compares the rows of a stacked session", "null, or env.stacked: true"),
    Rule("env.peer_baseline", lambda c: c["env"]["peer_baseline"] is None or not c["env"]["block_baseline"],
         "one baseline at a time: env.block_baseline is set", "null with env.block_baseline"),
    Rule("evaluation.tail", lambda c: c["evaluation"]["tail"] <= c["evaluation"]["periods"],
         "tail must not exceed periods", lambda c: f"<= {c['evaluation']['periods']}"),
    Rule("seeds", lambda c: len(set(c["seeds"])) == len(c["seeds"]), "a seed appears twice",
         "distinct seeds (one trial each)"),
)
#: what the flat replay path of :mod:`marketsai.rl.replay` does not do, refused by name
REPLAY_RULES = (
    Rule("algorithm.settings.n_step", lambda c: c["algorithm"]["settings"].get("n_step", 1) == 1,
         _unsupported, "1 (one-step returns)", when=_replay),
    Rule("algorithm.settings.training_intensity",
         lambda c: c["algorithm"]["settings"].get("training_intensity") is None, _unsupported,
         "unset: rollout_fragment_length is the session-periods per update", when=_replay),
    Rule("algorithm.settings.replay_buffer_config", lambda c: isinstance(_buffer(c), dict),
         "wrong type of value", "a mapping, e.g. {capacity: 100000}", when=_replay),
    Rule(lambda c: "algorithm.settings.replay_buffer_config." + min(set(_buffer(c)) - {"capacity"}),
         lambda c: set(_buffer(c)) <= {"capacity"},
         "the sessions replay path keeps a uniform ring buffer per module", "capacity only", when=_replay),
    *(Rule(f"resources.{key}", lambda c, key=key: not c["resources"][key], _ONE_PROCESS, "0", when=_replay)
      for key in ("num_env_runners", "num_learners")),
    Rule("env.peer_baseline", lambda c: c["env"]["peer_baseline"] is None,
         "the peer baseline changes the rewards of stacked PPO's returns; the sessions replay path "
         "learns from one-step targets of a replay buffer", "null", when=_replay),
    Rule("env.block", lambda c: c["env"]["block"] == 1, "env.block groups the sub-environments of "
         "stacked PPO; the replay path steps all sessions at once", "1", when=_replay),
)


def check_rl_config(cfg: dict) -> dict:
    """The declared checks of a resolved ``kind: rllib`` config (the numeric settings of
    :mod:`marketsai.rl.numeric`, :data:`RULES`, the learner's environment paths,
    :data:`REPLAY_RULES`); nulls normalised.

    Every problem is a :class:`~marketsai.errors.SpecError` naming the field path.
    """
    algo = cfg["algorithm"]
    learner = rllib_learner(algo["name"])
    algo["settings"] = dict(algo["settings"] or {})
    algo["model"] = dict(algo["model"] or {})
    if cfg["seeds"] is None:
        cfg["seeds"] = [cfg["seed"]]
    check_numeric(cfg)
    check_rules(cfg, RULES)
    if _learner_path(cfg) not in learner.paths:
        refuse_path(learner, algo["name"], _learner_path(cfg), cfg["env"])
    check_rules(cfg, REPLAY_RULES)
    return cfg


def refuse_path(learner, name: str, path: str, env: dict):
    """A path the learner does not declare, refused naming the env key and who trains on it."""
    from marketsai.learners import learners

    def who(p):
        return " / ".join(n for n in rllib_names() if p in learners.get(n).paths) or "none"
    if path == "vector":
        why = learner.paths_note or (f"{name} does not train on env.sessions without env.stacked "
                                     f"(one VectorEnv, one shared module); {who('vector')} do")
        allowed = "null" + (", or env.stacked: true," if learner.paths & {"stacked", "replay"} else "")
        raise SpecError(why, path="env.sessions", value=env["sessions"], allowed=f"{allowed} for {name}")
    why = learner.paths_note or (f"{name} does not train on stacked sessions: the stacked population "
                                 f"path trains {who('stacked')} (their learner unstacks the rows), "
                                 f"or {who('replay')} (a flat replay buffer of the rows)")
    raise SpecError(why, path="env.stacked", value=True, allowed=f"false for {name}")


def resolve_rl(data: Any, default_name: str = "experiment") -> dict:
    """Validate a ``kind: rllib`` mapping against the runner's schema of the kind; every
    default filled. The economy is checked to be a path or a mapping, not read."""
    from marketsai.runner.config import TRAILING_SCHEMA, common_schema
    from marketsai.runner.schema import resolve

    if not isinstance(data, dict):
        raise SpecError("an experiment file must hold a mapping", value=data,
                        allowed="a mapping with keys kind, economy, algorithm, ...")
    if data.get("kind") != "rllib":
        raise SpecError("invalid value", path="kind", value=data.get("kind"), allowed="'rllib'")
    cfg = resolve(data, common_schema(default_name) | RL_SCHEMA | TRAILING_SCHEMA)
    if not cfg["economy"]:
        raise SpecError("invalid value", path="economy", value=cfg["economy"],
                        allowed="a path to an economy file or an inline economy")
    return check_rl_config(cfg)


def _view(*keys: str) -> property:
    """A read-only view of ``config[keys[0]][keys[1]]...``."""
    def get(self):
        value = self.config
        for key in keys:
            value = value[key]
        return value
    return property(get, doc=f"``config{''.join(f'[{k!r}]' for k in keys)}``")


@dataclass(frozen=True)
class RLExperimentSpec:
    """A validated RLlib experiment: a typed view of a resolved ``kind: rllib`` config.

    Built from a file's mapping (:meth:`from_dict`, the economy kept as given) or from the
    runner's resolved config (:meth:`from_config`, the economy inline). The schema is
    :data:`RL_SCHEMA` plus the runner's common keys; :meth:`to_dict` is the resolved config.

    Examples
    --------
    >>> spec = RLExperimentSpec.from_dict({
    ...     "kind": "rllib", "economy": "duopoly.yaml",
    ...     "algorithm": {"name": "PPO", "settings": {"lr": 0.001}},
    ...     "stop": {"training_iteration": 2}, "resources": {"num_env_runners": 0}})
    >>> spec.algorithm, spec.settings, spec.resources["num_learners"], spec.seeds
    ('PPO', {'lr': 0.001}, 0, (0,))
    >>> RLExperimentSpec.from_dict({**spec.to_dict(), "algorithm": {"name": "DQNN"}})
    Traceback (most recent call last):
    ...
    marketsai.errors.SpecError: algorithm.name = 'DQNN': unknown algorithm; did you mean 'DQN'? (allowed: APPO, DQN, IMPALA, PPO, SAC, centralised_critic)
    """

    config: dict  # the resolved config (kind: rllib), every default visible
    base_dir: str = "."
    file: str | None = None

    # ------------------------------------------------------------------ build
    @classmethod
    def from_dict(cls, data: Any, *, base_dir: str | Path = ".", file: str | Path | None = None,
                  default_name: str = "experiment") -> RLExperimentSpec:
        """Validate a file's mapping (the economy stays a path or mapping)."""
        try:
            cfg = resolve_rl(copy.deepcopy(data), default_name)
        except SpecError as err:
            raise (err.with_file(str(file)) if file and not err.file else err) from None
        return cls.from_config(cfg, base_dir=base_dir, file=file)

    @classmethod
    def from_config(cls, cfg: dict, *, base_dir: str | Path = ".",
                    file: str | Path | None = None) -> RLExperimentSpec:
        """Wrap an already resolved config (e.g. a cell of the runner's experiment)."""
        return cls(config=copy.deepcopy(cfg), base_dir=str(Path(base_dir).resolve()),
                   file=str(file) if file else None)

    # ------------------------------------------------------------------ views
    name = _view("name")
    description = _view("description")
    economy = _view("economy")
    algorithm = _view("algorithm", "name")
    settings = _view("algorithm", "settings")
    model = _view("algorithm", "model")
    env = _view("env")
    policies = _view("policies")
    resources = _view("resources")
    checkpoint = _view("checkpoint")
    evaluation = _view("evaluation")

    @property
    def stop(self) -> dict:
        """The stop conditions that are set (Tune's ``stop`` mapping)."""
        return {k: v for k, v in self.config["stop"].items() if v is not None}

    @property
    def seeds(self) -> tuple:
        return tuple(self.config["seeds"])

    def to_dict(self) -> dict:
        """The fully resolved file contents (every default visible; economy as given)."""
        return copy.deepcopy(self.config)

    def economy_dict(self) -> dict:
        """The economy as a plain mapping (a file path is read relative to ``base_dir``; a
        shipped economy by name)."""
        if isinstance(self.economy, dict):
            return copy.deepcopy(self.economy)
        try:  # a file relative to base_dir, or a shipped economy's name
            return read_yaml(economy_file(self.economy, self.base_dir))
        except SpecError as err:
            raise (err if err.file or not self.file else err.with_file(self.file)) from None


def load_rl_experiment(path: str | Path, overrides=()) -> RLExperimentSpec:
    """Read and validate an experiment file with ``--set`` overrides (``key=value`` strings
    or a mapping), as ``marketsai run`` does: the economy is read and resolved, and
    ``economy.*`` overrides apply to it. A sweep's cells are ignored (the base config)."""
    from marketsai.runner import schema
    from marketsai.runner.config import load_experiment

    path = Path(path)
    if not isinstance(overrides, dict):
        overrides = schema.parse_overrides(overrides)
    data = read_yaml(path)
    if isinstance(data, dict) and data.get("kind") not in (None, "rllib") \
            and overrides.get("kind", "rllib") == "rllib":
        raise SpecError("not an rllib experiment", path="kind", value=data.get("kind"),
                        allowed="'rllib'", file=str(path))
    exp = load_experiment(path, overrides)
    cfg = copy.deepcopy(exp.config)
    cfg["sweep"] = {}
    return RLExperimentSpec.from_config(cfg, base_dir=path.parent, file=path)
