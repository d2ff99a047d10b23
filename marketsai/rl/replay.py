"""DQN and SAC on many sessions at once: the sessions' transitions in a flat replay buffer.

Why: off-policy learners are bound by their updates, and on the per-agent path RLlib's
episode replay buffer builds one ``SingleAgentEpisode`` per sampled transition and runs
the learner connector over them: about 24 ms per update of the Calvano duopoly's two
networks on 2 cores, so 50,000 updates (200,000 periods at one update per 4) took 20
minutes per seed (``benchmarks/results/replay.md``). Here, with ``env: {sessions: S,
stacked: true}``:

* the ``S`` sessions are stepped as one batch by the economy's pure step
  (:class:`~marketsai.envs.vector.EconomyVectorEnv`); each agent's module acts on its ``S``
  rows with one forward pass (its own ``forward_exploration``: DQN's epsilon-greedy, SAC's
  sampled squashed Gaussian or categorical, actions unsquashed as RLlib's module-to-env
  connector does);
* every agent's transitions -- its own observation, action, *its own* reward and next
  observation -- go to the numpy ring buffer of its module (:class:`FlatReplay`), so that
  with ``policies: agent`` firm 0's network learns only from firm 0's rows in every session
  and firm 1's from firm 1's (independent learners, each with ``S`` parallel copies of the
  game); with ``policies: group`` one module learns from all of its agents' rows;
* one update every ``rollout_fragment_length`` session-periods samples
  ``train_batch_size_per_learner`` transitions per module uniformly from its buffer and
  hands RLlib's own learner (DQN's / SAC's loss, optimisers and target networks) a
  ``MultiAgentBatch``.

Counting: RLlib's ``num_env_steps_sampled_lifetime`` counts *session-periods* here (one
step of the ``S`` sessions adds ``S``), so ``stop``, ``epsilon``, the learning start, the
target-network period and the replay ratio are all in periods of one learner's experience,
as on the per-agent path. The modules are the per-agent path's (one per policy id, the
per-agent observation and action spaces), so checkpoints are evaluated like per-agent runs.
The buffer is not checkpointed (RLlib's default for its own buffers): a resumed trial
refills it from its restored counter.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.algorithms.dqn import DQN
from ray.rllib.algorithms.sac import SAC
from ray.rllib.core.columns import Columns
from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch
from ray.rllib.utils.metrics import (
    ENV_RUNNER_RESULTS,
    EPISODE_RETURN_MEAN,
    LEARNER_RESULTS,
    NUM_AGENT_STEPS_SAMPLED_LIFETIME,
    NUM_ENV_STEPS_SAMPLED_LIFETIME,
)
from ray.rllib.utils.spaces.space_utils import clip_action, unsquash_action


class FlatReplay:
    """A ring buffer of one module's transitions, one numpy array per column.

    >>> buf = FlatReplay(capacity=3, obs_shape=(2,), action_shape=(), action_dtype=np.int64)
    >>> buf.add(np.zeros((2, 2)), np.array([1, 2]), np.array([0.5, 1.0]), np.ones((2, 2)))
    >>> buf.add(np.ones((2, 2)), np.array([3, 4]), np.array([2.0, 3.0]), np.ones((2, 2)))
    >>> len(buf), sorted(buf.actions.tolist())  # the oldest transition was overwritten
    (3, [2, 3, 4])
    """

    def __init__(self, capacity: int, obs_shape: tuple, action_shape: tuple, action_dtype):
        self.capacity = int(capacity)
        self.obs = np.zeros((self.capacity,) + tuple(obs_shape), np.float32)
        self.next_obs = np.zeros_like(self.obs)
        self.actions = np.zeros((self.capacity,) + tuple(action_shape), action_dtype)
        self.rewards = np.zeros(self.capacity, np.float32)
        self.size = 0
        self.head = 0

    def __len__(self) -> int:
        return self.size

    def add(self, obs, actions, rewards, next_obs) -> None:
        n = len(rewards)
        idx = (self.head + np.arange(n)) % self.capacity
        self.obs[idx], self.next_obs[idx] = obs, next_obs
        self.actions[idx], self.rewards[idx] = actions, rewards
        self.head = int((self.head + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)

    def sample(self, n: int, rng: np.random.Generator) -> SampleBatch:
        """``n`` transitions drawn uniformly with replacement, as the columns RLlib's DQN and
        SAC losses read (one-step returns: ``n_step`` 1; uniform replay: weights 1; the
        economies never terminate, episodes only end by truncation, so bootstrapping always
        continues)."""
        idx = rng.integers(0, self.size, size=n)
        return transitions(self.obs[idx], self.actions[idx], self.rewards[idx], self.next_obs[idx])


def transitions(obs, actions, rewards, next_obs) -> SampleBatch:
    """One-step transitions as the columns RLlib's DQN and SAC losses read: ``n_step`` 1,
    uniform weights, never terminated (the economies only truncate, so targets bootstrap)."""
    n = len(rewards)
    return SampleBatch({
        Columns.OBS: obs, Columns.NEXT_OBS: next_obs, Columns.ACTIONS: actions, Columns.REWARDS: rewards,
        Columns.TERMINATEDS: np.zeros(n, bool), Columns.TRUNCATEDS: np.zeros(n, bool),
        "n_step": np.ones(n, np.float32), "weights": np.ones(n, np.float32)})


def act(module, obs: np.ndarray, t: int, action_space, normalize: bool = True, clip: bool = False):
    """``(module actions, env actions)`` of an RLlib module exploring on a batch of rows.

    What RLlib's env runner does per agent, once for all rows: the module's
    ``forward_exploration`` (DQN: epsilon-greedy at timestep ``t``), a sample from the
    exploration distribution where the module returns only its inputs (SAC), and for a Box
    the unsquashing (or clipping) of the module-to-env connector. The buffer stores the
    module's actions (SAC learns on the squashed scale), the environment gets the others.
    """
    with torch.no_grad():
        out = module.forward_exploration({Columns.OBS: torch.from_numpy(obs)}, t=t)
        if Columns.ACTIONS in out:
            actions = out[Columns.ACTIONS]
        else:
            actions = module.get_exploration_action_dist_cls().from_logits(out[Columns.ACTION_DIST_INPUTS]).sample()
    actions = actions.numpy()
    if not isinstance(action_space, gym.spaces.Box):
        return actions, actions
    if normalize:  # both broadcast the Box's bounds over the batch of rows
        return actions, unsquash_action(actions, action_space)
    return actions, clip_action(actions, action_space) if clip else actions


class SessionsReplay:
    """The training step of an off-policy algorithm learning from ``S`` sessions (module docstring)."""

    def setup(self, config):
        super().setup(config)
        from marketsai.rl.envs import stacked_name
        from marketsai.rl.rllib_internals import local_learner, registered_env_creator

        cfg = self.config
        env_cfg = dict(cfg.env_config)
        self._sessions = int(env_cfg["sessions"])
        stacked = registered_env_creator(stacked_name(cfg.env))(
            {"num_envs": 1, "block": self._sessions, "max_cycles": env_cfg.get("max_cycles", 1000)})
        self._env = stacked.inner  # the sessions' batched pure step, one row per (session, agent)
        self._agents = list(stacked.economy.actors)
        self._mapping = {a: cfg.policy_mapping_fn(a, None) for a in self._agents}
        self._learner = local_learner(self.learner_group)
        if self._learner is None:
            raise RuntimeError("the sessions replay path acts with the learner's modules: num_learners must be 0")
        space = self._env.single_action_space
        for mid in set(self._mapping.values()):
            module = self._learner.module[mid]
            if module.observation_space.shape != self._env.single_observation_space.shape:
                raise RuntimeError(f"module {mid} observes {module.observation_space.shape}, the sessions "
                                   f"{self._env.single_observation_space.shape}")
        capacity = int(cfg.replay_buffer_config.get("capacity", 50_000))
        dtype = np.int64 if isinstance(space, gym.spaces.Discrete) else np.float32
        self._buffers = {mid: FlatReplay(capacity, self._env.single_observation_space.shape, space.shape, dtype)
                         for mid in sorted(set(self._mapping.values()))}
        seed = 0 if cfg.seed is None else int(cfg.seed)
        self._rng = np.random.default_rng([seed, 7919])  # replay sampling; the modules' torch RNG is RLlib's
        self._obs, _ = self._env.reset(seed=seed)
        self._returns = np.zeros(self._sessions)
        self._owed = 0.0  # updates due (fractional: one per rollout_fragment_length periods)
        self._stored = 0  # session-periods in the buffers (a restored trial starts with none)

    def _periods(self) -> int:
        return int(self.metrics.peek((ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME), default=0))

    def _step_sessions(self) -> None:
        cfg, n = self.config, len(self._agents)
        t = self._periods()
        space = self._env.single_action_space
        env_actions = np.empty((self._sessions * n,) + space.shape, space.dtype)
        module_actions = {}
        for i, agent in enumerate(self._agents):
            module = self._learner.module[self._mapping[agent]]
            module_actions[i], env_actions[i::n] = act(module, self._obs[i::n], t, space,
                                                       cfg.normalize_actions, cfg.clip_actions)
        next_obs, rewards, _, trunc, _ = self._env.step(env_actions)
        for i, agent in enumerate(self._agents):
            self._buffers[self._mapping[agent]].add(self._obs[i::n], module_actions[i], rewards[i::n], next_obs[i::n])
        self._stored += self._sessions
        self._returns += rewards.reshape(self._sessions, n).sum(axis=1)
        self.metrics.log_value((ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME), self._sessions,
                               reduce="lifetime_sum")
        for agent in self._agents:  # RLlib keeps agent-steps per agent id
            self.metrics.log_value((ENV_RUNNER_RESULTS, NUM_AGENT_STEPS_SAMPLED_LIFETIME, agent), self._sessions,
                                   reduce="lifetime_sum")
        if trunc.any():  # all sessions end together; reset now instead of a NEXT_STEP reset step
            self.metrics.log_value((ENV_RUNNER_RESULTS, EPISODE_RETURN_MEAN), float(self._returns.mean()),
                                   window=20)
            self._returns[:] = 0.0
            self._obs, _ = self._env.reset()
        else:
            self._obs = next_obs

    def _update(self) -> None:
        cfg = self.config
        batch = MultiAgentBatch({mid: buf.sample(cfg.train_batch_size_per_learner, self._rng)
                                 for mid, buf in self._buffers.items()},
                                env_steps=cfg.train_batch_size_per_learner)
        periods = self._periods()
        results = self.learner_group.update(batch=batch, timesteps={
            NUM_ENV_STEPS_SAMPLED_LIFETIME: periods,
            NUM_AGENT_STEPS_SAMPLED_LIFETIME: periods * len(self._agents)})
        self.metrics.aggregate(results, key=LEARNER_RESULTS)

    def training_step(self) -> None:
        """Step the sessions and learn until ``min_sample_timesteps_per_iteration`` periods
        have been sampled; one update per ``rollout_fragment_length`` periods once
        ``num_steps_sampled_before_learning_starts`` periods are in the buffers (after a
        restore from a checkpoint, once the empty buffers hold that many again)."""
        cfg = self.config
        start = self._periods()
        per_update = float(cfg.get_rollout_fragment_length())
        while True:
            self._step_sessions()
            if self._stored >= cfg.num_steps_sampled_before_learning_starts:
                self._owed += self._sessions / per_update
                while self._owed >= 1.0:
                    self._update()
                    self._owed -= 1.0
            if self._periods() - start >= max(1, cfg.min_sample_timesteps_per_iteration or 0):
                break
        self.env_runner_group.sync_weights(from_worker_or_learner_group=self.learner_group, inference_only=True)


class SessionsDQN(SessionsReplay, DQN):
    """RLlib's DQN learning from ``S`` batched sessions (:class:`SessionsReplay`)."""


class SessionsSAC(SessionsReplay, SAC):
    """RLlib's SAC learning from ``S`` batched sessions (:class:`SessionsReplay`)."""
