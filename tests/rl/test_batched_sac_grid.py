"""``sac_batched`` on the price grid: RLlib's discrete SAC loss over one RLModule with a member
axis trains each seed as it would be trained alone (issue 20 item 2, for SAC on the grid), and
one member is what RLlib's own ``SACTorchLearner`` on its default module makes of it.

Small and fast: the Calvano duopoly on its 15-point grid, one session per seed, 16x16
networks, 100 updates; a local learner group (``num_learners: 0``).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("ray.rllib")

import rl_helpers as helpers  # noqa: E402

from marketsai.rl.batched_dqn import train_batched  # noqa: E402
from marketsai.rl.batched_sac import BatchedSAC, BatchedSACGridRun  # noqa: E402
from marketsai.rl.seed_batched_sac import RLlibSACMembers, sac_config, sac_learner_group  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: the learners' training in the learner-level tests: the critics' gradients clipped, the
#: temperature's not (its gradient, -(sum_a p log p + target_entropy), stays below 1 near the
#: uniform policy over 5 actions; clipped, both learners of the independence test would take
#: the same unit step)
TRAINING = {"actor_lr": 1e-3, "critic_lr": 1e-3, "alpha_lr": 1e-2, "initial_alpha": 0.5, "target_entropy": 1.0,
            "tau": 0.1, "grad_clip": 1.0, "gamma": 0.9}


def train(economy, seeds, root_seed=5, **kw):
    return train_batched(economy, helpers.batched_sac_settings(**kw), seeds, root_seed=root_seed, run_class=BatchedSACGridRun)


def batches(members: int, n: int, k: int = 8, d: int = 2, actions: int = 5, seed: int = 0) -> list:
    gen = np.random.default_rng(seed)
    return [{"obs": gen.normal(size=(members, k, d)).astype(np.float32),
             "actions": gen.integers(0, actions, (members, k)),
             "rewards": (3 * gen.normal(size=(members, k))).astype(np.float32),
             "next_obs": gen.normal(size=(members, k, d)).astype(np.float32)} for _ in range(n)]


def test_sac_grid_batched_seeds_equal_seeds_alone(duopoly):
    assert BatchedSAC().run_class_for(duopoly) is BatchedSACGridRun
    assert helpers.assert_sac_seeds_alone(train, duopoly).ens.module.discrete


def test_one_member_is_rllibs_own_discrete_sac_learner():
    """One member through the stacked module and our learner, and the same weights in RLlib's
    default SAC module through its own ``SACTorchLearner`` (discrete loss, temperature
    loss included), on the same batches: the same actor, critics, targets and temperature."""
    from marketsai.rl.replay import transitions
    from marketsai.rl.seed_batched_rllib import MODULE_ID

    ours = RLlibSACMembers(sac_learner_group([7], 2, [16, 16], n_actions=5, **TRAINING))
    group, learner, theirs = helpers.rllib_default_learner(sac_config(**TRAINING))

    def layers(encoder, head):  # RLlib's default: an MLP encoder (ReLU after each layer) and a linear head
        return [encoder.net.mlp[0], encoder.net.mlp[2], head.net.mlp[0]]
    pairs = {"pi": ("pi_encoder", "pi"), "qf": ("qf_encoder", "qf"), "qf_twin": ("qf_twin_encoder", "qf_twin"),
             "target_qf": ("target_qf_encoder", "target_qf"),
             "target_qf_twin": ("target_qf_twin_encoder", "target_qf_twin")}

    def rllib_layers(name):
        enc, head = pairs[name]
        return layers(getattr(theirs, enc), getattr(theirs, head))
    with torch.no_grad():
        for name in pairs:
            for lin, (w, b) in zip(rllib_layers(name), getattr(ours.module, name).member_arrays(0), strict=True):
                lin.weight.copy_(torch.from_numpy(w.T))
                lin.bias.copy_(torch.from_numpy(b))
    for t, batch in enumerate(batches(1, 6, k=16), start=1):
        ours.update(batch, t)
        group.update(batch=transitions_batch(transitions, batch, MODULE_ID), timesteps=timesteps(t))
    for name in pairs:
        for lin, (w, b) in zip(rllib_layers(name), getattr(ours.module, name).member_arrays(0), strict=True):
            helpers.assert_close([lin.weight.detach().numpy().T, lin.bias.detach().numpy()], [w, b])
    helpers.assert_close([learner.curr_log_alpha[MODULE_ID].detach().numpy()], [ours.log_alpha.detach().numpy()])
    assert not np.isclose(ours.log_alpha.item(), np.log(0.5))  # the temperature moved


def transitions_batch(transitions, batch, module_id):
    from ray.rllib.policy.sample_batch import MultiAgentBatch
    flat = {c: v[0] for c, v in batch.items()}
    return MultiAgentBatch({module_id: transitions(flat["obs"], flat["actions"], flat["rewards"], flat["next_obs"])},
                           env_steps=len(flat["rewards"]))


def timesteps(t: int) -> dict:
    from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME
    return {NUM_ENV_STEPS_SAMPLED_LIFETIME: t}


def test_a_loss_on_one_grid_member_leaves_the_others_untouched():
    """Two learners, the same batches except member 0's rewards and observations: every
    other member's weights, targets, temperature and Adam moments are bit-identical; member
    0's differ, its temperature included."""
    M = 3
    make = lambda: RLlibSACMembers(sac_learner_group([11, 12, 13], 2, [16, 16], n_actions=5, **TRAINING))  # noqa: E731
    a, b = make(), make()

    def bump(batch):
        batch["rewards"][0] += 1e3
        batch["obs"][0] += 1.0
    helpers.bumped_updates(a, b, batches(M, 4), bump)
    helpers.assert_only_member_0_differs(a, b, M)


def test_a_nearly_deterministic_grid_actor_still_learns():
    """Member 0's actor puts probability exp(-200) -- 0 in float32 -- on four of its five
    actions. Its critics and temperature still move in an update and every weight stays
    finite; with RLlib's ``softmax(...).log()`` that update's losses were NaN, zeroed by
    RLlib's learner, and member 0 stopped learning (the 500,000-period grid study)."""
    ours = RLlibSACMembers(sac_learner_group([7, 8], 2, [16, 16], n_actions=5, **TRAINING))
    with torch.no_grad():
        ours.module.pi.weights[-1][0].zero_()
        ours.module.pi.biases[-1][0].copy_(torch.tensor([[0.0, -200.0, -200.0, -200.0, -200.0]]))
    critic = [a.copy() for pair in ours.module.qf.member_arrays(0) for a in pair]
    alpha = ours.log_alpha.detach().clone()
    ours.update(batches(2, 1)[0], 1)
    moved = [a for pair in ours.module.qf.member_arrays(0) for a in pair]
    assert all(np.isfinite(a).all() for net in ("pi", "qf", "qf_twin")
               for m in (0, 1) for pair in getattr(ours.module, net).member_arrays(m) for a in pair)
    assert not all(np.array_equal(a, b) for a, b in zip(critic, moved, strict=True))
    assert torch.isfinite(ours.log_alpha).all() and ours.log_alpha[0] != alpha[0]


def test_the_same_sac_grid_run_twice_is_bit_identical(duopoly):
    a = helpers.assert_sac_run_twice_identical(train, duopoly)
    assert len(np.unique(a.buf["actions"][:, :a.size])) > 1  # the members explore


def test_an_interrupted_sac_grid_run_resumes_exactly(duopoly, tmp_path, monkeypatch):
    helpers.assert_sac_resumes_exactly(duopoly, tmp_path, monkeypatch, BatchedSACGridRun)


# The kind: learn run of sac_batched on the grid (with its untrained floor) is in
# tests/rl/test_seed_export.py, whose export tests read the same run.
