"""The stacked population path: same economy as the per-agent path, per-row returns in learning."""

from __future__ import annotations

import numpy as np
import pytest

import marketsai as mai

torch = pytest.importorskip("torch")


def _growth_market(n: int) -> mai.Economy:
    d = mai.load_economy("economies/growth_market.yaml").to_dict()
    d["agents"][0]["count"] = n
    return mai.Economy.from_dict(d)


@pytest.mark.parametrize("path", ["economies/growth_market.yaml", "economies/two_sector_labor.yaml"])
def test_stacked_vector_and_per_agent_paths_agree(path):
    """Same seed and actions: the per-agent env, the vector env and the stacked env see the same economy."""
    econ = mai.load_economy(path)
    n, T, S = len(econ.actors), 6, 2
    vec = econ.vector_env(sessions=S, max_cycles=T)
    stk = econ.stacked_env(sessions=S, max_cycles=T)
    vec_obs, _ = vec.reset(seed=3)
    stk_obs, _ = stk.reset(seed=3)
    np.testing.assert_array_equal(stk_obs.reshape(S * n, -1), vec_obs)
    rng = np.random.default_rng(0)
    space = stk.single_action_space
    for _ in range(T):
        a = rng.uniform(space.low, space.high, size=(S,) + space.shape).astype(np.float32)
        vec_obs, vec_rew, *_ = vec.step(a.reshape(S * n, -1))
        stk_obs, stk_rew, _, _, info = stk.step(a)
        np.testing.assert_array_equal(stk_obs.reshape(S * n, -1), vec_obs)
        np.testing.assert_array_equal(info["rewards"].reshape(-1), vec_rew)
        np.testing.assert_allclose(stk_rew, vec_rew.reshape(S, n).mean(axis=1))


@pytest.mark.parametrize("path", ["economies/growth_market.yaml", "economies/two_sector_labor.yaml"])
def test_batched_and_per_agent_paths_agree(path):
    """One session: the PettingZoo per-agent env and the batched vector env give the same rewards and states."""
    econ = mai.load_economy(path)
    par, vec = econ.parallel_env(max_cycles=8), econ.vector_env(sessions=1, max_cycles=8)
    par_obs, _ = par.reset(seed=5)
    vec_obs, _ = vec.reset(seed=5)
    rng = np.random.default_rng(1)
    for _ in range(6):
        np.testing.assert_array_equal(np.stack([par_obs[a] for a in econ.actors]), vec_obs)
        acts = {a: rng.uniform(par.action_space(a).low, par.action_space(a).high).astype(np.float32)
                for a in econ.actors}
        par_obs, par_rew, *_ = par.step(acts)
        vec_obs, vec_rew, *_ = vec.step(np.stack([acts[a] for a in econ.actors]))
        np.testing.assert_array_equal([par_rew[a] for a in econ.actors], vec_rew)


def test_unstack_gives_each_row_its_own_data_and_log_probability():
    from ray.rllib.core.columns import Columns
    from ray.rllib.env.single_agent_episode import SingleAgentEpisode

    from marketsai.rl.stacked import UnstackPopulation

    class FakeModule:
        n_rows, per_row, discrete = 3, 1, False

    T, n = 4, 3
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(T + 1, n, 2)).astype(np.float32)
    acts = rng.normal(size=(T, n)).astype(np.float32)
    inputs = rng.normal(size=(T, 2 * n)).astype(np.float32)
    rewards = rng.normal(size=(T, n))
    ep = SingleAgentEpisode(observations=list(obs), actions=list(acts), rewards=list(rewards.mean(axis=1)),
                            infos=[{"rewards": np.zeros(n)}] + [{"rewards": r} for r in rewards],
                            extra_model_outputs={Columns.ACTION_DIST_INPUTS: list(inputs),
                                                 Columns.ACTION_LOGP: list(np.zeros(T))},
                            len_lookback_buffer=0, truncated=True)
    episodes = [ep]
    UnstackPopulation()(rl_module=FakeModule(), batch={}, episodes=episodes)
    assert len(episodes) == n
    for i, row in enumerate(episodes):
        np.testing.assert_array_equal(np.asarray(row.get_observations(slice(0, T + 1))), obs[:, i])
        np.testing.assert_array_equal(np.asarray(row.get_rewards(slice(0, T))), rewards[:, i])
        dist_in = torch.tensor(np.stack([inputs[:, i], inputs[:, n + i]], axis=1))
        expected = torch.distributions.Normal(dist_in[:, 0], dist_in[:, 1].exp()).log_prob(torch.tensor(acts[:, i]))
        got = np.asarray(row.get_extra_model_outputs(Columns.ACTION_LOGP, slice(0, T)))
        np.testing.assert_allclose(got, expected.numpy(), rtol=1e-5, atol=1e-6)
        assert row.is_truncated


def _value_targets(rewards: np.ndarray, env_config: dict | None = None, groups: np.ndarray | None = None) -> np.ndarray:
    """The learner connector's value targets ``(rows, T)`` (gamma 0.5, lambda 1) of one terminated
    stacked episode whose rows earn ``rewards`` ``(T, rows)`` (in the groups ``(T + 1, rows)`` of
    ``info["peer_group"]``)."""
    import gymnasium as gym
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.columns import Columns
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.rllib.env.single_agent_episode import SingleAgentEpisode

    from marketsai.rl.rllib_internals import learner_connector
    from marketsai.rl.stacked import RowModule, StackedPPOLearner

    T, n = rewards.shape
    torch.manual_seed(0)  # the same initial critic each call: targets comparable bit for bit
    obs_space = gym.spaces.Box(-1, 1, (n, 2), np.float32)
    act_space = gym.spaces.Box(-1, 1, (n,), np.float32)
    config = (PPOConfig().environment(observation_space=obs_space, action_space=act_space,
                                      env_config=env_config or {})
              .training(learner_class=StackedPPOLearner, gamma=0.5, lambda_=1.0)
              .rl_module(rl_module_spec=RLModuleSpec(module_class=RowModule)))
    learner = config.build_learner(env=None)
    ep = SingleAgentEpisode(observations=list(np.zeros((T + 1, n, 2), np.float32)),
                            actions=list(np.zeros((T, n), np.float32)), rewards=list(rewards.mean(axis=1)),
                            infos=[{"rewards": r} | ({} if groups is None else {"peer_group": g})
                                   for r, g in zip(np.concatenate([np.zeros((1, n)), rewards]),
                                                   groups if groups is not None else [None] * (T + 1), strict=True)],
                            extra_model_outputs={Columns.ACTION_DIST_INPUTS: list(np.zeros((T, 2 * n), np.float32)),
                                                 Columns.ACTION_LOGP: list(np.zeros(T, np.float32))},
                            len_lookback_buffer=0, terminated=True)
    batch = learner_connector(learner)(rl_module=learner.module, batch={}, episodes=[ep], shared_data={})
    return batch["default_policy"][Columns.VALUE_TARGETS].reshape(n, -1)[:, :T].detach().numpy()


def test_advantages_of_a_row_come_from_its_own_reward_only(local_ray):
    """Learning semantics: rows share the network but each learns from its own return.

    Only row 0 is ever rewarded; after the learner connector (unstack, GAE), the value
    targets of every other row are those of a zero reward stream, not of the mean.
    """
    T = 5
    rewards = np.zeros((T, 3))
    rewards[:, 0] = 1.0
    targets = _value_targets(rewards)
    own = np.array([sum(0.5 ** (s - t) for s in range(t, T)) for t in range(T)])
    np.testing.assert_allclose(targets[0], own, atol=1e-5)
    np.testing.assert_allclose(targets[1:], 0.0, atol=1e-5)


def test_block_relative_subtracts_the_other_sessions_mean_of_the_same_agent():
    from marketsai.rl.stacked import block_relative

    rng = np.random.default_rng(0)
    T, block, n = 5, 4, 3
    r = rng.normal(size=(T, block * n))
    rel = block_relative(r, block).reshape(T, block, n)
    per = r.reshape(T, block, n)
    for b in range(block):
        others = np.delete(per, b, axis=1).mean(axis=1)
        np.testing.assert_allclose(rel[:, b], per[:, b] - others)
    # a shock common to the block's sessions (per agent) leaves no trace
    common = rng.normal(size=(T, 1, n))
    np.testing.assert_allclose(block_relative((per + common).reshape(T, -1), block), rel.reshape(T, -1))
    with pytest.raises(ValueError, match="at least 2"):
        block_relative(r, 1)


def test_block_baseline_reaches_the_value_targets(local_ray):
    """``env.block_baseline``: the learner's GAE sees each row's reward minus the block's others'
    (a block of 2 one-agent sessions, only the first rewarded)."""
    T = 4
    rewards = np.zeros((T, 2))
    rewards[:, 0] = 1.0
    targets = _value_targets(rewards, {"block": 2, "block_baseline": True})
    own = np.array([sum(0.5 ** (s - t) for s in range(t, T)) for t in range(T)])
    np.testing.assert_allclose(targets[0], own, atol=1e-5)  # 1 - 0 each period
    np.testing.assert_allclose(targets[1], -own, atol=1e-5)  # 0 - 1


def test_peer_relative_subtracts_the_leave_one_out_mean_of_the_sessions_other_rows():
    from marketsai.rl.stacked import peer_relative

    # two sessions of three rows, one period: row i minus the mean of its session's other two
    r = np.array([[1.0, 2.0, 6.0, 10.0, 20.0, 60.0]])
    np.testing.assert_allclose(peer_relative(r, sessions=2), [[1 - 4, 2 - 3.5, 6 - 1.5, 10 - 40, 20 - 35, 60 - 15]])
    # grouped (employment): rows 0, 2 and 3 employed, 1 alone unemployed (falls back to all others)
    r = np.array([[1.0, 2.0, 6.0, 8.0], [4.0, 0.0, 2.0, 3.0]])
    g = np.array([[1, 0, 1, 1], [1, 0, 0, 1]])
    np.testing.assert_allclose(peer_relative(r, groups=g), [[1 - 7, 2 - 5, 6 - 4.5, 8 - 3.5],
                                                            [4 - 3, 0 - 2, 2 - 0, 3 - 4]])
    # a shock common to a session's rows (Krusell-Smith's z) leaves no trace; grouped, neither does a
    # shift common to a group's rows (the employed's wage) where each group has peers
    rng = np.random.default_rng(0)
    r = rng.normal(size=(6, 2 * 5))
    g = np.stack([rng.permutation([0, 0, 1, 1, 1]) for _ in range(12)]).reshape(6, 10)
    shock = np.repeat(rng.normal(size=(6, 2)), 5, axis=1)
    np.testing.assert_allclose(peer_relative(r + shock, 2), peer_relative(r, 2), atol=1e-12)
    np.testing.assert_allclose(peer_relative(r + shock + 3.0 * g, 2, g), peer_relative(r, 2, g), atol=1e-12)
    with pytest.raises(ValueError, match="at least 2 rows"):
        peer_relative(np.zeros((3, 2)), sessions=2)


def test_peer_baseline_reaches_the_value_targets_and_is_off_by_default(local_ray):
    """``env.peer_baseline``: the learner's GAE sees each row's reward minus its session's other rows'
    (one session of three rows, only the first rewarded); by default the rows' own rewards, bit for bit."""
    import rl_helpers

    from marketsai.rl.spec import RLExperimentSpec

    T = 4
    rewards = np.zeros((T, 3))
    rewards[:, 0] = 1.0
    own = np.array([sum(0.5 ** (s - t) for s in range(t, T)) for t in range(T)])
    targets = _value_targets(rewards, {"peer_baseline": "all"})
    np.testing.assert_allclose(targets[0], own, atol=1e-5)  # 1 - (0 + 0) / 2
    np.testing.assert_allclose(targets[1:], -0.5 * np.stack([own, own]), atol=1e-5)  # 0 - (1 + 0) / 2
    # by employment: rows 0 and 1 share a group until the last period, when 1 joins 2
    groups = np.array([[1, 1, 0]] * (T - 1) + [[1, 0, 0]] * 2, dtype=float)
    targets = _value_targets(rewards, {"peer_baseline": "e"}, groups)
    np.testing.assert_allclose(targets[0], own, atol=1e-5)  # 1 - 0 (row 1), then 1 - 0 (alone: all others)
    np.testing.assert_allclose(targets[1], -own + 0.5 ** (T - 1 - np.arange(T)), atol=1e-5)  # -1, then 0 - 0
    np.testing.assert_allclose(targets[2], -0.5 * own + 0.5 * 0.5 ** (T - 1 - np.arange(T)), atol=1e-5)  # -0.5 (alone), then 0
    spec = RLExperimentSpec.from_dict(rl_helpers.experiment(
        "PPO", economy=str(rl_helpers.ROOT / "economies" / "krusell_smith.yaml"), env={"sessions": 2, "stacked": True}))
    assert spec.env["peer_baseline"] is None
    rewards = np.random.default_rng(1).normal(size=(T, 3))
    assert np.array_equal(_value_targets(rewards, dict(spec.env)), _value_targets(rewards, {}))


def test_common_shocks_and_block_baseline_need_a_stacked_block():
    import rl_helpers

    from marketsai.errors import SpecError
    from marketsai.rl.spec import RLExperimentSpec

    economy = str(rl_helpers.ROOT / "economies" / "brock_mirman_share.yaml")
    for key in ("common_shocks", "block_baseline"):
        with pytest.raises(SpecError, match=f"env.{key}") as err:
            RLExperimentSpec.from_dict(rl_helpers.experiment(
                "PPO", economy=economy, env={"sessions": 4, "stacked": True, key: True}))
        assert "env.block > 1" in str(err.value)
    spec = RLExperimentSpec.from_dict(rl_helpers.experiment(
        "PPO", economy=economy, env={"sessions": 4, "stacked": True, "block": 2, "common_shocks": True,
                                     "block_baseline": True}))
    assert spec.env["common_shocks"] and spec.env["block_baseline"]


def _krusell_smith(n: int) -> dict:
    import yaml
    d = yaml.safe_load(open("economies/krusell_smith.yaml"))
    d["agents"][0]["count"] = n
    return d


def test_peer_baseline_is_refused_where_it_does_not_apply():
    import rl_helpers

    from marketsai.economy import Economy
    from marketsai.errors import SpecError
    from marketsai.rl.algorithms import build_config
    from marketsai.rl.spec import RLExperimentSpec

    economy = _krusell_smith(10)

    def spec(algorithm="PPO", **env):
        return RLExperimentSpec.from_dict(rl_helpers.experiment(algorithm, economy=economy, env=env))
    for env, why in (({"sessions": 2}, "env.stacked: true"),
                     ({"sessions": 2, "stacked": True, "block": 2, "block_baseline": True}, "one baseline at a time")):
        with pytest.raises(SpecError, match="env.peer_baseline") as err:
            spec(**env, peer_baseline="all")
        assert why in str(err.value)
    with pytest.raises(SpecError, match="env.peer_baseline = 'all'") as err:
        spec("SAC", sessions=2, stacked=True, peer_baseline="all")
    assert "replay" in str(err.value)
    with pytest.raises(SpecError, match="env.peer_baseline = 'z'") as err:  # z is common to all households
        bad = spec(sessions=2, stacked=True, peer_baseline="z")
        build_config(bad, Economy.from_dict(bad.economy_dict()), "unregistered")
    assert "allowed: null, all, 'e'" in str(err.value)
    alone = RLExperimentSpec.from_dict(rl_helpers.experiment(  # Brock-Mirman's one planner: no peers
        "PPO", economy=str(rl_helpers.ROOT / "economies" / "brock_mirman.yaml"),
        env={"sessions": 2, "stacked": True, "peer_baseline": "all"}))
    with pytest.raises(SpecError, match="env.peer_baseline = 'all'.*this economy has 1 agent"):
        build_config(alone, Economy.from_dict(alone.economy_dict()), "unregistered")
    assert spec(sessions=2, stacked=True, peer_baseline="e").env["peer_baseline"] == "e"
    # a kind: learn file is checked against its economy when loaded (marketsai validate)
    from marketsai.runner import load_experiment
    study = rl_helpers.ROOT / "experiments" / "krusell_smith" / "ks_study_ppo.yaml"
    with pytest.raises(SpecError, match="learner.settings.env.peer_baseline = 'z'"):
        load_experiment(study, {"learner.settings.env.peer_baseline": "z"})


def test_peer_groups_are_the_employment_each_row_acts_on():
    """``info["peer_group"]`` beside each observation is the rows' employment in it (the observed e,
    un-normalised), in sessions of a block as well."""
    import marketsai as mai

    econ = mai.Economy.from_dict(_krusell_smith(10))
    env = econ.stacked_env(sessions=4, block=2, max_cycles=6, peer_group="e")
    lo, hi = econ.exo_fields["e"].min(), econ.exo_fields["e"].max()
    obs, info = env.reset(seed=0)
    rng = np.random.default_rng(0)
    seen = []
    for _ in range(6):
        np.testing.assert_allclose(info["peer_group"], lo + (obs[..., 1] + 1.0) / 2.0 * (hi - lo), atol=1e-6)
        seen.append(info["peer_group"])
        obs, _, _, _, info = env.step(rng.uniform(0.7, 0.99, size=(2, 20)).astype(np.float32))
    assert len(np.unique(seen)) == 2  # both employment states occur


@pytest.mark.rllib
def test_krusell_smith_trains_with_the_peer_baseline_by_employment(local_ray, monkeypatch):
    """A short training of stacked PPO on a 10-household Krusell-Smith economy with
    ``peer_baseline: e``: the learner's connector subtracts, on every sampled episode, the peers
    grouped by the employment the rows acted on."""
    import rl_helpers

    import marketsai.rl.stacked as stacked
    from marketsai.economy import Economy
    from marketsai.rl.algorithms import build_config
    from marketsai.rl.envs import register_economy
    from marketsai.rl.spec import RLExperimentSpec

    calls = []

    def recorded(rewards, sessions=1, groups=None):
        calls.append((rewards.shape, sessions, None if groups is None else np.unique(groups)))
        return peer_relative(rewards, sessions, groups)
    peer_relative = stacked.peer_relative
    monkeypatch.setattr(stacked, "peer_relative", recorded)
    exp = rl_helpers.experiment("PPO", economy=_krusell_smith(10),
                                env={"max_cycles": 10, "sessions": 2, "stacked": True, "peer_baseline": "e"})
    exp["algorithm"]["settings"] = {"train_batch_size_per_learner": 20, "minibatch_size": 20, "num_epochs": 1}
    spec = RLExperimentSpec.from_dict(exp)
    econ = Economy.from_dict(spec.economy_dict())
    algo = build_config(spec, econ, register_economy(econ), seed=0).build_algo()
    try:
        result = algo.train()
    finally:
        algo.stop()
    assert calls and all(shape[1] == 10 and sessions == 1 for shape, sessions, _ in calls)
    assert {float(v) for _, _, values in calls for v in values} <= set(econ.exo_fields["e"].tolist())
    assert np.isfinite(result["learners"]["default_policy"]["policy_loss"])


@pytest.mark.rllib
def test_stacked_experiment_trains_through_the_runner(local_ray, tmp_path):
    """``env: {sessions: S, stacked: true}`` trains PPO with one row per household; here in
    blocks of 2 sessions on common shocks with the block baseline (the plain stacked path
    trains in the fixtures of test_evaluate_stacked.py)."""
    import pandas as pd
    import rl_helpers

    from marketsai.runner import run_experiment

    exp = rl_helpers.experiment("PPO", economy=str(rl_helpers.ROOT / "economies" / "growth_market.yaml"),
                                env={"max_cycles": 20, "sessions": 4, "stacked": True, "block": 2,
                                     "common_shocks": True, "block_baseline": True})
    exp["algorithm"]["settings"] = {"train_batch_size_per_learner": 40, "minibatch_size": 40, "num_epochs": 1}
    exp["evaluation"] = {"episodes": 1, "periods": 10, "tail": 5, "impulse_periods": 2}
    run = run_experiment(exp, out=tmp_path / "run", progress=False)
    row = pd.read_parquet(run / "results.parquet").iloc[0]
    assert row["env_steps"] >= 40  # sub-environment steps; each one steps 2 sessions of 10 households
    assert row["agent_steps"] == 20 * row["env_steps"]


def test_stacked_needs_sessions_and_an_algorithm_with_a_stacked_path():
    """PPO / the centralised critic (RowModule) and DQN / SAC (flat replay) have one; IMPALA not."""
    import rl_helpers

    from marketsai.errors import SpecError
    from marketsai.rl.spec import RLExperimentSpec

    economy = str(rl_helpers.ROOT / "economies" / "growth_market.yaml")
    with pytest.raises(SpecError, match="env.stacked"):
        RLExperimentSpec.from_dict(rl_helpers.experiment("PPO", economy=economy, env={"stacked": True}))
    with pytest.raises(SpecError, match="env.stacked") as err:
        RLExperimentSpec.from_dict(rl_helpers.experiment("IMPALA", economy=economy,
                                                         env={"sessions": 2, "stacked": True}))
    assert "DQN / SAC" in str(err.value)
    spec = RLExperimentSpec.from_dict(rl_helpers.experiment("SAC", economy=economy,
                                                            env={"sessions": 2, "stacked": True}))
    assert spec.env["stacked"] and spec.algorithm == "SAC"


def test_independent_heads_learn_only_from_their_own_rows():
    """policies: agent on a stacked population: agent k's network gets gradients from agent k's rows only."""
    import gymnasium as gym
    from ray.rllib.core.columns import Columns

    from marketsai.rl.stacked import RowModule

    obs_space = gym.spaces.Box(-1, 1, (4, 3 + 2), np.float32)  # 2 sessions x 2 agents; 3 features + one-hot
    module = RowModule(observation_space=obs_space, action_space=gym.spaces.MultiDiscrete([5] * 4),
                       model_config={"fcnet_hiddens": [8], "row_heads": 2})
    rows = torch.cat([torch.randn(6, 3), torch.tensor([[0.0, 1.0]] * 6)], dim=1)  # agent 1's rows only
    out = module.forward_train({Columns.OBS: rows})
    dist = module.get_train_action_dist_cls().from_logits(out[Columns.ACTION_DIST_INPUTS])
    loss = -(dist.logp(torch.randint(0, 5, (6,))).sum() + module.compute_values({Columns.OBS: rows}).sum())
    loss.backward()
    assert all(p.grad is None or not p.grad.any() for p in [*module.pi[0].parameters(), *module.vf[0].parameters()])
    assert any(p.grad is not None and p.grad.any() for p in module.pi[1].parameters())
    # stacked: the product distribution over rows, each row from its own agent's network
    stacked = torch.cat([torch.randn(1, 4, 3), torch.eye(2).repeat(2, 1)[None]], dim=2)
    logits = module.forward_inference({Columns.OBS: stacked})[Columns.ACTION_DIST_INPUTS]
    assert logits.shape == (1, 20)
    torch.testing.assert_close(logits[0, 5:10], module.pi[1](stacked[0, 1, :3]))


def test_duopoly_sessions_in_blocks_agree_with_the_vector_env():
    econ = mai.load_economy("economies/bertrand_duopoly.yaml")
    stk = econ.stacked_env(sessions=6, max_cycles=5, block=3, agent_ids=True)
    vec = econ.vector_env(sessions=6, max_cycles=5)
    s_obs, _ = stk.reset(seed=2)
    v_obs, _ = vec.reset(seed=2)
    assert s_obs.shape == (2, 6, 2 + 2)
    np.testing.assert_array_equal(s_obs[..., :2].reshape(12, 2), v_obs)
    np.testing.assert_array_equal(s_obs[0, :, 2:], np.tile(np.eye(2), (3, 1)))
    a = np.random.default_rng(0).integers(0, 15, (2, 6))
    s_obs, _, _, _, info = stk.step(a)
    v_obs, v_rew, *_ = vec.step(a.reshape(12))
    np.testing.assert_array_equal(info["rewards"].reshape(12), v_rew)


def test_rows_with_several_decisions_map_to_the_right_agents():
    """Two savings shares a row (the 2-sector planner): a flat row-major action, row i's
    decisions at i*d ... i*d+d-1, the same economy as the vector env. (PPO training on such
    rows: test_sector_planner_trains_on_the_stacked_path_with_actions_in_each_rows_bounds.)"""
    econ = mai.load_economy("economies/sectors_2.yaml")
    S, T = 4, 3
    stk, vec = econ.stacked_env(sessions=S, max_cycles=T, block=2), econ.vector_env(sessions=S, max_cycles=T)
    assert stk.single_action_space.shape == (2 * 2,)  # 2 sessions a block, 2 decisions each
    stk.reset(seed=1)
    vec.reset(seed=1)
    rng = np.random.default_rng(0)
    for _ in range(T):
        a = rng.uniform(0.05, 0.2, (2, 4)).astype(np.float32)
        s_obs, _, _, _, info = stk.step(a)
        v_obs, v_rew, *_ = vec.step(a.reshape(S, 2))
        np.testing.assert_array_equal(s_obs.reshape(S, -1), v_obs)
        np.testing.assert_array_equal(info["rewards"].reshape(-1), v_rew)


def test_ppo_kl_of_the_sampling_and_train_distributions_is_row_by_row():
    """PPO's KL penalty pairs the stacked sampling distribution with the unstacked rows' train
    distribution: identical logits give 0, and each row's KL is its own (no cross-row broadcast)."""
    import gymnasium as gym
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    from marketsai.rl.stacked import RowModule
    module = RLModuleSpec(module_class=RowModule, observation_space=gym.spaces.Box(-1, 1, (2, 3), np.float32),
                          action_space=gym.spaces.MultiDiscrete([5, 5]), model_config={"fcnet_hiddens": [8]}).build()
    rows = torch.randn(6, 5)  # 6 unstacked rows, 5 choices
    prev = module.get_exploration_action_dist_cls().from_logits(rows)
    curr = module.get_train_action_dist_cls().from_logits(rows)
    torch.testing.assert_close(prev.kl(curr), torch.zeros(6))
    other = rows.clone()
    other[0] += torch.tensor([2.0, 0, 0, 0, 0])
    kl = prev.kl(module.get_train_action_dist_cls().from_logits(other))
    assert kl.shape == (6,) and kl[0] > 0.1
    torch.testing.assert_close(kl[1:], torch.zeros(5), atol=1e-6, rtol=0)


# ---------------------------------------------------------------- rows with several decisions
# The d-sector planner (docs/dimension.md) at d = 3: each row's action is a vector of three
# savings shares. The stacked env's action is one flat row-major Box (row r: r*d .. r*d+d-1)
# with the row's bounds tiled, so that RLlib's module-to-env connector, which unsquashes the
# module's flat sample element by element against that Box, maps every row to its own bounds.
SECTORS, SECTOR_SESSIONS, SECTOR_BLOCK = 3, 6, 3


def _sector_experiment(stacked: bool = True) -> dict:
    """A tiny stacked PPO run of the d = 3 planner (ppo.yaml's share interval at d = 3);
    ``stacked=False``: the same on the VectorEnv path."""
    import rl_helpers
    import yaml
    econ = yaml.safe_load((rl_helpers.ROOT / "economies" / "sectors_2.yaml").read_text())
    agent = econ["agents"][0]
    agent["params"]["alphas"] = [0.36 / SECTORS] * SECTORS
    agent["action"].update(low=0.035 / SECTORS, high=0.95 / SECTORS)
    env = {"max_cycles": 10, "sessions": SECTOR_SESSIONS}
    exp = rl_helpers.experiment("PPO", economy=econ, env={**env, "stacked": True, "block": SECTOR_BLOCK}
                                if stacked else env)
    exp["algorithm"]["settings"] = {"train_batch_size_per_learner": 60, "minibatch_size": 60, "num_epochs": 1}
    exp["algorithm"]["model"] = {"fcnet_hiddens": [8, 8]}
    return exp


class _EnvRecorder:
    """What the environments receive: the stacked env's actions, and the sessions' batched
    env's (observation it had returned, action it got) pairs -- row ``s`` is session ``s``."""

    def __init__(self, monkeypatch):
        from marketsai.envs.stacked import EconomyStackedEnv
        from marketsai.envs.vector import EconomyVectorEnv
        self.stacked, self.sessions, self._last = [], [], {}
        step, inner_step, inner_reset = EconomyStackedEnv.step, EconomyVectorEnv.step, EconomyVectorEnv.reset

        def stacked_step(env, actions):
            self.stacked.append(np.array(actions, copy=True))
            return step(env, actions)

        def reset(env, **kw):
            out = inner_reset(env, **kw)
            self._last[id(env)] = out[0].copy()
            return out

        def sessions_step(env, actions):
            self.sessions.append((self._last[id(env)], np.array(actions, copy=True)))
            out = inner_step(env, actions)
            self._last[id(env)] = out[0].copy()
            return out

        monkeypatch.setattr(EconomyStackedEnv, "step", stacked_step)
        monkeypatch.setattr(EconomyVectorEnv, "reset", reset)
        monkeypatch.setattr(EconomyVectorEnv, "step", sessions_step)

    def clear(self):
        self.stacked.clear()
        self.sessions.clear()


@pytest.fixture(scope="module")
def sector_run(local_ray, tmp_path_factory):
    """The d = 3 planner trained two iterations on the stacked path (the envs' inputs recorded),
    then sampled greedily; a checkpoint of those weights and the run's experiment.yaml."""
    import yaml

    from marketsai.economy import Economy
    from marketsai.rl.algorithms import build_config
    from marketsai.rl.envs import register_economy
    from marketsai.rl.spec import RLExperimentSpec
    from marketsai.rl.train import EXPERIMENT_FILE, resolved_experiment

    spec = RLExperimentSpec.from_dict(_sector_experiment())
    econ = Economy.from_dict(spec.economy_dict())
    folder = tmp_path_factory.mktemp("sectors")
    (folder / EXPERIMENT_FILE).write_text(yaml.safe_dump(resolved_experiment(spec, econ), sort_keys=False))
    with pytest.MonkeyPatch.context() as mp:
        rec = _EnvRecorder(mp)
        algo = build_config(spec, econ, register_economy(econ), seed=3).build_algo()
        try:
            results = [algo.train() for _ in range(2)]
            trained = (list(rec.stacked), list(rec.sessions))
            rec.clear()
            algo.env_runner.sample(num_timesteps=4 * SECTOR_SESSIONS // SECTOR_BLOCK, explore=False, force_reset=True)
            greedy = list(rec.sessions)
            module = algo.get_module()
            ck = folder / "checkpoint"
            algo.save_to_path(str(ck))
        finally:
            algo.stop()
    return {"spec": spec, "econ": econ, "results": results, "trained": trained, "greedy": greedy,
            "module": module, "checkpoint": ck, "folder": folder}


def _row_space(econ):
    return econ.vector_env(sessions=1).single_action_space


@pytest.mark.rllib
def test_sector_planner_trains_on_the_stacked_path_with_actions_in_each_rows_bounds(sector_run):
    """PPO trains the d = 3 planner on the stacked path; every action the envs receive has the
    stacked shape (sub-environments, rows * d) and, row by row, lies in the share interval,
    spread inside it (unsquashed from the module's normalised sample, not pinned to a bound)."""
    from ray.rllib.utils.metrics import ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME

    econ, (stacked, sessions) = sector_run["econ"], sector_run["trained"]
    assert sector_run["results"][-1][ENV_RUNNER_RESULTS][NUM_ENV_STEPS_SAMPLED_LIFETIME] >= 2 * 60
    space = _row_space(econ)
    assert space.shape == (SECTORS,)
    assert len(stacked) >= 2 * 60 // (SECTOR_SESSIONS // SECTOR_BLOCK)
    for a in stacked:
        assert a.shape == (SECTOR_SESSIONS // SECTOR_BLOCK, SECTOR_BLOCK * SECTORS)
    for _, a in sessions:
        assert a.shape == (SECTOR_SESSIONS, SECTORS)
    rows = np.concatenate([a.reshape(-1, SECTORS) for a in stacked])
    assert np.all(rows >= space.low) and np.all(rows <= space.high)
    inside = (rows > space.low) & (rows < space.high)
    assert inside.mean() > 0.5
    assert np.ptp(rows, axis=0).min() > 0.25 * (space.high[0] - space.low[0])


@pytest.mark.rllib
def test_each_rows_greedy_action_reaches_its_own_session(sector_run):
    """Deterministic sampling: the action session s's env receives is the module applied to
    session s's observation alone (one row, the single-agent policy), unsquashed to the share
    interval -- so rows are neither permuted nor mixed on the way (module, RLlib's connectors,
    the stacked env, the sessions' env), and the flat action is split row-major."""
    from marketsai.rl.policy import economy_units, greedy_module_actions

    module, econ, greedy = sector_run["module"], sector_run["econ"], sector_run["greedy"]
    space = _row_space(econ)
    assert len(greedy) == 4
    for obs, got in greedy:
        assert obs.shape[0] == SECTOR_SESSIONS
        want = economy_units(greedy_module_actions(module, obs), space)  # each session's row on its own
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
        assert np.ptp(got, axis=0).max() > 0  # sessions in other states act differently: the check can see a swap


@pytest.mark.rllib
def test_evaluation_and_export_of_a_stacked_sector_run_act_as_the_module(sector_run, tmp_path):
    """The greedy policy an evaluation reads from the checkpoint, and the one of its safe
    export, give every session the action the environment got under deterministic sampling."""
    from marketsai.rl.evaluate import greedy_policies
    from marketsai.rl.export import UnsafeCheckpointWarning, export_policy, load_export
    from marketsai.rl.train import EXPERIMENT_FILE

    spec, econ = sector_run["spec"], sector_run["econ"]
    spaces = econ.parallel_env().action_spaces
    from_checkpoint = greedy_policies(sector_run["checkpoint"], spec, econ, spaces)
    with pytest.warns(UnsafeCheckpointWarning):  # exporting reads the checkpoint's pickles
        out = export_policy(sector_run["checkpoint"], tmp_path / "export",
                            experiment=sector_run["folder"] / EXPERIMENT_FILE)
    spec_e, econ_e, multi, mapping = load_export(out)
    from_export = greedy_policies(None, spec_e, econ_e, spaces, multi=multi, mapping=mapping)
    for obs, got in sector_run["greedy"]:
        for policy in (from_checkpoint, from_export):
            np.testing.assert_allclose(policy.act("planner", obs), got, rtol=1e-5, atol=1e-7)


def test_rllibs_unsquash_of_the_flat_stacked_action_is_each_rows_own():
    """RLlib's module-to-env connector unsquashes the module's flat sample element by element
    against the stacked env's Box: with rows of two decisions with different intervals (hours
    and savings share of two_sector_labor), that is each row's own unsquash into its bounds."""
    from ray.rllib.utils.spaces.space_utils import unsquash_action

    from marketsai.rl.policy import economy_units

    stk = mai.load_economy("economies/two_sector_labor.yaml").stacked_env(sessions=2, block=2)
    row = stk.row_action_space
    assert row.shape == (2,) and not np.array_equal(row.low[:1], row.low[1:])
    sample = np.random.default_rng(0).normal(0.0, 1.5, stk.single_action_space.shape).astype(np.float32)
    flat = unsquash_action(sample, stk.single_action_space)
    np.testing.assert_allclose(flat.reshape(stk.rows, 2), economy_units(sample.reshape(stk.rows, 2), row),
                               rtol=1e-6)


@pytest.mark.rllib
def test_export_of_a_vector_sector_run_acts_as_its_checkpoint(local_ray, tmp_path):
    """The VectorEnv path's one shared module (``default_policy``, one agent's spaces) exports
    and loads back with the checkpoint's greedy actions."""
    import yaml

    from marketsai.economy import Economy
    from marketsai.rl.algorithms import build_config
    from marketsai.rl.envs import register_economy
    from marketsai.rl.evaluate import greedy_policies
    from marketsai.rl.export import UnsafeCheckpointWarning, export_policy, load_export
    from marketsai.rl.spec import RLExperimentSpec
    from marketsai.rl.train import EXPERIMENT_FILE, resolved_experiment

    spec = RLExperimentSpec.from_dict(_sector_experiment(stacked=False))
    econ = Economy.from_dict(spec.economy_dict())
    (tmp_path / EXPERIMENT_FILE).write_text(yaml.safe_dump(resolved_experiment(spec, econ), sort_keys=False))
    algo = build_config(spec, econ, register_economy(econ), seed=3).build_algo()
    try:
        algo.train()
        algo.save_to_path(str(tmp_path / "checkpoint"))
    finally:
        algo.stop()
    with pytest.warns(UnsafeCheckpointWarning):
        out = export_policy(tmp_path / "checkpoint", tmp_path / "export", experiment=tmp_path / EXPERIMENT_FILE)
    spec_e, econ_e, multi, mapping = load_export(out)
    spaces = econ.parallel_env().action_spaces
    obs, _ = econ.vector_env(sessions=20).reset(seed=0)
    want = greedy_policies(tmp_path / "checkpoint", spec, econ, spaces).act("planner", obs)
    got = greedy_policies(None, spec_e, econ_e, spaces, multi=multi, mapping=mapping).act("planner", obs)
    assert np.ptp(want, axis=0).max() > 0
    np.testing.assert_array_equal(got, want)
