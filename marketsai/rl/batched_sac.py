"""``sac_batched``: SAC with the seeds as a batch dimension, inside RLlib -- prices from an
interval or from a grid.

Why: as ``dqn_batched`` (:mod:`marketsai.rl.batched_dqn`) for SAC: the ``S`` seeds of a
unit, and with ``policies: agent`` every agent of every seed, are the members of one
RLModule trained by RLlib's own SAC learner and loss (:mod:`marketsai.rl.seed_batched_sac`):
one update step for all. The economy's decisions choose the loss: interval decisions (one
or several an agent, each agent with the same intervals: a firm's price, a planner's ``d``
savings shares, a household's savings and hours), RLlib's continuous SAC over an action of
that many dimensions (:class:`BatchedSACRun`); one grid decision per agent, RLlib's
discrete SAC (:class:`BatchedSACGridRun`).

Both runs are :class:`~marketsai.rl.batched_dqn.BatchedRun`'s (environment stepping, replay
rings, per-seed streams, checkpoints and resume in ``RUN_DIR/sac_batched.pt``) with SAC's
update (:class:`SACRun`) and their own acting:

* on an interval, each seed's actions are sampled from its members' squashed Gaussians
  with draws from its own exploration stream, and the two draws of each update's loss come
  from its own replay stream with its batch. Actions are stored on RLlib's scale ``[-1, 1]``
  and mapped linearly onto each decision's interval, as RLlib's action normalisation does; the
  trained policy plays the actor's mean, squashed and mapped the same way;
* on a grid, each seed's actions are sampled from its members' categorical policies (the
  actor's softmax) with uniform draws from its own exploration stream; the discrete loss
  takes expectations over the actions, so an update draws nothing but its batch. The
  trained policy plays the actor's most probable price (RLlib's greedy inference).

Route on the grid (``docs/scaling.md``): RLlib's discrete loss over the stacked module, its
critic, twin-critic and actor terms unchanged with each member's temperature on its own rows
(a column), and its temperature term -- the one place where a per-member temperature of
any one shape would couple the members -- evaluated on rows by the same formula. Why not
a plain-torch discrete SAC loss beside RLlib's (as ``dqn_batched``'s ``backend: torch``):
this keeps RLlib's loss for everything it computes per row, and a test holds one member
equal to RLlib's own ``SACTorchLearner`` on its default module.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from marketsai.errors import SpecError
from marketsai.learners.base import learners
from marketsai.params import Check, Param, nonnegative, positive, schedule_of
from marketsai.rl import expected_targets
from marketsai.rl.batched_dqn import SETTINGS as DQN_SETTINGS
from marketsai.rl.batched_dqn import (
    BatchedDQN,
    BatchedRun,
    GreedyNet,
    GridActors,
    learner_module_part,
)

CHECKPOINT = "sac_batched.pt"

_SHARED = ("periods", "sessions", "episode_length", "policies", "hiddens", "gamma", "train_batch_size",
           "buffer_capacity", "learning_starts", "update_every", "checkpoint_every", "device", "flush_denormal",
           "keep_policies")
SETTINGS = {k: DQN_SETTINGS[k] for k in _SHARED} | {
    "actor_lr": Param(3e-4, schedule_of(positive), "the actor's Adam learning rate; a schedule [[period, rate], ...] is "
                      "stepped by RLlib's Scheduler with the periods a seed has trained (an annealed rate)"),
    "critic_lr": Param(3e-4, schedule_of(positive), "the twin critics' Adam learning rate (or a schedule, as actor_lr)"),
    "alpha_lr": Param(3e-4, schedule_of(nonnegative), "the temperature's Adam learning rate (0: alpha stays initial_alpha; or a "
                      "schedule, as actor_lr: ending at 0 freezes the temperature where it is then)"),
    "initial_alpha": Param(1.0, positive, "the temperature at the start (RLlib's default 1)"),
    "target_entropy": Param(None, Check(lambda v: v is None or (isinstance(v, (int, float)) and not isinstance(
        v, bool)), "a number or null"), "the temperature's entropy target; null: RLlib's auto (-1 for one price)"),
    "tau": Param(5e-3, Check(lambda v: isinstance(v, (int, float)) and 0 < v <= 1, "a number in (0, 1]"),
                 "polyak weight of the critics' targets, every update (RLlib's default)"),
    "grad_clip": dataclasses.replace(DQN_SETTINGS["grad_clip"], default=None),
    "expected_targets": Param(False, Check(lambda v: isinstance(v, bool), "true or false"),
                              "true: the critics' targets average over every next state of the economy's "
                              "aggregate chain with its probabilities, not one sampled draw (interval decisions; "
                              "marketsai.rl.expected_targets); false: RLlib's sampled target"),
}


@dataclasses.dataclass(frozen=True)
class IntervalActors:
    """The economy's actors, each with the same ``D`` interval decisions (the ``j``-th of
    every actor on the same interval): one price a firm, ``d`` savings shares a planner."""

    columns: np.ndarray  # (n, D) decision columns of each actor
    low: np.ndarray  # (D,) each decision's interval
    high: np.ndarray
    actors: tuple
    obs_dim: int
    #: an action in the replay rings: RLlib's normalised values in [-1, 1]
    action_dtype = np.float32

    @property
    def dim(self) -> int:
        """Decisions an actor: the action's dimensions."""
        return int(self.columns.shape[1])

    @property
    def action_shape(self) -> tuple:
        return (self.dim,)

    @classmethod
    def of(cls, econ, learner: str = "sac_batched") -> IntervalActors:
        """The actors of ``econ``; refused (naming ``learner``) unless every actor has the same
        interval decisions and observations of one width."""
        cols, bounds = [], set()
        for i in econ.actor_index:
            own = econ.layout.agent_cols[i]
            decs = [econ.decisions[c] for c in own]
            if len(own) == 0 or any(d.kind != "interval" for d in decs):
                raise SpecError(f"{learner} needs interval decisions only, or one grid decision per agent",
                                path="economy.agents", value=econ.agents[i],
                                allowed="agents with action: {kind: interval} (all) or {kind: grid} (all)")
            cols.append(list(own))
            bounds.add(tuple((float(d.low), float(d.high)) for d in decs))
        if len(bounds) != 1:
            raise SpecError(f"{learner} needs the same intervals for every agent", path="economy.agents",
                            value=sorted(bounds), allowed="agents with as many decisions, each on the same "
                                                          "low and high as the other agents'")
        dims = {int(np.prod(econ.observer.spaces[a].shape)) for a in econ.actors}
        if len(dims) != 1:
            raise SpecError(f"{learner} needs observations of one width", path="economy.agents",
                            value=sorted(dims), allowed="agents observing the same number of values")
        (each,) = bounds
        low, high = (np.array(v, dtype=float) for v in zip(*each, strict=True))
        return cls(np.array(cols, dtype=np.int64), low, high, tuple(econ.actors), dims.pop())

    def unnormalise(self, a: np.ndarray) -> np.ndarray:
        """RLlib's action normalisation undone, decision by decision (the last axis):
        ``[-1, 1] -> [low, high]``, clipped to the interval as RLlib's ``unsquash_action``
        clips (a squashed SAC action is inside already; a Gaussian PPO draw need not be)."""
        return np.clip(self.low + (np.asarray(a, dtype=float) + 1.0) * 0.5 * (self.high - self.low),
                       self.low, self.high)

    def values(self, actions: np.ndarray, n_decisions: int) -> np.ndarray:
        """Decision values ``(R, n_decisions)`` of normalised actions ``(R, n, D)``."""
        out = np.zeros((actions.shape[0], n_decisions))
        out[:, self.columns] = self.unnormalise(actions)
        return out


class MeanActionNet(GreedyNet):
    """One trained actor in numpy: observations ``(B, d)`` -> the Gaussian's mean action,
    squashed by ``tanh`` (SAC's squashed Gaussian) or not (PPO's Gaussian: ``squash`` false),
    mapped onto the intervals and clipped ``(B, D)`` (float64, the economy's units)."""

    #: whether the mean is squashed (a class default: networks pickled before the attribute squash)
    squash = True

    def __init__(self, layers, actors: IntervalActors, squash: bool = True):
        super().__init__(layers)
        self.actors, self.squash = actors, squash

    def __call__(self, obs: np.ndarray) -> np.ndarray:  # the actor's outputs: (loc, log-std), D each
        loc = self.q(obs)[:, :self.actors.dim]
        return self.actors.unnormalise(np.tanh(loc) if self.squash else loc)


class SACRun(BatchedRun):
    """:class:`~marketsai.rl.batched_dqn.BatchedRun` with RLlib's SAC update (either loss)."""

    checkpoint = CHECKPOINT
    learner_name = "sac_batched"

    def __init__(self, economy, settings: dict, seeds, root_seed: int = 0):
        rings = None
        if settings["expected_targets"]:  # refused before the learner is built
            expected_targets.check_economy(economy, on_grid=not isinstance(self, BatchedSACRun))
            grid = self.actors_of(economy)
            members = len(seeds) * (len(grid.actors) if settings["policies"] == "agent" else 1)
            rings = expected_targets.ring_columns(economy, members, settings["buffer_capacity"], grid.obs_dim)
        super().__init__(economy, settings, seeds, root_seed)
        if rings is not None:
            self.buf |= rings

    def make_learner(self, member_seeds: list, gamma: float):
        from marketsai.rl.seed_batched_sac import RLlibSACMembers, sac_learner_group
        cfg = self.cfg
        return RLlibSACMembers(sac_learner_group(
            member_seeds, self.grid.obs_dim, cfg["hiddens"], actor_lr=cfg["actor_lr"], critic_lr=cfg["critic_lr"],
            alpha_lr=cfg["alpha_lr"], initial_alpha=cfg["initial_alpha"], target_entropy=cfg["target_entropy"],
            tau=cfg["tau"], grad_clip=cfg["grad_clip"], gamma=gamma, device=cfg["device"],
            n_actions=self.grid.n_actions if isinstance(self.grid, GridActors) else None,
            action_dim=1 if isinstance(self.grid, GridActors) else self.grid.dim))

    @staticmethod
    def policy_state(settings: dict, ensemble: dict) -> dict:
        """The actors (``StackedSACModule.pi``) in a checkpoint's learner state."""
        return learner_module_part(ensemble, "pi.")

    def update(self) -> None:
        """One RLlib SAC update of every member (targets: polyak, every update)."""
        self.ens.update(self.sample_arrays(), self.periods)
        self.updates += 1


class BatchedSACRun(SACRun):
    """SAC on an interval: squashed-Gaussian acting, RLlib's continuous loss."""

    @staticmethod
    def actors_of(economy) -> IntervalActors:
        return IntervalActors.of(economy)

    def transition_columns(self, before) -> dict:
        """With ``expected_targets``: every actor's next observation under each next chain
        state and the chain row's probabilities (:mod:`marketsai.rl.expected_targets`)."""
        if not self.cfg["expected_targets"]:
            return {}
        each, probs = expected_targets.next_columns(self.econ, before, self.state)
        each = each.reshape((self.S, self.B) + each.shape[1:])
        probs = np.broadcast_to(probs.reshape(self.S, self.B, 1, -1), (self.S, self.B, self.n, probs.shape[-1]))
        return {expected_targets.NEXT_OBS_EACH: self.to_members(each),
                expected_targets.NEXT_PROBS: self.to_members(probs)}

    def explore(self, mobs: np.ndarray) -> np.ndarray:
        """Actions ``(S, B, n, D)`` sampled from each member's policy, each seed's draws
        from its own exploration stream."""
        noise = np.concatenate([rng.standard_normal((self.per_seed, self.rows, self.grid.dim), dtype=np.float32)
                                for rng in self.explore_rng])
        return self.from_members(self.ens.actions(mobs, noise))

    def sample_arrays(self) -> dict:
        """Each member's batch and the loss's two draws (``noise``, ``noise_next``), each
        seed's from its own replay stream."""
        batch = super().sample_arrays()
        k, dim = self.cfg["train_batch_size"], self.grid.dim
        draws = np.concatenate([rng.standard_normal((self.per_seed, k, 2 * dim), dtype=np.float32)
                                for rng in self.replay_rng])
        batch["noise"], batch["noise_next"] = draws[..., :dim], draws[..., dim:]
        return batch

    @staticmethod
    def policy_net(layers: list, grid: IntervalActors) -> MeanActionNet:
        """The actor's mean action, squashed and mapped onto the interval."""
        return MeanActionNet(layers, grid)

    @staticmethod
    def policy_outputs(grid) -> int:
        """The actor's outputs: the Gaussian's location and log-std of each decision."""
        return 2 * grid.dim


class BatchedSACGridRun(SACRun):
    """SAC on a grid: categorical acting, RLlib's discrete loss; the trained policy is the
    actor's greedy choice (``BatchedRun.member_policy`` on the actors' logits)."""

    def explore(self, mobs: np.ndarray) -> np.ndarray:
        """Grid indices ``(S, B, n)`` sampled from each member's policy, each seed's uniform
        draws from its own exploration stream."""
        uniform = np.concatenate([rng.random((self.per_seed, self.rows)) for rng in self.explore_rng])
        return self.from_members(self.ens.choices(mobs, uniform))


def one_grid_decision_each(economy) -> bool:
    """Whether every actor of ``economy`` has exactly one decision, on a grid."""
    return all(len(own) == 1 and economy.decisions[own[0]].kind == "grid"
               for own in (economy.layout.agent_cols[i] for i in economy.actor_index))


@learners.register("sac_batched")
class BatchedSAC(BatchedDQN):
    """SAC on an interval or a grid, all seeds of a unit as one RLModule in RLlib (see the
    module docstring)."""

    settings = SETTINGS
    rllib_only = True
    run_class = BatchedSACRun

    def run_class_for(self, economy) -> type:
        return BatchedSACGridRun if one_grid_decision_each(economy) else BatchedSACRun

    def check(self, economy, settings):
        settings = super().check(economy, settings)
        if settings["expected_targets"]:
            if isinstance(economy, dict):
                from marketsai.economy import Economy
                economy = Economy.from_dict(economy)
            expected_targets.check_economy(economy, on_grid=self.run_class_for(economy) is BatchedSACGridRun)
        return settings


__all__ = ["BatchedSAC", "BatchedSACGridRun", "BatchedSACRun", "IntervalActors", "SACRun", "SETTINGS"]
