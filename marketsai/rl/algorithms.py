"""From a validated experiment spec to an RLlib ``AlgorithmConfig`` on the new API stack.

Why here and not in each learner: every RLlib algorithm shares the environment paths,
resources, policy mapping and seeding; what differs is declared by its registered
learner (:mod:`marketsai.rl.learners`: config class, action kinds, small-machine
defaults, the paths it trains on, and hooks such as the centralised critic's inputs).
A user's settings are checked against the config's real attributes before RLlib sees
them, so a typo gives a :class:`~marketsai.errors.SpecError` with the nearest names
instead of a traceback from deep inside RLlib.
"""

from __future__ import annotations

from marketsai.errors import SpecError
from marketsai.params import Check, did_you_mean, nearest, real
from marketsai.rl.envs import vector_name
from marketsai.rl.spec import (
    RLExperimentSpec,
    refuse_path,
    rllib_learner,
)

# Set through other sections of the experiment file, never through `settings`.
_RESERVED = {
    "env": "economy", "env_config": "env", "seed": "seeds", "policies": "policies",
    "policy_mapping_fn": "policies", "num_env_runners": "resources",
    "num_envs_per_env_runner": "resources", "num_cpus_per_env_runner": "resources",
    "num_learners": "resources", "num_cpus_per_learner": "resources",
    "num_gpus_per_learner": "resources", "model_config": "algorithm.model",
    "enable_rl_module_and_learner": "(the new API stack is always on)",
    "enable_env_runner_and_connector_v2": "(the new API stack is always on)",
}


def _settable(config) -> dict:
    """Public attributes of a fresh config, i.e. the names ``settings`` may use.

    Also properties with a setter backed by a private attribute (RLlib's
    ``train_batch_size_per_learner`` is one), but not deprecated aliases.
    """
    attrs = vars(config)
    known = {k: v for k, v in attrs.items() if not k.startswith("_") and k != "algo_class"}
    for name in dir(type(config)):
        prop = getattr(type(config), name, None)
        if isinstance(prop, property) and prop.fset is not None and "_" + name in attrs:
            known[name] = attrs["_" + name]
    return known


def check_settings(name: str, settings: dict, file: str | None = None) -> dict:
    """Validate ``settings`` against the algorithm's ``AlgorithmConfig`` attributes.

    Returns the settings merged over our defaults. Raises SpecError naming
    ``algorithm.settings.<key>`` for unknown names (with the nearest ones), for keys that
    belong in another section, and for values of the wrong type.
    """
    learner = rllib_learner(name, file=file)
    config = learner.config_class()()
    known = _settable(config)
    merged = dict(learner.defaults)
    for key, value in settings.items():
        path = f"algorithm.settings.{key}"
        if key in _RESERVED:
            raise SpecError(f"set this in the experiment file's {_RESERVED[key]!r} section, not in settings",
                            path=path, value=value, allowed="an algorithm setting", file=file)
        if key not in known:
            near = nearest(key, known, n=3, cutoff=0.6)
            hint = did_you_mean(key, known, n=3, cutoff=0.6)
            raise SpecError(f"unknown setting for {name}{hint}", path=path, value=value,
                            allowed=f"an attribute of {type(config).__name__}, e.g. "
                                    + ", ".join(near or ["lr", "gamma", "train_batch_size_per_learner"]),
                            file=file)
        if not (value is None and key in merged and merged[key] is None):  # null where our default is null
            _check_type(key, value, known[key], path, file)
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            value = {**merged[key], **value}
        merged[key] = value
    return merged


_WRONG = "wrong type of value"
#: a setting's check from the type of RLlib's default value (schedules [[t, v], ...] are
#: allowed where RLlib takes a number: lr, entropy_coeff)
_TYPE_CHECKS = (
    (bool, Check(lambda x: isinstance(x, bool), "true or false", reason=_WRONG)),
    ((int, float), Check(lambda x: real(x) or (isinstance(x, list) and all(isinstance(v, list) for v in x)),
                         "a number (or a schedule [[timestep, value], ...])", reason=_WRONG)),
    (dict, Check(lambda x: isinstance(x, dict), "a mapping", reason=_WRONG)),
)


def _check_type(key, value, default, path, file):
    for kind, check in _TYPE_CHECKS:  # bool first: a bool is an int
        if isinstance(default, kind):
            check.validate(value, path, file)
            return


def policy_ids(econ, mode: str) -> dict[str, str]:
    """agent -> policy id: one per agent (``agent``) or one per group (``group``)."""
    if mode == "agent":
        return {a: a for a in econ.actors}
    return {a: econ.groups[a] for a in econ.actors}


class PolicyMapping:
    """A picklable ``policy_mapping_fn`` (a plain dict lookup)."""

    def __init__(self, mapping: dict[str, str]):
        self.mapping = dict(mapping)

    def __call__(self, agent_id, episode=None, **kwargs):
        return self.mapping[agent_id]


#: per-agent networks a stacked module keeps (policies: agent); beyond it, share one (group)
MAX_HEADS = 16


def _check_vectorisable(spec: RLExperimentSpec, econ) -> None:
    """Refuse ``env.sessions`` where one single-agent module cannot stand for every agent."""
    from marketsai.limits import MAX_SESSIONS

    groups = sorted({econ.groups[a] for a in econ.actors})
    sessions = spec.env["sessions"]
    if len(groups) != 1:
        raise SpecError("env.sessions batches an economy whose agents form one policy group; this "
                        f"economy has {len(groups)} groups", path="env.sessions", value=sessions,
                        allowed="null (the per-agent MultiAgentEnv) for several groups", file=spec.file)
    if spec.env.get("stacked") and spec.policies == "agent" and len(econ.actors) > MAX_HEADS:
        raise SpecError(f"a stacked population keeps one network per agent for at most {MAX_HEADS} agents",
                        path="policies", value=spec.policies, allowed="group (one shared policy)", file=spec.file)
    if spec.policies == "agent" and len(econ.actors) > 1 and not spec.env.get("stacked"):
        raise SpecError("env.sessions trains one module shared by every agent; policies: agent asks "
                        "for one per agent", path="policies", value=spec.policies,
                        allowed="group (or env.sessions: null)", file=spec.file)
    from marketsai.envs.stacked import check_peer_baseline
    check_peer_baseline(econ, spec.env.get("peer_baseline"), spec.file)
    if sessions * len(econ.actors) > MAX_SESSIONS:
        raise SpecError("sessions times agents is too many sub-environments", path="env.sessions",
                        value=sessions, allowed=f"sessions * {len(econ.actors)} <= {MAX_SESSIONS:,}",
                        file=spec.file)


def sessions_replay(spec: RLExperimentSpec) -> bool:
    """Whether a trial learns off-policy from batched sessions (:mod:`marketsai.rl.replay`;
    the ``replay`` path of :data:`marketsai.rl.learners.PATHS`)."""
    return rllib_learner(spec.algorithm, file=spec.file).path(spec.env) == "replay"


def stacked_population(spec: RLExperimentSpec) -> bool:
    """Whether a trial learns one RowModule over stacked rows (:mod:`marketsai.rl.stacked`;
    the ``stacked`` path of :data:`marketsai.rl.learners.PATHS`)."""
    return rllib_learner(spec.algorithm, file=spec.file).path(spec.env) == "stacked"


def seed_replay_buffer(algorithm, **_):
    """Seed the replay buffer's sampling RNG from the trial's seed (an ``on_algorithm_init``
    callback). RLlib's episode replay buffers draw from ``np.random.default_rng(None)``, fresh
    OS entropy: without this, an off-policy trial (DQN, SAC) of one seed learns from other
    samples each run. A restored trial then takes the buffer's saved RNG state."""
    import numpy as np

    buffer = getattr(algorithm, "local_replay_buffer", None)
    if buffer is not None and hasattr(buffer, "rng"):
        buffer.rng = np.random.default_rng([int(algorithm.config.seed or 0), 104729])


def build_config(spec: RLExperimentSpec, econ, env_name: str, seed: int | None = None):
    """The ``AlgorithmConfig`` of one trial (new API stack, explicit resources).

    ``env_name`` is the name the economy's env creator is registered under
    (:func:`marketsai.rl.envs.register_economy`). With ``env.sessions`` the trial samples
    ``sessions`` simulations of the economy as one gymnasium VectorEnv per env runner
    (``gym_env_vectorize_mode="vector_entry_point"``, ``sessions * n_agents``
    sub-environments, the creator registered as :func:`marketsai.rl.envs.vector_name`) and
    learns one single-agent module (``default_policy``) shared by every agent.
    """
    learner = rllib_learner(spec.algorithm, file=spec.file)
    path = learner.path(spec.env)
    if path not in learner.paths:
        try:
            refuse_path(learner, spec.algorithm, path, spec.env)
        except SpecError as err:
            raise err.with_file(spec.file) if spec.file and not err.file else err from None
    sessions = spec.env.get("sessions")
    if sessions is not None:
        _check_vectorisable(spec, econ)
    probe_env = econ.rllib_env_creator()(dict(spec.env))
    try:
        learner.check_actions(econ)
    except SpecError as err:
        raise err.with_file(spec.file) if spec.file and not err.file else err from None
    settings = check_settings(spec.algorithm, spec.settings, spec.file)
    # the replay path: the per-agent path's config and modules, fed by the batched
    # sessions of marketsai.rl.replay (the MultiAgentEnv only gives the env runner its spaces)
    replay = path == "replay"
    buffer = settings.get("replay_buffer_config")
    if sessions is not None and not replay and isinstance(buffer, dict) \
            and "type" not in (spec.settings.get("replay_buffer_config") or {}):
        # our default buffer stores multi-agent episodes; the vector env's are single-agent
        settings["replay_buffer_config"] = {**buffer, "type": "EpisodeReplayBuffer"}
    mapping = policy_ids(econ, spec.policies)
    res = spec.resources
    stacked = path == "stacked"  # a RowModule over stacked rows
    config = learner.config_class()()
    algo_class = learner.algo_class(path)
    if algo_class is not None:
        config.algo_class = algo_class
    if sessions is None or replay:
        runners = {"num_envs_per_env_runner": res["num_envs_per_env_runner"]}
    elif stacked:
        from marketsai.rl.envs import stacked_name
        env_name = stacked_name(env_name)
        runners = {"num_envs_per_env_runner": sessions // spec.env["block"],
                   "gym_env_vectorize_mode": "vector_entry_point"}
    else:
        env_name = vector_name(env_name)
        runners = {"num_envs_per_env_runner": sessions * len(econ.actors),
                   "gym_env_vectorize_mode": "vector_entry_point"}
    config = (config
              .api_stack(enable_rl_module_and_learner=True, enable_env_runner_and_connector_v2=True)
              .environment(env_name, env_config=dict(spec.env, agent_ids=stacked and spec.policies == "agent",
                                                     **learner.env_config(path, econ)))
              .framework("torch")
              .env_runners(num_env_runners=res["num_env_runners"],
                           num_cpus_per_env_runner=res["num_cpus_per_env_runner"], **runners)
              .learners(num_learners=res["num_learners"],
                        num_cpus_per_learner=res["num_cpus_per_learner"],
                        num_gpus_per_learner=res["num_gpus_per_learner"])
              .debugging(seed=seed if seed is not None else spec.seeds[0]))
    if sessions is None or replay:
        # in the economy's actor order, never a set's: RLlib builds (and torch initialises) the
        # modules in this order, and a set of strings iterates in an order that changes with
        # each process's hash seed -- same seed, firms' initial networks swapped
        config = config.multi_agent(policies=list(dict.fromkeys(mapping.values())),
                                    policy_mapping_fn=PolicyMapping(mapping))
    if stacked:
        from ray.rllib.core.rl_module.rl_module import RLModuleSpec

        from marketsai.rl.stacked import RowModule, StackedPPOLearner
        heads = len(econ.actors) if spec.policies == "agent" else 1
        model = {**spec.model, "row_heads": heads, **learner.stacked_model(econ)}
        config = config.training(learner_class=StackedPPOLearner).rl_module(
            rl_module_spec=RLModuleSpec(module_class=RowModule, model_config=model))
    elif spec.model:
        config = config.rl_module(model_config=dict(spec.model))
    config = learner.configure(config, econ, probe_env, path)
    config.update_from_dict(settings)
    if settings.get("replay_buffer_config") and not replay:
        config = config.callbacks(on_algorithm_init=seed_replay_buffer)
    try:
        config.validate()
    except Exception as exc:  # RLlib's own consistency checks, re-worded as ours
        raise SpecError(f"RLlib rejected the configuration: {exc}", path="algorithm.settings",
                        value=spec.settings, allowed="settings RLlib accepts together",
                        file=spec.file) from None
    return config
