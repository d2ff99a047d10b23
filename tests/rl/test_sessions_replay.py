"""DQN / SAC on batched sessions (marketsai.rl.replay): what each module learns from, and how often."""

from __future__ import annotations

import numpy as np
import pytest
from rl_helpers import continuous_duopoly, experiment

from marketsai.errors import SpecError
from marketsai.rl.rllib_internals import local_learner

pytest.importorskip("torch")


def _spec(algorithm="DQN", economy=None, sessions=4, policies="agent", **settings):
    from marketsai.rl.spec import RLExperimentSpec

    data = experiment(algorithm, economy, env={"max_cycles": 30, "sessions": sessions, "stacked": True},
                      policies=policies)
    data["algorithm"]["settings"].update({"rollout_fragment_length": 4,
                                          "num_steps_sampled_before_learning_starts": 40,
                                          "min_sample_timesteps_per_iteration": 80, **settings})
    return RLExperimentSpec.from_dict(data)


def _algo(spec, seed=0):
    from marketsai.economy import Economy
    from marketsai.rl.algorithms import build_config
    from marketsai.rl.envs import register_economy

    econ = Economy.from_dict(spec.economy_dict())
    return econ, build_config(spec, econ, register_economy(econ), seed=seed).build_algo()


def _columns(buf):
    n = len(buf)
    return buf.obs[:n], buf.actions[:n], buf.rewards[:n], buf.next_obs[:n]


def test_each_firm_stores_its_own_transitions_with_its_own_reward(local_ray):
    """policies: agent -- two independent learners: firm i's buffer holds firm i's rows of every
    session, with firm i's profit at the joint prices, and the next observation both firms saw."""
    spec = _spec(sessions=4)
    econ, algo = _algo(spec)
    try:
        algo.train()
        assert sorted(algo._buffers) == ["firm_0", "firm_1"]
        o0, a0, r0, n0 = _columns(algo._buffers["firm_0"])
        o1, a1, r1, n1 = _columns(algo._buffers["firm_1"])
        assert len(r0) == len(r1) == 80  # 4 sessions x 20 periods, one row per session and period each
        grid = econ.decisions[0].grid
        profits = econ.clear(np.stack([grid[a0], grid[a1]], axis=1))[0]
        np.testing.assert_allclose(r0, profits[:, 0], rtol=1e-6)
        np.testing.assert_allclose(r1, profits[:, 1], rtol=1e-6)
        assert not np.allclose(r0, r1)  # own profits, not their mean
        np.testing.assert_array_equal(o0, o1)  # memory 1: both observe the last joint prices ...
        np.testing.assert_array_equal(n0, n1)  # ... and the next ones
        for t in range(1, 20):  # session b's next observation is its observation one period later
            np.testing.assert_array_equal(n0[4 * (t - 1):4 * t], o0[4 * t:4 * (t + 1)])
    finally:
        algo.stop()


def test_a_shared_policy_learns_from_every_agents_rows(local_ray):
    spec = _spec(sessions=3, policies="group")
    _, algo = _algo(spec)
    try:
        algo.train()
        assert list(algo._buffers) == ["firm"]
        assert len(algo._buffers["firm"]) == 2 * 3 * 27  # 81 periods: 27 steps of 3 sessions, 2 firms
    finally:
        algo.stop()


@pytest.mark.parametrize("algorithm", ["DQN", "SAC"])
def test_one_update_per_rollout_fragment_length_periods(local_ray, algorithm):
    spec = _spec(algorithm, sessions=4)
    _, algo = _algo(spec)
    try:
        result = algo.train()
        periods = result["num_env_steps_sampled_lifetime"]
        assert periods >= 80 and periods % 4 == 0  # SAC iterates for at least a second (RLlib's default)
        batch = spec.settings["train_batch_size_per_learner"]
        for module in ("firm_0", "firm_1"):
            trained = result["learners"][module]["num_module_steps_trained_lifetime"]
            # the first update once 40 periods are stored, then one per 4 periods: 40, 44, ..., 80
            assert trained == batch * ((periods - 40) // 4 + 1)
    finally:
        algo.stop()


def test_interval_prices_are_stored_on_the_modules_scale_and_played_unsquashed(local_ray):
    spec = _spec("SAC", economy=continuous_duopoly(), sessions=2)
    econ, algo = _algo(spec)
    try:
        algo.train()
        o, a, r, n = _columns(algo._buffers["firm_0"])
        assert a.shape == (len(r), 1) and np.all(np.abs(a) <= 1.0)  # SAC's squashed scale
        _, a1, _, _ = _columns(algo._buffers["firm_1"])
        lo, hi = econ.decisions[0].low, econ.decisions[0].high
        prices = np.concatenate([lo + (a + 1) * (hi - lo) / 2, lo + (a1 + 1) * (hi - lo) / 2], axis=1)
        np.testing.assert_allclose(r, econ.clear(prices)[0][:, 0], rtol=1e-5)
    finally:
        algo.stop()


def test_sac_on_batched_planner_sessions_stores_each_sessions_log_consumption(local_ray):
    """The growth economy on the replay path: one planner per session, reward log c."""
    from rl_helpers import ROOT

    spec = _spec("SAC", economy=str(ROOT / "economies" / "brock_mirman_share.yaml"), sessions=3,
                 policies="group")
    econ, algo = _algo(spec)
    try:
        algo.train()
        (module,) = algo._buffers
        obs, a, r, _ = _columns(algo._buffers[module])
        assert len(r) % 3 == 0 and np.all(np.abs(a) <= 1.0)
        assert np.all(np.isfinite(r)) and np.all(r < 1.0) and r.std() > 0  # log consumption
        assert len(set(map(tuple, obs[:3].round(6)))) == 3  # three sessions, three states
    finally:
        algo.stop()


def test_same_seed_same_buffers_and_weights(local_ray):
    spec = _spec(sessions=2)
    runs = []
    for _ in range(2):
        _, algo = _algo(spec, seed=3)
        try:
            algo.train()
            w = local_learner(algo.learner_group).module["firm_0"].state_dict()
            runs.append((_columns(algo._buffers["firm_1"]), {k: v.clone() for k, v in w.items()}))
        finally:
            algo.stop()
    for x, y in zip(runs[0][0], runs[1][0], strict=True):
        np.testing.assert_array_equal(x, y)
    for k in runs[0][1]:
        assert bool((runs[0][1][k] == runs[1][1][k]).all()), k


def test_a_restored_trial_refills_its_buffers_before_learning_again(local_ray, tmp_path):
    """The buffers are not checkpointed: after a restore the counters go on, and updates wait
    until the learning start's worth of periods is stored again."""
    spec = _spec(sessions=4)
    _, algo = _algo(spec)
    try:
        algo.train()
        algo.save_to_path(str(tmp_path / "ck"))
    finally:
        algo.stop()
    _, again = _algo(spec)
    try:
        again.restore_from_path(str(tmp_path / "ck"))
        result = again.train()
        assert result["num_env_steps_sampled_lifetime"] == 160
        assert len(again._buffers["firm_0"]) == 80
        trained = result["learners"]["firm_0"]["num_module_steps_trained_lifetime"]
        batch = spec.settings["train_batch_size_per_learner"]
        assert trained == batch * (11 + 11)  # 11 updates before the checkpoint, 11 after refilling
    finally:
        again.stop()


def test_checkpoint_evaluates_and_exports_like_a_per_agent_run(local_ray, tmp_path):
    from marketsai.rl.evaluate import evaluate
    from marketsai.rl.export import export_policy
    from marketsai.rl.train import train

    spec = _spec(sessions=2)
    table = train(spec, tmp_path / "run", verbose=0)
    assert (tmp_path / "run" / "results.parquet").is_file()
    summary = evaluate(table["checkpoint"][0], tmp_path / "ev")
    assert summary["algorithm"] == "DQN" and 0 < summary["mean_price"] < 3
    export = export_policy(table["checkpoint"][0], tmp_path / "export")
    again = evaluate(export, tmp_path / "ev_export")
    for key in ("profit_gain", "mean_price", "impulse_best_response_deviator"):
        assert again[key] == summary[key]


@pytest.mark.parametrize(("key", "value", "path"), [
    ("n_step", 3, "algorithm.settings.n_step"),
    ("training_intensity", 2.0, "algorithm.settings.training_intensity"),
    ("replay_buffer_config", {"type": "PrioritizedEpisodeReplayBuffer"},
     "algorithm.settings.replay_buffer_config.type"),
    ("replay_buffer_config", True, "algorithm.settings.replay_buffer_config"),
])
def test_what_the_replay_path_does_not_do_is_refused_by_name(key, value, path):
    with pytest.raises(SpecError) as err:
        _spec(**{key: value})
    assert err.value.path == path


def test_env_runners_are_refused_on_the_replay_path():
    from marketsai.rl.spec import RLExperimentSpec

    data = experiment("DQN", env={"max_cycles": 30, "sessions": 2, "stacked": True}, policies="agent",
                      resources={"num_env_runners": 1})
    with pytest.raises(SpecError) as err:
        RLExperimentSpec.from_dict(data)
    assert err.value.path == "resources.num_env_runners"

