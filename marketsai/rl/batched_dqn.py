"""``dqn_batched``: DQN with the seeds as a batch dimension -- one update step for all seeds.

Why: RLlib runs each seed as its own algorithm and pays the fixed cost of its training
step once per seed (``docs/scaling.md``). Here the ``S`` seeds of a unit, and with
independent learners (``policies: agent``) every agent of every seed, are the members of
one :class:`~marketsai.rl.ensemble.DQNEnsemble`: one forward pass acts for all, one
backward pass and one Adam step update all.

What a seed sees is a function of ``(economy, settings, root_seed, seed)`` only:

* seed ``s`` draws from ``np.random.SeedSequence(root_seed, spawn_key=(s,))`` (as the
  tabular sessions do): its initial weights (a ``torch.Generator``), its sessions' initial
  states and shocks, its exploration and its replay sampling each have their own stream;
* its ``sessions`` simulations step with the other seeds' in one call of
  ``economy.step`` when the economy draws nothing in a step (no exogenous processes); an
  economy with shocks steps seed by seed, each with its own generator;
* its members' transitions go to their own replay rings (one ``(M, capacity, ...)``
  array, a ring per member, filled in lockstep) and its members update on their own
  batches (:mod:`marketsai.rl.ensemble`: per-member loss, clipping, Adam moments, targets).

Counting is RLlib's on the sessions-replay path: a seed's timesteps are its
session-periods (one step of ``B`` sessions adds ``B``), and ``periods``, ``epsilon``,
``learning_starts``, ``target_network_update_freq`` and ``update_every`` are in them.

Who updates (``backend``): ``torch``, our DQN loss in plain torch after RLlib's
conventions (:mod:`~marketsai.rl.ensemble`, no Ray needed); ``rllib``, RLlib's own
``DQNTorchLearner`` and loss over one RLModule whose parameters carry the member axis
(:mod:`~marketsai.rl.seed_batched_rllib`). Both draw the same streams, and the tests hold
their weights equal within float tolerance: each is the other's check.

Resume: ``RUN_DIR/dqn_batched.pt`` holds everything -- weights, targets, Adam moments
(on ``backend: rllib``, the RLlib learner's state),
replay rings, the sessions' states and every generator's state -- written every
``checkpoint_every`` periods and at the end; a rerun of the unit continues from it
exactly (bit-identical to an uninterrupted run) or, when finished, returns its policies.
A NaN or infinite loss or gradient stops the unit before that update is applied
(:class:`~marketsai.errors.NonFiniteLoss`: the learner, the period, each member found
non-finite as seed and agent); its last checkpoint is kept, so a rerun after a fix resumes
from it (``docs/scaling.md``).
``RUN_DIR/segments.json`` beside it records each process that trained the unit and how long
(:mod:`~marketsai.rl.train_journal`): the cost of a run that was resumed is their sum.
One seed's policy leaves the unit as a policy export (``marketsai export RUN_DIR/dqn_batched.pt
--seed S``, :mod:`marketsai.rl.seed_export`; ``policy_state`` says where the policy's
networks lie in the checkpoint).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from marketsai.dynamics import EconomyState
from marketsai.errors import NonFiniteLoss, SpecError
from marketsai.learners import kept_policies
from marketsai.learners.base import Learner, learners
from marketsai.params import (
    Check,
    Param,
    nonnegative_int,
    one_of,
    positive,
    positive_int,
    schedule_of,
    unit_closed,
)
from marketsai.policies import FunctionPolicy
from marketsai.rl.train_journal import TrainJournal

CHECKPOINT = "dqn_batched.pt"


SETTINGS = {
    "periods": Param(20_000, positive_int, "periods of experience per seed (each session's period counts)"),
    "sessions": Param(1, positive_int, "simulations per seed stepped together (B)"),
    "episode_length": Param(1000, positive_int, "periods before every session restarts (a truncation: "
                            "targets still bootstrap)"),
    "policies": Param("agent", one_of("agent", "shared"), "agent: one network per agent of a seed "
                      "(independent learners); shared: one network per seed for all its agents"),
    "hiddens": Param([64, 64], Check(lambda v: isinstance(v, list) and all(
        isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in v), "a list of positive ints"),
        "hidden layer widths (ReLU)"),
    "lr": Param(5e-4, positive, "Adam's learning rate (RLlib's DQN default)"),
    "adam_epsilon": Param(1e-8, positive, "Adam's epsilon"),
    "grad_clip": Param(40.0, Check(lambda v: v is None or (isinstance(v, (int, float)) and v > 0),
                                   "a number > 0 or null"), "global-norm clipping, per seed and agent"),
    "gamma": Param(None, Check(lambda v: v is None or (isinstance(v, (int, float)) and 0 <= v < 1),
                               "a number in [0, 1) or null"), "discount; null: the economy's"),
    "train_batch_size": Param(64, positive_int, "transitions per update per network"),
    "buffer_capacity": Param(50_000, positive_int, "replay ring per network (transitions)"),
    "learning_starts": Param(1000, nonnegative_int, "periods stored before the first update"),
    "target_network_update_freq": Param(500, positive_int, "periods between hard target updates"),
    "epsilon": Param([[0, 1.0], [10_000, 0.05]], schedule_of(unit_closed), "epsilon-greedy rate, or "
                     "a schedule linear between points (RLlib's)"),
    "update_every": Param(1, positive_int, "periods per update (1: one update per period)"),
    "double_q": Param(True, Check(lambda v: isinstance(v, bool), "true or false"), "double-Q targets"),
    "td_error_loss_fn": Param("huber", one_of("huber", "mse"), "TD loss (Huber: delta 1)"),
    "checkpoint_every": Param(10_000, nonnegative_int, "periods between checkpoints (0: only at the end)"),
    "keep_policies": Param(False, Check(lambda v: isinstance(v, bool), "true or false"), "true: every checkpoint "
                           "also keeps each seed's policy of that period (marketsai.learners.kept_policies), which "
                           "the learn kind's curve: evaluations score -- a learning curve; changes no result"),
    "backend": Param("torch", one_of("torch", "rllib"), "who updates the stacked networks: torch, our "
                     "plain-torch DQN (marketsai.rl.ensemble); rllib, RLlib's DQN learner and loss over one "
                     "RLModule with a member axis (marketsai.rl.seed_batched_rllib)"),
    "device": Param("cpu", Check(lambda v: isinstance(v, str) and (v == "cpu" or v.startswith("cuda")),
                                 "cpu or cuda[:i]"), "where the networks live"),
    "flush_denormal": Param(False, Check(lambda v: isinstance(v, bool), "true or false"),
                            "flush subnormal floats to zero on the CPU while learning: about 1.5x faster "
                            "updates late in long runs (Adam's moments decay into subnormals); changes "
                            "results where subnormals occur (docs/scaling.md)"),
}


# ---------------------------------------------------------------- the economy as grids
@dataclasses.dataclass(frozen=True)
class GridActors:
    """The economy's actors, each with one grid decision of ``n_actions`` points."""

    columns: np.ndarray  # (n,) decision column of each actor
    grids: np.ndarray  # (n, A) the values of each actor's grid
    actors: tuple
    obs_dim: int
    #: an action of one actor in the replay rings: a grid index
    action_shape = ()
    action_dtype = np.int64

    @property
    def n_actions(self) -> int:
        return self.grids.shape[1]

    @classmethod
    def of(cls, econ) -> GridActors:
        cols, grids = [], []
        for i in econ.actor_index:
            own = econ.layout.agent_cols[i]
            decs = [econ.decisions[c] for c in own]
            if len(own) != 1 or decs[0].kind != "grid":
                raise SpecError("dqn_batched needs one grid decision per agent", path="economy.agents",
                                value=econ.agents[i], allowed="agents with action: {kind: grid}")
            cols.append(own[0])
            grids.append(decs[0].grid)
        if len({len(g) for g in grids}) != 1:
            raise SpecError("dqn_batched and sac_batched on a grid need grids of one size", path="economy.agents",
                            value=[len(g) for g in grids], allowed="the same number of points for every agent")
        spaces = econ.observer.spaces
        dims = {int(np.prod(spaces[a].shape)) for a in econ.actors}
        if len(dims) != 1:
            raise SpecError("dqn_batched and sac_batched on a grid need observations of one width", path="economy.agents",
                            value=sorted(dims), allowed="agents observing the same number of values")
        return cls(np.array(cols), np.stack(grids), tuple(econ.actors), dims.pop())

    def values(self, actions: np.ndarray, n_decisions: int) -> np.ndarray:
        """Decision values ``(R, n_decisions)`` of grid indices ``(R, n)``."""
        out = np.zeros((actions.shape[0], n_decisions))
        out[:, self.columns] = self.grids[np.arange(len(self.columns)), actions]
        return out


# ---------------------------------------------------------------- the greedy policy
class GreedyNet:
    """One trained Q-network in numpy: observations ``(B, d)`` -> greedy grid indices ``(B,)``."""

    def __init__(self, layers):
        self.layers = layers

    def q(self, obs: np.ndarray) -> np.ndarray:
        x = np.asarray(obs, dtype=np.float32).reshape(len(obs), -1)
        for i, (w, b) in enumerate(self.layers):
            x = x @ w + b
            if i < len(self.layers) - 1:
                x = np.maximum(x, 0.0)
        return x

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return self.q(obs).argmax(axis=-1).astype(np.int64)


# ---------------------------------------------------------------- the run
class BatchedRun:
    """The state of one batched training of ``seeds`` (everything a checkpoint holds)."""

    def __init__(self, economy, settings: dict, seeds, root_seed: int = 0):

        self.econ, self.cfg = economy, settings
        self.seeds = [int(s) for s in seeds]
        self.grid = self.actors_of(economy)
        S, n, B = len(self.seeds), len(self.grid.actors), settings["sessions"]
        self.S, self.n, self.B = S, n, B
        self.per_seed = n if settings["policies"] == "agent" else 1  # members of a seed
        self.rows = B if settings["policies"] == "agent" else B * n  # rows of a member per step
        self.M = S * self.per_seed
        self.stochastic = bool(economy.aggregate or economy.idiosyncratic)
        streams = [np.random.SeedSequence(root_seed, spawn_key=(s,)).spawn(4) for s in self.seeds]
        self.env_rng = [np.random.default_rng(c[0]) for c in streams]
        self.explore_rng = [np.random.default_rng(c[1]) for c in streams]
        self.replay_rng = [np.random.default_rng(c[2]) for c in streams]
        member_seeds = []  # the torch seed of each member's initial weights, from its seed's stream
        for c in streams:
            base = int(c[3].generate_state(1, np.uint64)[0] >> np.uint64(1))
            member_seeds += [base + j for j in range(self.per_seed)]
        gamma = economy.spec.discount if settings["gamma"] is None else settings["gamma"]
        self.ens = self.make_learner(member_seeds, float(gamma))
        cap, d = settings["buffer_capacity"], self.grid.obs_dim
        self.buf = {"obs": np.zeros((self.M, cap, d), np.float32), "next_obs": np.zeros((self.M, cap, d), np.float32),
                    "actions": np.zeros((self.M, cap) + self.grid.action_shape, self.grid.action_dtype),
                    "rewards": np.zeros((self.M, cap), np.float32)}
        self.head = self.size = 0
        self.step_count = 0  # steps of the B sessions; a seed's periods are step_count * B
        self.updates = 0
        self.owed = 0.0
        self.last_sync = 0
        self.episode_reward = np.zeros(S)
        self.last_episode_reward = np.full(S, np.nan)
        self._reset()

    #: the checkpoint's file name in the unit's folder
    checkpoint = CHECKPOINT
    #: the registered learner that trains with this run (named in its errors)
    learner_name = "dqn_batched"

    @staticmethod
    def actors_of(economy) -> GridActors:
        """The economy's actors and their decisions as this run acts on them."""
        return GridActors.of(economy)

    def make_learner(self, member_seeds: list, gamma: float):
        """The members' networks and their update: our plain-torch :class:`DQNEnsemble`
        (``backend: torch``) or RLlib's DQN learner over one RLModule with a member axis
        (``backend: rllib``, :mod:`marketsai.rl.seed_batched_rllib`)."""
        import torch
        cfg = self.cfg
        common = {"lr": cfg["lr"], "adam_epsilon": cfg["adam_epsilon"], "grad_clip": cfg["grad_clip"],
                  "gamma": gamma, "double_q": cfg["double_q"], "huber": cfg["td_error_loss_fn"] == "huber",
                  "device": cfg["device"]}
        if cfg["backend"] == "rllib":
            from marketsai.rl.seed_batched_rllib import RLlibMembers, learner_group
            return RLlibMembers(learner_group(member_seeds, self.grid.obs_dim, cfg["hiddens"], self.grid.n_actions,
                                              target_network_update_freq=cfg["target_network_update_freq"], **common))
        from marketsai.rl.ensemble import DQNEnsemble
        return DQNEnsemble([torch.Generator().manual_seed(x) for x in member_seeds], self.grid.obs_dim,
                           cfg["hiddens"], self.grid.n_actions, **common)

    # ------------------------------------------------------------ layout
    def to_members(self, x: np.ndarray) -> np.ndarray:
        """``(S, B, n, ...) -> (M, rows, ...)``."""
        if self.per_seed == 1:
            return x.reshape((self.M, self.rows) + x.shape[3:])
        return np.swapaxes(x, 1, 2).reshape((self.M, self.rows) + x.shape[3:])

    def from_members(self, y: np.ndarray) -> np.ndarray:
        """``(M, rows, ...) -> (S, B, n, ...)``."""
        if self.per_seed == 1:
            return y.reshape((self.S, self.B, self.n) + y.shape[2:])
        return np.swapaxes(y.reshape((self.S, self.n, self.B) + y.shape[2:]), 1, 2)

    @property
    def periods(self) -> int:
        return self.step_count * self.B

    # ------------------------------------------------------------ environment
    def _reset(self) -> None:
        self.state = EconomyState.concat([self.econ.initial_state(r, self.B) for r in self.env_rng])
        self.t_episode = 0

    def _observe(self) -> np.ndarray:
        obs = self.econ.observer.observe_actors(self.state)  # (S*B, n, d)
        return obs.reshape(self.S, self.B, self.n, -1).astype(np.float32)

    def _econ_step(self, values: np.ndarray):
        if not self.stochastic:  # the step draws nothing: all seeds' sessions in one call
            self.state, rewards, _ = self.econ.step(self.state, values, self.env_rng[0])
            return rewards
        parts, out = [], []
        for s, rng in enumerate(self.env_rng):
            lo, hi = s * self.B, (s + 1) * self.B
            st, rew, _ = self.econ.step(self.state.sessions(lo, hi), values[lo:hi], rng)
            parts.append(st)
            out.append(rew)
        self.state = EconomyState.concat(parts)
        return np.concatenate(out, axis=0)

    def epsilon(self) -> float:
        if not isinstance(self.cfg["epsilon"], list):  # a constant rate
            return float(self.cfg["epsilon"])
        pts = np.asarray(self.cfg["epsilon"], dtype=float)
        return float(np.interp(self.periods, pts[:, 0], pts[:, 1]))

    def step(self) -> None:
        """One period of every session of every seed, stored in the members' rings."""
        obs = self._observe()  # (S, B, n, d)
        mobs = self.to_members(obs)
        actions = self.explore(mobs)  # (S, B, n, ...)
        values = self.grid.values(actions.reshape((self.S * self.B, self.n) + actions.shape[3:]),
                                  len(self.econ.decisions))
        before = self.state
        rewards = self._econ_step(values)[:, self.econ.actor_index].reshape(self.S, self.B, self.n)
        next_obs = self._observe()
        idx = (self.head + np.arange(self.rows)) % self.buf["obs"].shape[1]
        for column, value in self.transition_columns(before).items():
            self.buf[column][:, idx] = value
        self.buf["obs"][:, idx] = mobs
        self.buf["next_obs"][:, idx] = self.to_members(next_obs)
        self.buf["actions"][:, idx] = self.to_members(actions)
        self.buf["rewards"][:, idx] = self.to_members(rewards.astype(np.float32))
        self.head = int((self.head + self.rows) % self.buf["obs"].shape[1])
        self.size = min(self.size + self.rows, self.buf["obs"].shape[1])
        self.step_count += 1
        self.episode_reward += rewards.mean(axis=(1, 2))
        self.t_episode += 1
        if self.t_episode >= self.cfg["episode_length"]:
            self.last_episode_reward = self.episode_reward / self.t_episode
            self.episode_reward = np.zeros(self.S)
            self._reset()

    def transition_columns(self, before) -> dict:
        """Replay columns beyond the transition, ``(M, rows, ...)`` each, of the step from
        state ``before`` to ``self.state`` (before any episode reset): none here."""
        return {}

    def explore(self, mobs: np.ndarray) -> np.ndarray:
        """Epsilon-greedy actions ``(S, B, n)`` on the members' observations ``(M, rows, d)``,
        each seed's exploration drawn from its own stream."""
        import torch
        q = self.ens.q_values(torch.from_numpy(mobs).to(self.ens.device))
        greedy = self.from_members(q.argmax(dim=-1).cpu().numpy())  # (S, B, n)
        eps, A = self.epsilon(), self.grid.n_actions
        actions = np.empty_like(greedy)
        for s, rng in enumerate(self.explore_rng):
            explore = rng.random((self.B, self.n)) < eps
            random = rng.integers(0, A, size=(self.B, self.n))
            actions[s] = np.where(explore, random, greedy[s])
        return actions

    # ------------------------------------------------------------ learning
    def sample_arrays(self) -> dict:
        """Each member's batch of every replay column, drawn by its seed's replay stream:
        arrays ``(M, batch, ...)``."""
        k = self.cfg["train_batch_size"]
        idx = np.concatenate([rng.integers(0, self.size, size=(self.per_seed, k)) for rng in self.replay_rng])
        m = np.arange(self.M)[:, None]
        return {c: ring[m, idx] for c, ring in self.buf.items()}

    def sample(self):
        """:meth:`sample_arrays` as tensors on the networks' device, in ``DQNEnsemble.update``'s order."""
        import torch
        b = self.sample_arrays()
        return tuple(torch.from_numpy(b[c]).to(self.ens.device) for c in ("obs", "actions", "rewards", "next_obs"))

    def update(self) -> None:
        """One update of every member; the targets are copied every
        ``target_network_update_freq`` periods (by RLlib's learner itself on ``backend: rllib``)."""
        if self.cfg["backend"] == "rllib":
            self.ens.update(self.sample_arrays(), self.periods)
        else:
            self.ens.update(*self.sample())
            if self.periods - self.last_sync >= self.cfg["target_network_update_freq"]:
                self.ens.sync_target()
                self.last_sync = self.periods
        self.updates += 1

    def advance(self, periods: int) -> None:
        """Step and learn until each seed has ``periods`` periods of experience (or more),
        with subnormal floats flushed while it does if the settings say so. A non-finite
        loss or gradient stops it (:class:`~marketsai.errors.NonFiniteLoss`, naming the
        learner, the period and each member's seed and agent) before that update is applied."""
        from marketsai.rl.ensemble import denormals_flushed
        with denormals_flushed(self.cfg["flush_denormal"]):
            try:
                self.learn_until(periods)
            except NonFiniteLoss as err:
                located = err.located(learner=self.learner_name, period=self.periods, updates=self.updates,
                                      names=[self.member_name(m) for m in err.members])
                raise located.with_traceback(err.__traceback__) from None

    def member_name(self, m: int) -> str:
        """Member ``m`` as a person knows it: its seed and agent (or its seed's shared network)."""
        s, j = divmod(m, self.per_seed)
        if self.per_seed == 1 and self.n > 1:
            return f"seed {self.seeds[s]} (its network shared by all agents)"
        return f"seed {self.seeds[s]} agent {self.grid.actors[j]}"

    def learn_until(self, periods: int) -> None:
        """The learning loop of :meth:`advance`: off-policy, ``update_every`` periods per update."""
        cfg = self.cfg
        while self.periods < periods:
            self.step()
            if self.periods >= cfg["learning_starts"] and self.size > 0:
                self.owed += self.B / cfg["update_every"]
                while self.owed >= 1.0:
                    self.update()
                    self.owed -= 1.0

    # ------------------------------------------------------------ policies, checkpoints
    def policies(self) -> list:
        return [seed_policy([self.member_policy(m) for m in seed_members(s, self.per_seed)], self.grid.actors,
                            seed_info(self.seeds[s], s, vars(self), self.B)) for s in range(self.S)]

    def member_policy(self, m: int):
        """Member ``m``'s trained network in numpy (what a policy acts with)."""
        return self.policy_net(self.ens.online.member_arrays(m), self.grid)

    @staticmethod
    def policy_net(layers: list, grid):
        """The policy network of a member's layers ``[(W (in, out), b (out,)), ...]``: here the
        greedy choice on Q-values (a policy export rebuilds it the same way)."""
        return GreedyNet(layers)

    @staticmethod
    def policy_outputs(grid) -> int:
        """The width of a member's policy network's last layer: one Q-value per grid point."""
        return grid.n_actions

    @staticmethod
    def policy_state(settings: dict, ensemble: dict) -> dict:
        """The members' policy networks (a :class:`~marketsai.rl.ensemble.StackedMLP`'s state)
        in a checkpoint's ``ensemble`` state, read without building the learner: the online
        Q-networks (``StackedQModule.q_net`` on ``backend: rllib``)."""
        return learner_module_part(ensemble, "q_net.") if settings["backend"] == "rllib" else ensemble["online"]

    def snapshot(self) -> dict:
        keep = ("head", "size", "step_count", "updates", "owed", "last_sync", "episode_reward",
                "last_episode_reward", "t_episode", "state")
        return {"ensemble": self.ens.state_dict(), "buffers": self.buf, **{k: getattr(self, k) for k in keep},
                "rngs": [[r.bit_generator.state for r in rs] for rs in (self.env_rng, self.explore_rng,
                                                                        self.replay_rng)]}

    def restore(self, snap: dict) -> None:
        self.ens.load_state_dict(snap["ensemble"])
        self.buf = snap["buffers"]
        for k, v in snap.items():
            if k not in ("ensemble", "buffers", "rngs"):
                setattr(self, k, v)
        for rs, states in zip((self.env_rng, self.explore_rng, self.replay_rng), snap["rngs"], strict=True):
            for r, st in zip(rs, states, strict=True):
                r.bit_generator.state = st


def seed_members(s: int, per_seed: int) -> range:
    """The members of the ``s``-th seed of a batch: its agents' networks in the agents' order
    (``policies: agent``), or its one shared network (``per_seed`` 1)."""
    return range(s * per_seed, (s + 1) * per_seed)


def seed_info(seed: int, s: int, counts, sessions: int) -> dict:
    """The ``info`` of the ``s``-th seed's policy (columns of its results rows) from a run's
    counters ``counts`` (``step_count``, ``updates``, ``last_episode_reward``: the run's
    attributes or a checkpoint's snapshot)."""
    return {"seed": int(seed), "periods": int(counts["step_count"]) * sessions, "updates": int(counts["updates"]),
            "reward_last_episode": float(counts["last_episode_reward"][s])}


def learner_module_part(ensemble: dict, prefix: str) -> dict:
    """The parameters under ``prefix`` of the one stacked RLModule in a checkpoint's RLlib
    learner state (``Learner.get_state()``: ``rl_module`` -> module id -> parameter)."""
    (module,) = ensemble["learner"]["rl_module"].values()
    return {k[len(prefix):]: v for k, v in module.items() if k.startswith(prefix)}


def seed_policy(nets: list, actors, info: dict) -> FunctionPolicy:
    """One seed's policy: ``nets`` its members' networks (one per agent of ``actors``, or one
    shared by all), ``info`` its results columns."""
    return FunctionPolicy({a: nets[i if len(nets) > 1 else 0] for i, a in enumerate(actors)}, info=info)


#: settings left out of a checkpoint's key while at their default (``False``): added after
#: runs were checkpointed, so that those runs still resume
KEYLESS_AT_DEFAULT = ("expected_targets", "keep_policies")


def _key(economy, settings, seeds, root_seed) -> str:
    settings = {k: v for k, v in settings.items() if not (k in KEYLESS_AT_DEFAULT and v is False)}
    return json.dumps([economy.to_dict(), settings, [int(s) for s in seeds], int(root_seed)], sort_keys=True,
                      default=str)


def train_batched(economy, settings: dict, seeds, run_dir=None, *, root_seed: int = 0,
                  run_class: type = BatchedRun) -> BatchedRun:
    """Train ``seeds`` as one batch (a ``run_class``: :class:`BatchedRun` for DQN); with
    ``run_dir``, checkpoint there and resume from it."""
    import torch
    run = run_class(economy, settings, seeds, root_seed)
    path = None if run_dir is None else Path(run_dir) / run.checkpoint
    key = _key(economy, settings, seeds, root_seed)
    saved = None  # the period of the checkpoint a rerun would resume from
    if path is not None and path.is_file():
        snap = torch.load(path, weights_only=False)
        if snap.get("key") == key:
            run.restore(snap["run"])
            saved = run.periods

    every, total = settings["checkpoint_every"], settings["periods"]
    journal = TrainJournal.open(run_dir, key, run.periods) if run.periods < total else None

    def save():
        nonlocal saved
        if path is not None:
            tmp = path.with_suffix(".tmp")
            torch.save({"key": key, "run": run.snapshot()}, tmp)
            os.replace(tmp, path)
            saved = run.periods
        if journal is not None:
            journal.record(run.periods, finished=run.periods >= total)
        if settings.get("keep_policies") and run_dir is not None:
            kept_policies.keep(run_dir, run.periods, None if journal is None else journal.seconds, run.policies())

    while run.periods < total:
        target = total if not every else min(total, (run.periods // every + 1) * every)
        try:
            run.advance(target)
        except NonFiniteLoss as err:
            raise err.located(checkpoint=kept_checkpoint(path, saved)).with_traceback(err.__traceback__) from None
        if run.periods < total:
            save()
    save()
    return run


def kept_checkpoint(path, saved: int | None) -> str:
    """What a stopped run leaves to resume from: its checkpoint ``path`` of period ``saved``."""
    if path is None:
        return "no checkpoint (no run folder)"
    if saved is None:
        return f"no checkpoint was written yet ({path}): a rerun starts the unit over"
    return (f"the last checkpoint, {path} (period {saved:,}), is kept and nothing past it was written: fix the cause "
            "in the code and rerun the same command to resume from it (changed learner settings start the unit over)")


@learners.register("dqn_batched")
class BatchedDQN(Learner):
    """DQN, all seeds of a unit as one batched ensemble (see the module docstring)."""

    settings = SETTINGS
    seeds_per_unit = 8
    run_class = BatchedRun
    #: whether every update is RLlib's (no ``backend`` setting)
    rllib_only = False

    def check(self, economy, settings):
        if isinstance(economy, dict):  # the runner checks before it builds the economy
            from marketsai.economy import Economy
            economy = Economy.from_dict(economy)
        self.run_class_for(economy).actors_of(economy)
        if self.rllib_only or settings["backend"] == "rllib":
            import importlib.util
            if importlib.util.find_spec("ray") is None:
                raise SpecError("backend rllib needs Ray's RLlib (the rllib extra)", path="backend",
                                value="rllib", allowed="torch, or install marketsai[rllib]")
        if settings["device"] != "cpu":
            import torch
            if not torch.cuda.is_available():
                raise SpecError("no CUDA device here", path="device", value=settings["device"], allowed="cpu")
        return settings

    def run_class_for(self, economy) -> type:
        """The run that trains ``economy`` (:attr:`run_class`; a learner with one run per kind
        of decision chooses here)."""
        return self.run_class

    def is_noisy(self, settings: dict) -> bool:
        # RLlib's logs: to the run's log file unless --verbose
        return self.rllib_only or settings.get("backend") == "rllib"

    def initial_policy(self, economy, settings: dict, seed: int = 0):
        """Seed ``seed``'s untrained greedy networks (root seed 0): the ``untrained`` floor."""
        from marketsai.params import validate_mapping
        cfg = validate_mapping(settings, self.settings, "learner.settings", "settings")
        return self.run_class_for(economy)(economy, cfg, [seed]).policies()[0]

    def keeps_policies(self, settings: dict) -> bool:
        return bool(settings.get("keep_policies"))

    def kept_policies(self, run_dir) -> list[dict]:
        return kept_policies.kept(run_dir)

    def train(self, economy, settings, seeds, run_dir, *, root_seed=0, threads=None, address=None):
        import torch
        if threads:
            torch.set_num_threads(int(threads))
        return train_batched(economy, settings, seeds, run_dir, root_seed=root_seed,
                             run_class=self.run_class_for(economy)).policies()


__all__ = ["BatchedDQN", "BatchedRun", "GreedyNet", "SETTINGS", "seed_policy", "train_batched"]
