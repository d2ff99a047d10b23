"""``ppo_batched`` on intervals: RLlib's own PPO learner and loss (``TorchDiagGaussian``)
over one RLModule with a member axis trains each seed as it would be trained alone, one
member is what RLlib's own ``PPOTorchLearner`` on its default continuous module makes of it,
actions are drawn unclipped and played clipped onto the intervals (RLlib's
``unsquash_action``), and the trained policy plays the Gaussian's location.

Small and fast: the Brock--Mirman planner choosing its savings share, 16x16 networks, a
few rollouts; a local learner group (``num_learners: 0``).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("ray.rllib")

from rl_helpers import (  # noqa: E402
    DUOPOLY,
    batched_ppo_settings,
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
from marketsai.rl.batched_ppo import BatchedPPO, BatchedPPOIntervalRun, BatchedPPORun  # noqa: E402
from marketsai.rl.seed_batched_ppo import RLlibPPOMembers, ppo_learner_group  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ECONOMIES = DUOPOLY.parent


@pytest.fixture(scope="module")
def planner():
    return load_economy(ECONOMIES / "brock_mirman_share.yaml")


def train(economy, seeds, root_seed=5, **kw):
    cfg = batched_ppo_settings(**({"sessions": 2} | kw))
    return train_batched(economy, cfg, seeds, root_seed=root_seed, run_class=BatchedPPOIntervalRun)


state = ppo_member_state


def test_interval_decisions_choose_the_gaussian_run(planner):
    assert BatchedPPO().run_class_for(planner) is BatchedPPOIntervalRun
    assert BatchedPPO().run_class_for(load_economy(DUOPOLY)) is BatchedPPORun
    with pytest.raises(SpecError, match="ppo_batched needs interval decisions only, or one grid decision"):
        BatchedPPO().check(load_economy(ECONOMIES / "sectors_2_grid.yaml"), batched_ppo_settings())


def test_one_member_is_rllibs_own_ppo_learner_on_a_box():
    """One member through the stacked module and our learner, and the same weights in RLlib's
    default continuous PPO module (a head of location and log-std, ``TorchDiagGaussian``)
    through its own ``PPOTorchLearner`` with the KL penalty and an entropy bonus: six updates
    of two epochs of two minibatches, the same policy, value function and KL coefficient."""
    import gymnasium as gym
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.policy.sample_batch import MultiAgentBatch
    from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME

    from marketsai.rl.seed_batched_rllib import MODULE_ID

    training = {"lr": 3e-2, "clip_param": 0.3, "vf_clip_param": 10.0, "vf_loss_coeff": 1.0, "entropy_coeff": 0.01,
                "grad_clip": 1.0, "use_kl_loss": True, "kl_coeff": 0.2, "kl_target": 0.01}
    ours = RLlibPPOMembers(ppo_learner_group([7], 2, [16, 16], None, action_dim=2, **training))
    group, learner, theirs = rllib_default_learner(PPOConfig().training(**training),
                                                   action_space=gym.spaces.Box(-1.0, 1.0, (2,), np.float32))
    assert ppo_default_layers(theirs, "pi")[-1].out_features == 4  # location and log-std of each dimension
    copy_member_into_ppo_default(ours.module, theirs)
    gen, factors = np.random.default_rng(0), set()
    for t in range(1, 7):
        obs = gen.normal(size=(1, 32, 2)).astype(np.float32)
        inputs = ours.evaluate(obs)[0]
        acts = (inputs[..., :2] + np.exp(inputs[..., 2:]) * gen.normal(size=(1, 32, 2))).astype(np.float32)
        batch = {"obs": obs, "actions": acts, "logp": BatchedPPOIntervalRun.log_prob(inputs, acts).astype(np.float32),
                 "logits": inputs, "advantages": gen.normal(size=(1, 32)).astype(np.float32),
                 "value_targets": gen.normal(size=(1, 32)).astype(np.float32)}
        before = ours.kl_coeffs.item()
        ours.update({c: np.concatenate([v, v], axis=1) for c, v in batch.items()}, t, minibatches=4)
        group.update(batch=MultiAgentBatch({MODULE_ID: ours.columns({c: v[0] for c, v in batch.items()})}, env_steps=32),
                     timesteps={NUM_ENV_STEPS_SAMPLED_LIFETIME: t}, minibatch_size=16, num_epochs=2)
        close([ours.kl_coeffs.numpy()], [learner.curr_kl_coeffs_per_module[MODULE_ID].numpy()[None]])
        factors.add(round(ours.kl_coeffs.item() / before, 3))
    assert len(factors - {1.0}) > 0  # the coefficient moved: the KL term is live
    for name in ("pi", "vf"):
        for lin, (w, b) in zip(ppo_default_layers(theirs, name), getattr(ours.module, name).member_arrays(0),
                                strict=True):
            close([lin.weight.detach().numpy().T, lin.bias.detach().numpy()], [w, b])


def test_the_log_density_is_torchs_diagonal_gaussian():
    from ray.rllib.core.distribution.torch.torch_distribution import TorchDiagGaussian
    gen = np.random.default_rng(1)
    inputs, acts = gen.normal(size=(3, 4, 6)).astype(np.float32), gen.normal(size=(3, 4, 3)).astype(np.float32)
    want = TorchDiagGaussian.from_logits(torch.from_numpy(inputs)).logp(torch.from_numpy(acts)).numpy()
    np.testing.assert_allclose(BatchedPPOIntervalRun.log_prob(inputs, acts), want, rtol=1e-5, atol=1e-5)


def test_ppo_batched_seeds_equal_seeds_alone_on_an_interval(planner):
    together = train(planner, [0, 1, 2], kl_target=3e-4)
    assert together.updates == 2 * 4 * 10  # 2 rollouts of 25 steps of 2 sessions: 10 minibatches of 5, 4 epochs
    for k, seed in enumerate([0, 1, 2]):
        close(state(together.ens, k), state(train(planner, [seed], kl_target=3e-4).ens, 0))
    assert not np.allclose(state(together.ens, 0)[0], state(together.ens, 1)[0])  # not vacuous


def test_draws_are_stored_unclipped_and_played_clipped(planner):
    """A wide initial Gaussian (log-std bias 1) draws outside [-1, 1]: the ring keeps the
    draws (their log-density is the loss's), the economy gets them clipped onto the share's
    interval, and the trained policy plays the location mapped onto it."""
    run = BatchedPPOIntervalRun(planner, batched_ppo_settings(sessions=4, periods=25), [0])
    with torch.no_grad():
        run.ens.module.pi.biases[-1][..., 1] += 1.0
    run.advance(10)
    drawn = run.buf["actions"][:, :run.size]
    assert (np.abs(drawn) > 1).any() and drawn.dtype == np.float32
    values = run.grid.values(drawn.reshape(-1, 1, 1), 1)
    assert values.min() == run.grid.low[0] and values.max() == run.grid.high[0]
    pol = run.policies()[0]
    obs = np.random.default_rng(0).normal(size=(5, run.grid.obs_dim))
    inputs, _ = run.ens.evaluate(obs[None].astype(np.float32))
    want = np.clip(run.grid.low + (inputs[0, :, :1] + 1) * 0.5 * (run.grid.high - run.grid.low),
                   run.grid.low, run.grid.high)
    np.testing.assert_allclose(pol.act("planner", obs), want, rtol=1e-6)


def test_the_same_run_twice_is_bit_identical_and_resumes_exactly(planner, tmp_path, monkeypatch):
    a, b = (train(planner, [3, 4], root_seed=1, periods=50) for _ in range(2))
    assert all(all(same) for same in unchanged(state, a.ens, b.ens, 2))
    assert np.array_equal(a.buf["actions"], b.buf["actions"])
    cfg = batched_ppo_settings(sessions=2, periods=80, checkpoint_every=40, rollout_periods=15, minibatch_size=5,
                               num_epochs=1)
    whole, resumed = interrupted_and_whole(planner, cfg, tmp_path, monkeypatch, run_class=BatchedPPOIntervalRun)
    assert resumed.periods == 80 and resumed.updates == whole.updates == 2 * 6  # cut inside the second rollout
    assert all(all(same) for same in unchanged(state, whole.ens, resumed.ens, 2))
