"""``ppo_batched``: RLlib's own PPO learner and loss over one RLModule with a member axis
trains each seed as it would be trained alone (issue 20 item 2, for PPO on the grid):
advantages standardised, minibatches cut and the KL penalty's coefficient adapted per
member; one member is what RLlib's own ``PPOTorchLearner`` on its default module makes of it.

Small and fast: the Calvano duopoly, one session per seed, 16x16 networks, rollouts of 25
periods, 100 updates; a local learner group (``num_learners: 0``).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("ray.rllib")

from rl_helpers import (  # noqa: E402
    DUOPOLY,
    batched_ppo_settings,
    bumped_updates,
    copy_member_into_ppo_default,
    interrupted_and_whole,
    ppo_default_layers,
    ppo_member_state,
    rllib_default_learner,
    unchanged,
)
from rl_helpers import assert_close as close  # noqa: E402

from marketsai.economy import load_economy  # noqa: E402
from marketsai.errors import SpecError  # noqa: E402
from marketsai.rl.batched_dqn import train_batched  # noqa: E402
from marketsai.rl.batched_ppo import BatchedPPORun  # noqa: E402
from marketsai.rl.seed_batched_ppo import RLlibPPOMembers, ppo_learner_group  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def train(economy, seeds, root_seed=5, **kw):
    return train_batched(economy, batched_ppo_settings(**kw), seeds, root_seed=root_seed, run_class=BatchedPPORun)


#: the learners' training in the learner-level tests (RLlib's KL defaults)
TRAINING = {"lr": 1e-3, "clip_param": 0.3, "vf_clip_param": 10.0, "vf_loss_coeff": 1.0, "entropy_coeff": 0.01,
            "grad_clip": 1.0, "use_kl_loss": True, "kl_coeff": 0.2, "kl_target": 0.01}


state = ppo_member_state


def ppo_batch(ens: RLlibPPOMembers, gen, members: int, k: int, actions: int = 5) -> dict:
    """A minibatch of ``k`` random rows a member, the old policy ``ens``'s current one."""
    obs = gen.normal(size=(members, k, 2)).astype(np.float32)
    logits = ens.evaluate(obs)[0]
    acts = gen.integers(0, actions, (members, k))
    logp = np.take_along_axis(logits - np.log(np.exp(logits).sum(-1, keepdims=True)), acts[..., None], -1)[..., 0]
    return {"obs": obs, "actions": acts, "logp": logp.astype(np.float32), "logits": logits,
            "advantages": gen.normal(size=(members, k)).astype(np.float32),
            "value_targets": gen.normal(size=(members, k)).astype(np.float32)}


def test_ppo_batched_seeds_equal_seeds_alone(duopoly):
    """Policies, value functions, Adam moments and KL coefficients; ``kl_target`` near the
    small networks' KL per rollout (a few 1e-4), so that the coefficients go their own ways."""
    together = train(duopoly, [0, 1, 2], kl_target=3e-4)
    assert together.updates == 100
    for k, seed in enumerate([0, 1, 2]):
        alone = train(duopoly, [seed], kl_target=3e-4)
        for m in range(2):
            close(state(together.ens, 2 * k + m), state(alone.ens, m))
    coeffs = together.ens.kl_coeffs.numpy()
    assert len(set(coeffs)) > 2  # the coefficients went their own ways
    assert not np.allclose(state(together.ens, 0)[0], state(together.ens, 2)[0])  # not vacuous


def test_one_member_is_rllibs_own_ppo_learner_with_its_kl_penalty():
    """One member through the stacked module and our learner, and the same weights in RLlib's
    default PPO module through its own ``PPOTorchLearner`` (KL penalty on), six updates of two
    epochs of two minibatches each: the same policy, value function and KL coefficient, which
    went up, stayed and went down (RLlib adapts it once an update, from the last minibatch's KL)."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.policy.sample_batch import MultiAgentBatch
    from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME

    from marketsai.rl.seed_batched_rllib import MODULE_ID

    training = TRAINING | {"lr": 3e-2}
    ours = RLlibPPOMembers(ppo_learner_group([7], 2, [16, 16], 5, **training))
    group, learner, theirs = rllib_default_learner(PPOConfig().training(**training))
    copy_member_into_ppo_default(ours.module, theirs)
    gen, factors = np.random.default_rng(0), set()
    for t in range(1, 7):
        batch, before = ppo_batch(ours, gen, 1, 32), ours.kl_coeffs.item()
        ours.update({c: np.concatenate([v, v], axis=1) for c, v in batch.items()}, t, minibatches=4)
        group.update(batch=MultiAgentBatch({MODULE_ID: ours.columns({c: v[0] for c, v in batch.items()})}, env_steps=32),
                     timesteps={NUM_ENV_STEPS_SAMPLED_LIFETIME: t}, minibatch_size=16, num_epochs=2)
        close([ours.kl_coeffs.numpy()], [learner.curr_kl_coeffs_per_module[MODULE_ID].numpy()[None]])
        factors.add(round(ours.kl_coeffs.item() / before, 3))
    assert factors == {0.5, 1.0, 1.5}
    for name in ("pi", "vf"):
        for lin, (w, b) in zip(ppo_default_layers(theirs, name), getattr(ours.module, name).member_arrays(0),
                                strict=True):
            close([lin.weight.detach().numpy().T, lin.bias.detach().numpy()], [w, b])


def test_a_loss_on_one_member_leaves_the_others_untouched():
    """Two learners, the same minibatches except member 0's advantages (large enough to be
    clipped) and its old policy's logits (tilted: a KL spike): every other member's weights,
    Adam moments and KL coefficient are bit-identical; member 0's policy differs and its
    coefficient rose."""
    M, gen = 3, np.random.default_rng(0)
    make = lambda: RLlibPPOMembers(ppo_learner_group([11, 12, 13], 2, [16, 16], 5, **TRAINING))  # noqa: E731
    a, b = make(), make()
    batches = [ppo_batch(a, gen, M, 8) for _ in range(4)]

    def bump(batch):
        batch["advantages"][0] += 1e3
        batch["logits"][0] += np.linspace(-3, 3, 5, dtype=np.float32)
    bumped_updates(a, b, batches, bump)
    same = unchanged(state, a, b, M)
    assert all(all(s) for s in same[1:])
    policy = 2 * len(a.module.pi.weights)  # the policy's weights and biases come first
    assert not any(same[0][:policy])
    assert b.kl_coeffs[0] > 0.2 > a.kl_coeffs[0]  # RLlib's rule: raised on the spike, halved without


def test_the_same_ppo_batched_run_twice_is_bit_identical(duopoly):
    a, b = (train(duopoly, [3, 4], root_seed=1, periods=50) for _ in range(2))  # 40 updates
    assert all(all(same) for same in unchanged(state, a.ens, b.ens, 4))
    assert np.array_equal(a.buf["actions"], b.buf["actions"])


def test_an_interrupted_ppo_batched_run_resumes_exactly(duopoly, tmp_path, monkeypatch):
    """Cut at period 40, in the middle of a 15-period rollout: the rollout so far, RLlib's
    learner state and the streams come back, and the resumed run equals the uninterrupted one."""
    cfg = batched_ppo_settings(periods=80, checkpoint_every=40, rollout_periods=15, minibatch_size=5, num_epochs=1)
    whole, resumed = interrupted_and_whole(duopoly, cfg, tmp_path, monkeypatch, run_class=BatchedPPORun)
    assert resumed.periods == 80 and resumed.updates == whole.updates == 5 * 3
    assert all(all(same) for same in unchanged(state, whole.ens, resumed.ens, 4))


def test_settings_are_checked():
    from marketsai.params import validate_mapping
    from marketsai.rl.batched_ppo import SETTINGS
    # off by default: a run folder made before the setting resumes as it was trained
    assert validate_mapping({}, SETTINGS, "learner.settings", "settings")["use_kl_loss"] is False
    for key, bad in (("use_kl_loss", "yes"), ("kl_coeff", -0.1), ("kl_target", 0)):
        with pytest.raises(SpecError, match=key):
            batched_ppo_settings(**{key: bad})
    with pytest.raises(SpecError, match="minibatch"):
        BatchedPPORun(load_economy(DUOPOLY), batched_ppo_settings(minibatch_size=26), [0])


def test_the_rllib_only_learners_log_to_the_run_log():
    from marketsai.rl.batched_dqn import BatchedDQN
    from marketsai.rl.batched_ppo import BatchedPPO
    from marketsai.rl.batched_sac import BatchedSAC
    assert BatchedPPO().is_noisy({}) and BatchedSAC().is_noisy({})
    assert not BatchedDQN().is_noisy({}) and BatchedDQN().is_noisy({"backend": "rllib"})
