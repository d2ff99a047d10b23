"""RLlib algorithms as learners: one registered class per algorithm.

Why in the RLlib layer and registered by entry point (``pyproject.toml``, group
``marketsai.learners``): these classes drive :mod:`marketsai.rl` (configs, Tune trials,
checkpoints) and :mod:`marketsai.rl.spec` looks them up by name, so they live beside it;
the core's learner registry finds them as it finds any plug-in, and the import graph stays
one-way (``marketsai.learners`` never imports ``marketsai.rl``).

Why one class per algorithm, each declaring what it can do, instead of name lists and
flags: adding an algorithm (or a user's own ``AlgorithmConfig``) is one registered class,
and every check -- which actions it learns, which environment paths it trains on -- reads
the class. An entry declares:

* ``config_path``: ``"module:Class"`` of its RLlib ``AlgorithmConfig`` (imported only
  when a config is built: importing this module never imports ray);
* ``action_kinds``: ``grid`` (Discrete) and / or ``interval`` (Box) decisions;
* ``defaults``: the few settings we change for small machines and multi-agent economies
  (a user's ``algorithm.settings`` win); ``settings`` declares them as ``Param``\\ s with
  the numeric checks of :mod:`marketsai.rl.numeric` (other ``AlgorithmConfig``
  attributes are accepted and checked against RLlib's class: ``open_settings``);
* ``paths``: the environment paths it trains on (:data:`PATHS`), chosen by the file's
  ``env:`` section (:meth:`RLlibLearner.path`);
* hooks for what an algorithm adds to the common config (:meth:`~RLlibLearner.configure`,
  :meth:`~RLlibLearner.env_config`, :meth:`~RLlibLearner.stacked_model`) -- the
  centralised critic's critic inputs.

The config itself is built by :func:`marketsai.rl.algorithms.build_config` from these
declarations; ``kind: rllib`` trains it with Ray Tune (:mod:`marketsai.rl.train`).

>>> from marketsai.learners import learners
>>> from marketsai.rl.spec import rllib_names
>>> ppo = learners.get("PPO")()
>>> ppo.path({"sessions": None}), ppo.path({"sessions": 8, "stacked": True})
('per_agent', 'stacked')
>>> learners.get("DQN")().path({"sessions": 8, "stacked": True})
'replay'
>>> sorted(rllib_names())
['APPO', 'DQN', 'IMPALA', 'PPO', 'SAC', 'centralised_critic']
"""

from __future__ import annotations

import importlib
from typing import ClassVar

from marketsai.learners.base import Learner, learners
from marketsai.params import Check, Param
from marketsai.rl.numeric import SETTINGS
from marketsai.rl.spec import RL_SCHEMA

#: the sections of a ``kind: rllib`` file that are learner settings in ``kind: learn``
SECTIONS = ("env", "policies", "stop", "resources", "checkpoint")
_mapping = Check(lambda x: x is None or isinstance(x, dict), "a mapping")

#: the environment paths of an RLlib trial (see docs/scaling.md)
PATHS = {
    "per_agent": "env.sessions: null -- the per-agent MultiAgentEnv",
    "vector": "env.sessions: N -- N sessions as one VectorEnv, one shared single-agent module",
    "stacked": "env.sessions: N, stacked: true -- each session's agents stacked as rows of one "
               "RowModule (on-policy; marketsai.rl.stacked)",
    "replay": "env.sessions: N, stacked: true -- the sessions stepped as one batch into a flat "
              "replay buffer per module (off-policy; marketsai.rl.replay)",
}


def _import(target: str):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _settings_error(err):
    """A ``kind: rllib`` error on ``algorithm.settings.*`` / ``algorithm.model`` moved to the
    learner's settings (``learner.settings`` is prefixed by :func:`~marketsai.learners.base.checked`)."""
    from marketsai.errors import SpecError
    path = err.path
    for old, new in (("algorithm.settings.", ""), ("algorithm.model", "model")):
        if path.startswith(old):
            path = new + path[len(old):]
    return SpecError(err.reason, path=path, value=err.value, allowed=err.allowed)


class RLlibLearner(Learner):
    """An RLlib algorithm on the new API stack (see the module docstring)."""

    open_settings = True
    noisy = True  # Ray's and RLlib's logs: to the run's log file unless --verbose
    starts_ray = True  # one Tune trial per seed on a local Ray (or --address)
    config_path: ClassVar[str] = ""
    action_kinds: ClassVar[tuple[str, ...]] = ("grid", "interval")
    #: whether an agent may have several grid decisions (a ``MultiDiscrete`` action);
    #: RLlib's DQN and SAC modules take one ``Discrete`` action only
    several_grid_decisions: ClassVar[bool] = True
    defaults: ClassVar[dict] = {}
    paths: ClassVar[frozenset[str]] = frozenset({"per_agent", "vector"})
    #: the Algorithm class of the ``replay`` path (``module:Class``)
    replay_algorithm: ClassVar[str | None] = None
    #: why a path is refused, where the generic sentence says too little
    paths_note: ClassVar[str] = ""

    # kind: learn -- the sections of a ``kind: rllib`` file beside the algorithm's own
    # settings; every other key of learner.settings is an AlgorithmConfig attribute, those
    # we know declared with their ranges (unset: RLlib's default or ours, ``defaults``)
    settings = {key: RL_SCHEMA[key] for key in SECTIONS} | {
        "model": Param({}, _mapping, "model_config of the RLModule (e.g. fcnet_hiddens)")} | SETTINGS

    # ------------------------------------------------------------------ paths
    def path(self, env: dict) -> str:
        """The environment path an ``env:`` section asks for (before checking support)."""
        if env.get("sessions") is None:
            return "per_agent"
        if env.get("stacked"):
            return "replay" if "replay" in self.paths else "stacked"
        return "vector"

    def config_class(self):
        """The ``AlgorithmConfig`` subclass (imports ray)."""
        return _import(self.config_path)

    def algo_class(self, path: str):
        """The ``Algorithm`` class a trial of ``path`` runs, or None for the config's own."""
        return _import(self.replay_algorithm) if path == "replay" and self.replay_algorithm else None

    # ------------------------------------------------------------------ hooks
    def env_config(self, path: str, econ) -> dict:
        """Extra ``env_config`` keys of this algorithm's trials."""
        return {"critic_state": False}

    def stacked_model(self, econ) -> dict:
        """Extra ``model_config`` keys of the stacked path's RowModule."""
        return {}

    def configure(self, config, econ, probe_env, path: str):
        """What the algorithm adds to the common config; returns the config."""
        return config

    # ------------------------------------------------------------ kind: learn
    def experiment(self, economy, settings: dict, seeds) -> dict:
        """The ``kind: rllib`` file of ``kind: learn``'s learner settings (economy inline),
        resolved and checked as such a file is (:func:`marketsai.rl.spec.resolve_rl`: an
        unknown key is refused). Each trial writes it as its ``experiment.yaml``, which
        ``marketsai export`` and ``marketsai evaluate`` read back, so it must be a valid
        file: ``model`` goes under ``algorithm``, every other learner setting that is no
        section of the file is an ``algorithm.settings`` attribute."""
        from marketsai.rl.spec import resolve_rl
        from marketsai.runner.schema import resolve
        sections = {k: settings[k] for k in SECTIONS}
        algo = {k: v for k, v in settings.items() if k not in (*SECTIONS, "model")}
        data = economy if isinstance(economy, dict) else economy.to_dict()
        return resolve_rl({"evaluation": resolve({}, RL_SCHEMA["evaluation"])} | sections | {
            "kind": "rllib", "name": type(self).__name__, "description": "", "seed": 0,
            "economy": data, "sweep": {}, "reference": {}, "seeds": [int(s) for s in seeds],
            "algorithm": {"name": self.registered_name(), "settings": algo,
                          "model": settings.get("model") or {}}})

    def registered_name(self) -> str:
        from marketsai.rl.spec import rllib_names
        for name in rllib_names():
            if learners.get(name) is type(self):
                return name
        return f"{type(self).__module__}:{type(self).__qualname__}"

    def check_actions(self, econ) -> None:
        """Refuse, by name, decisions this algorithm cannot learn (an ``Economy``): a kind
        outside :attr:`action_kinds`, or several grid decisions of one agent where it takes
        one ``Discrete`` action -- checked when a file is validated, not when RLlib fails
        to build its module in the first trial."""
        from marketsai.errors import SpecError
        from marketsai.rl.spec import rllib_names

        name = self.registered_name()
        kinds = {s.kind for s in econ.decisions}
        if not kinds <= set(self.action_kinds):
            bad = sorted(kinds - set(self.action_kinds))[0]
            raise SpecError(f"{name} cannot learn '{bad}' actions", path="algorithm.name", value=name,
                            allowed=", ".join(n for n in rllib_names() if bad in learners.get(n).action_kinds))
        if self.several_grid_decisions:
            return
        for agent, i in zip(econ.actors, econ.actor_index, strict=True):
            grids = [econ.decisions[c].name for c in econ.layout.agent_cols[i] if econ.decisions[c].kind == "grid"]
            if len(grids) > 1:
                able = [n for n in rllib_names() if learners.get(n).several_grid_decisions
                        and "grid" in learners.get(n).action_kinds]
                raise SpecError(f"{name} learns one grid decision per agent (a Discrete action); agent "
                                f"{agent!r} has {len(grids)} ({', '.join(grids)}: a MultiDiscrete action)",
                                path="algorithm.name", value=name,
                                allowed=f"{', '.join(able)}; or an economy with one grid decision per agent")

    def check(self, economy, settings):
        """``kind: rllib``'s checks (:meth:`experiment`), the economy's decisions
        (:meth:`check_actions`) and its peers for ``env.peer_baseline``, paths moved from
        ``algorithm.settings.*`` / ``algorithm.model`` to the learner's settings."""
        from marketsai.economy import Economy
        from marketsai.errors import SpecError
        try:
            self.experiment(economy, settings, [0])
            econ = Economy.from_dict(economy) if isinstance(economy, dict) else economy
            self.check_actions(econ)
            peer = (settings.get("env") or {}).get("peer_baseline")
            if peer is not None:  # a process field of this economy, and peers to compare with
                from marketsai.envs.stacked import check_peer_baseline
                check_peer_baseline(econ, peer)
        except SpecError as err:
            raise _settings_error(err) from None
        return settings

    def check_with_rllib(self, economy, settings) -> None:
        """The algorithm's settings against RLlib's own ``AlgorithmConfig`` (an unknown
        attribute with the nearest ones, a value of the wrong type), as ``kind: rllib``
        files are checked: what ``marketsai validate`` adds where ray is installed (it
        imports ray). Paths as in :meth:`check`."""
        from marketsai.errors import SpecError
        from marketsai.rl.algorithms import check_settings
        algo = self.experiment(economy, settings, [0])["algorithm"]
        try:
            check_settings(algo["name"], algo["settings"] or {})
        except SpecError as err:
            raise _settings_error(err) from None

    def initial_policy(self, economy, settings, seed=0):
        """The greedy policy of freshly initialised modules (torch seed ``seed``) of these
        settings' model on the per-agent path (:func:`marketsai.rl.export.untrained_policies`;
        a stacked or vector run's one shared network has the same layers): the
        ``untrained`` baseline of an evaluation."""
        from marketsai.rl.export import untrained_policies
        from marketsai.rl.spec import RLExperimentSpec

        per_agent = settings | {"env": {**settings["env"], "sessions": None, "stacked": False, "block": 1,
                                                 "common_shocks": False, "block_baseline": False,
                                                 "peer_baseline": None}}
        cfg = self.experiment(economy, per_agent, [seed])
        greedy = untrained_policies(RLExperimentSpec.from_config(cfg), economy, seed)
        greedy.info = {"seed": int(seed)}
        return greedy

    def train(self, economy, settings, seeds, run_dir, *, root_seed=0, threads=None, address=None):
        """One Ray Tune trial per seed in ``run_dir/seed<S>`` (resumed from its latest
        checkpoint when interrupted; see :func:`marketsai.rl.train.train_seed`); each policy
        is the trial's greedy modules (:func:`marketsai.rl.evaluate.greedy_policies`)."""
        from pathlib import Path

        from marketsai.rl.evaluate import greedy_policies
        from marketsai.rl.spec import RLExperimentSpec
        from marketsai.rl.train import train_seed
        from marketsai.runner.config import fingerprint
        from marketsai.runner.kinds import UnitContext

        spaces = economy.parallel_env().action_spaces
        out = []
        for seed in seeds:  # each trial's file names its own seed (any number of seeds per unit)
            cfg = self.experiment(economy, settings, [int(seed)])
            ctx = UnitContext(workdir=Path(run_dir) / f"seed{seed}", root=Path(run_dir),
                              fingerprint=fingerprint(cfg), address=address)
            row = train_seed(cfg, int(seed), ctx)["results"].iloc[0].to_dict()
            spec = RLExperimentSpec.from_config(cfg, base_dir=run_dir)
            # RLlib reads a checkpoint by URI: a run folder given relative to the working directory
            # (out="run") must become absolute here
            greedy = greedy_policies(Path(run_dir).resolve() / row["checkpoint"], spec, economy, spaces)
            greedy.info = {k: row[k] for k in ("iterations", "env_steps", "agent_steps", "time_total_s",
                                               "episode_return_mean", "checkpoint")}
            out.append(greedy)
        return out


_ON_POLICY = {"train_batch_size_per_learner": 1000, "minibatch_size": 250, "num_epochs": 4, "lr": 3e-4}
# Asynchronous actor-learner (Espeholt et al. 2018): env runners sample with slightly stale
# weights, the learner corrects with V-trace. RLlib's defaults (10 s minimum per
# iteration, 2 env runners, 1 remote learner) are for clusters; ours end an iteration
# after one train batch of 500 steps has been learned from, in 50-step fragments.
_ASYNC = {"train_batch_size_per_learner": 500, "rollout_fragment_length": 50,
          "min_time_s_per_iteration": None, "min_train_timesteps_per_iteration": 500, "lr": 5e-4}


class OffPolicy(RLlibLearner):
    """An off-policy algorithm: a replay buffer, and the sessions replay path on stacked sessions."""

    defaults = {"replay_buffer_config": {"type": "MultiAgentEpisodeReplayBuffer", "capacity": 50_000},
                "train_batch_size_per_learner": 64, "num_steps_sampled_before_learning_starts": 1000,
                "min_sample_timesteps_per_iteration": 1000}
    paths = frozenset({"per_agent", "vector", "replay"})


@learners.register("DQN")
class DQN(OffPolicy):
    """Deep Q-network (grid actions)."""

    several_grid_decisions = False

    config_path = "ray.rllib.algorithms.dqn:DQNConfig"
    action_kinds = ("grid",)
    defaults = {**OffPolicy.defaults, "target_network_update_freq": 500}
    replay_algorithm = "marketsai.rl.replay:SessionsDQN"


@learners.register("SAC")
class SAC(OffPolicy):
    """Soft actor-critic (grid or interval actions)."""

    several_grid_decisions = False

    config_path = "ray.rllib.algorithms.sac:SACConfig"
    replay_algorithm = "marketsai.rl.replay:SessionsSAC"


@learners.register("PPO")
class PPO(RLlibLearner):
    """Proximal policy optimisation; the stacked RowModule path for large populations."""

    config_path = "ray.rllib.algorithms.ppo:PPOConfig"
    defaults = dict(_ON_POLICY)
    paths = frozenset({"per_agent", "vector", "stacked"})


@learners.register("IMPALA")
class IMPALA(RLlibLearner):
    """IMPALA (V-trace), small-machine defaults."""

    config_path = "ray.rllib.algorithms.impala:IMPALAConfig"
    defaults = dict(_ASYNC)


@learners.register("APPO")
class APPO(RLlibLearner):
    """APPO: IMPALA's V-trace targets with PPO's clipped surrogate and a target network."""

    config_path = "ray.rllib.algorithms.appo:APPOConfig"
    defaults = dict(_ASYNC)


@learners.register("centralised_critic")
class CentralisedCritic(RLlibLearner):
    """PPO with a critic that reads every agent's observation (per-agent path) or the
    economy's aggregate state (stacked path); see docs/centralised_critic.md."""

    config_path = "marketsai.rl.critic_learner:CentralisedCriticConfig"
    defaults = dict(_ON_POLICY)
    paths = frozenset({"per_agent", "stacked"})
    paths_note = ("the centralised critic reads every agent's observation through the "
                  "MultiAgentEnv, or the aggregate state through a stacked population")

    def env_config(self, path, econ):
        return {"critic_state": path == "stacked"}

    def stacked_model(self, econ):
        from marketsai.envs.stacked import critic_state_dim
        return {"critic_state_dim": critic_state_dim(econ)}

    def configure(self, config, econ, probe_env, path):
        if path != "per_agent":
            return config
        import numpy as np
        obs_dims = [int(np.prod(probe_env.observation_spaces[a].shape)) for a in econ.actors]
        return config.centralised_critic(econ.actors, obs_dims)
