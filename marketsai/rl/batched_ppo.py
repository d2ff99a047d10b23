"""``ppo_batched``: PPO with the seeds as a batch dimension, inside RLlib -- on a grid or on
intervals.

Why: as ``dqn_batched`` (:mod:`marketsai.rl.batched_dqn`) for PPO: the ``S`` seeds of a
unit, and with ``policies: agent`` every agent of every seed, are the members of one
RLModule trained by RLlib's own PPO learner and loss (:mod:`marketsai.rl.seed_batched_ppo`).

The run is :class:`~marketsai.rl.batched_dqn.BatchedRun`'s (environment stepping, per-seed
streams, checkpoints and resume in ``RUN_DIR/ppo_batched.pt``) with its rings holding one
rollout of ``rollout_periods`` periods. Each seed samples its actions from its members'
policies with its own exploration stream: a grid index from the categorical policy
(:class:`BatchedPPORun`, one grid decision an agent), or on interval decisions (one or
several an agent, every agent on the same intervals: a firm's price, a planner's shares, a
household's savings) a draw of the diagonal Gaussian, stored as drawn and mapped onto the
intervals as RLlib's action normalisation does, clipped (:class:`BatchedPPOIntervalRun`; the
trained policy plays the Gaussian's location, mapped the same way -- RLlib's deterministic
inference). After a rollout, per member: the old policy's
log-probabilities and logits and the values (one forward pass), GAE (``gamma``,
``lambda_``; an episode's truncation bootstraps from the value of its last observation and
stops the advantage there), advantages standardised over the member's own rows (RLlib's
connector standardises over the module's batch), then ``num_epochs`` passes over
minibatches of ``minibatch_size`` rows cut from each member's own permutation (its seed's
replay stream): one RLlib update a rollout, a gradient step a minibatch.

The KL penalty (``use_kl_loss``, ``kl_coeff``, ``kl_target``) is RLlib's, with one adaptive
coefficient per member (:mod:`marketsai.rl.seed_batched_ppo`), adapted once a rollout as
RLlib's PPO adapts once a training iteration. It is *off* by default, unlike RLlib's
``PPO`` (set ``use_kl_loss: true`` for RLlib's default): ``ppo_batched`` trained without it
before the setting existed, and a run folder made then is resumed as if its config had the
new settings at their defaults (``docs/experiments.md``) -- its finished chunks count as
done -- so only the old behaviour as default keeps such a folder from mixing units trained
without the penalty and units trained with it. Nothing documented changes either way (no
experiment file uses ``ppo_batched``; ``docs/scaling.md`` quotes only the update benchmark,
whose learner runs without the penalty).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from marketsai.errors import SpecError
from marketsai.learners.base import learners
from marketsai.params import Check, Param, nonnegative, positive, positive_int, schedule_of
from marketsai.rl.batched_dqn import SETTINGS as DQN_SETTINGS
from marketsai.rl.batched_dqn import BatchedDQN, BatchedRun, learner_module_part
from marketsai.rl.batched_sac import IntervalActors, MeanActionNet, one_grid_decision_each

CHECKPOINT = "ppo_batched.pt"

_SHARED = ("periods", "sessions", "episode_length", "policies", "hiddens", "gamma", "checkpoint_every", "device",
           "flush_denormal", "keep_policies")
SETTINGS = {k: DQN_SETTINGS[k] for k in _SHARED} | {
    "lr": Param(5e-5, schedule_of(positive), "Adam's learning rate (RLlib's PPO default); a schedule "
                "[[period, rate], ...] is stepped by RLlib's Scheduler with the periods a seed has trained"),
    "lambda_": Param(1.0, Check(lambda v: isinstance(v, (int, float)) and 0 <= v <= 1, "a number in [0, 1]"),
                     "GAE's lambda (RLlib's default 1)"),
    "clip_param": Param(0.3, positive, "the surrogate's clipping (RLlib's default)"),
    "vf_clip_param": Param(10.0, positive, "the value loss's clipping (RLlib's default)"),
    "vf_loss_coeff": Param(1.0, nonnegative, "the value loss's weight"),
    "entropy_coeff": Param(0.0, schedule_of(nonnegative), "the entropy bonus's weight (or a schedule, as lr)"),
    "grad_clip": dataclasses.replace(DQN_SETTINGS["grad_clip"], default=None),
    "rollout_periods": Param(200, positive_int, "periods of every session between updates (one rollout)"),
    "minibatch_size": Param(128, positive_int, "rows of a network's minibatch (at most its rollout's rows)"),
    "num_epochs": Param(10, positive_int, "passes over a rollout"),
    "use_kl_loss": Param(False, DQN_SETTINGS["double_q"].check, "PPO's adaptive KL penalty, one coefficient per "
                         "network (RLlib's default is on; off here, as ppo_batched ran before the setting)"),
    "kl_coeff": Param(0.2, nonnegative, "the KL penalty's initial coefficient (RLlib's default)"),
    "kl_target": Param(0.01, positive, "the KL the coefficient adapts towards (RLlib's default): x1.5 after a "
                       "rollout whose last minibatch's KL is above 2 kl_target, x0.5 below kl_target / 2"),
}


class BatchedPPORun(BatchedRun):
    """:class:`~marketsai.rl.batched_dqn.BatchedRun` with PPO's rollouts and RLlib's PPO update."""

    checkpoint = CHECKPOINT
    learner_name = "ppo_batched"

    def __init__(self, economy, settings: dict, seeds, root_seed: int = 0):
        n = len(economy.actor_index)
        rows = settings["sessions"] * (1 if settings["policies"] == "agent" else n)
        if settings["minibatch_size"] > settings["rollout_periods"] * rows:
            raise SpecError("a minibatch larger than a network's rollout", path="learner.settings.minibatch_size",
                            value=settings["minibatch_size"],
                            allowed=f"at most rollout_periods x rows = {settings['rollout_periods'] * rows}")
        super().__init__(economy, settings | {"buffer_capacity": settings["rollout_periods"] * rows}, seeds, root_seed)

    def make_learner(self, member_seeds: list, gamma: float):
        from marketsai.rl.seed_batched_ppo import RLlibPPOMembers, ppo_learner_group
        cfg, self.gamma = self.cfg, gamma
        interval = isinstance(self.grid, IntervalActors)
        return RLlibPPOMembers(ppo_learner_group(
            member_seeds, self.grid.obs_dim, cfg["hiddens"], None if interval else self.grid.n_actions, lr=cfg["lr"],
            clip_param=cfg["clip_param"], vf_clip_param=cfg["vf_clip_param"], vf_loss_coeff=cfg["vf_loss_coeff"],
            entropy_coeff=cfg["entropy_coeff"], grad_clip=cfg["grad_clip"], use_kl_loss=cfg["use_kl_loss"],
            kl_coeff=cfg["kl_coeff"], kl_target=cfg["kl_target"], device=cfg["device"],
            action_dim=self.grid.dim if interval else 1))

    @staticmethod
    def policy_state(settings: dict, ensemble: dict) -> dict:
        """The policies (``StackedPPOModule.pi``) in a checkpoint's learner state."""
        return learner_module_part(ensemble, "pi.")

    def explore(self, mobs: np.ndarray) -> np.ndarray:
        """Actions ``(S, B, n)`` sampled from each member's policy (inverse CDF), each seed's
        uniforms from its own exploration stream."""
        logits = self.ens.dist_inputs(mobs)
        p = np.exp(logits - logits.max(axis=-1, keepdims=True))
        cdf = np.cumsum(p / p.sum(axis=-1, keepdims=True), axis=-1)
        u = np.concatenate([rng.random((self.per_seed, self.rows, 1)) for rng in self.explore_rng])
        actions = np.minimum((u > cdf).sum(axis=-1), self.grid.n_actions - 1)
        return self.from_members(actions)

    def learn_until(self, periods: int) -> None:
        """Step until each seed has ``periods`` periods; learn after every full rollout."""
        while self.periods < periods:
            self.step()
            if self.step_count % self.cfg["rollout_periods"] == 0:
                self.learn()

    @staticmethod
    def log_prob(inputs: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """The log-probability ``(M, R)`` of ``actions`` under the categorical policies of logits
        ``inputs (M, R, A)``."""
        shifted = inputs - inputs.max(axis=-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        return np.take_along_axis(log_probs, actions[..., None], axis=-1)[..., 0]

    def rollout(self) -> dict:
        """The rollout's loss columns per member ``(M, T * rows, ...)``, in time order."""
        cfg, T, M = self.cfg, self.cfg["rollout_periods"], self.M
        obs, actions, rewards = self.buf["obs"], self.buf["actions"], self.buf["rewards"]
        logits, values = self.ens.evaluate(obs)
        next_values = self.ens.values(self.buf["next_obs"])
        logp = self.log_prob(logits, actions)
        delta = (rewards + self.gamma * next_values - values).reshape(M, T, self.rows)
        first = self.step_count - T  # the rollout's first step, counted from the run's start
        ends = (first + np.arange(T) + 1) % cfg["episode_length"] == 0  # the step truncates its episode
        adv, last = np.zeros_like(delta), np.zeros_like(delta[:, 0])
        for t in range(T - 1, -1, -1):
            last = delta[:, t] + (0.0 if ends[t] else self.gamma * cfg["lambda_"]) * last
            adv[:, t] = last
        adv = adv.reshape(M, -1)
        targets = adv + values
        adv = (adv - adv.mean(axis=1, keepdims=True)) / np.maximum(adv.std(axis=1, keepdims=True), 1e-4)
        return {"obs": obs, "actions": actions, "logp": logp.astype(np.float32), "logits": logits,
                "advantages": adv.astype(np.float32), "value_targets": targets.astype(np.float32)}

    def learn(self) -> None:
        """``num_epochs`` passes over the rollout in minibatches, each member's own: one RLlib
        update that steps on each minibatch in turn."""
        data, k = self.rollout(), self.cfg["minibatch_size"]
        rows, members = data["obs"].shape[1], np.arange(self.M)[:, None]
        per_epoch = rows // k
        idx = np.concatenate([np.concatenate([np.stack([rng.permutation(rows) for _ in range(self.per_seed)])
                                              for rng in self.replay_rng])[:, :per_epoch * k]
                              for _ in range(self.cfg["num_epochs"])], axis=1)
        self.ens.update({c: v[members, idx] for c, v in data.items()}, self.periods,
                        minibatches=self.cfg["num_epochs"] * per_epoch)
        self.updates += self.cfg["num_epochs"] * per_epoch


class BatchedPPOIntervalRun(BatchedPPORun):
    """PPO on intervals: diagonal-Gaussian acting, RLlib's PPO loss on ``TorchDiagGaussian``."""

    @staticmethod
    def actors_of(economy) -> IntervalActors:
        return IntervalActors.of(economy, learner="ppo_batched")

    def explore(self, mobs: np.ndarray) -> np.ndarray:
        """Actions ``(S, B, n, D)`` on RLlib's normalised scale: each member's location plus its
        scale times standard normals from its seed's exploration stream (unclipped, as RLlib
        stores them; :meth:`IntervalActors.values` clips what the economy receives)."""
        inputs = self.ens.dist_inputs(mobs)
        D = self.grid.dim
        noise = np.concatenate([rng.standard_normal((self.per_seed, self.rows, D), dtype=np.float32)
                                for rng in self.explore_rng])
        actions = inputs[..., :D] + np.exp(inputs[..., D:]) * noise
        return self.from_members(actions.astype(np.float32))

    @staticmethod
    def log_prob(inputs: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """The log-density ``(M, R)`` of ``actions (M, R, D)`` under the diagonal Gaussians of
        ``inputs (M, R, 2 D)`` (locations, then log-stds: RLlib's ``TorchDiagGaussian``)."""
        D = actions.shape[-1]
        loc, log_std = inputs[..., :D].astype(np.float64), inputs[..., D:].astype(np.float64)
        z = (actions.astype(np.float64) - loc) / np.exp(log_std)
        return (-0.5 * z * z - log_std - 0.5 * np.log(2.0 * np.pi)).sum(axis=-1)

    @staticmethod
    def policy_net(layers: list, grid: IntervalActors) -> MeanActionNet:
        """The Gaussian's location (unsquashed), mapped onto the intervals and clipped (RLlib's
        deterministic action)."""
        return MeanActionNet(layers, grid, squash=False)

    @staticmethod
    def policy_outputs(grid) -> int:
        """The policy's outputs: the Gaussian's location and log-std of each decision."""
        return 2 * grid.dim


@learners.register("ppo_batched")
class BatchedPPO(BatchedDQN):
    """PPO on a grid or on intervals, all seeds of a unit as one RLModule in RLlib (see the
    module docstring)."""

    settings = SETTINGS
    rllib_only = True
    run_class = BatchedPPORun

    def run_class_for(self, economy) -> type:
        return BatchedPPORun if one_grid_decision_each(economy) else BatchedPPOIntervalRun


__all__ = ["BatchedPPO", "BatchedPPOIntervalRun", "BatchedPPORun", "SETTINGS"]
