"""Agents sharing a policy as one gymnasium VectorEnv: same model as the per-agent path."""

import numpy as np
import pytest

import marketsai as mai


def _oligopoly():
    return mai.Economy.from_dict({
        "name": "olig", "agents": [{"name": "firm", "count": 3, "action": {"points": 7}}],
        "processes": {"shock": {"kind": "markov", "values": [-0.1, 0.1], "transition": [[0.8, 0.2], [0.3, 0.7]]}},
        "markets": [{"type": "bertrand_logit", "participants": ["firm_0", "firm_1", "firm_2"]}]})


@pytest.mark.parametrize("make", [_oligopoly, lambda: mai.load_economy("economies/rbc.yaml"),
                                  lambda: mai.load_economy("economies/brock_mirman.yaml")])
def test_vector_env_equals_the_per_agent_env_step_by_step(make):
    econ = make()
    vec, par = econ.vector_env(sessions=1, max_cycles=30), econ.parallel_env(max_cycles=30)
    ov, _ = vec.reset(seed=5)
    op, _ = par.reset(seed=5)
    for a in econ.agents:
        par.action_space(a).seed(7)
    for _ in range(30):
        assert np.array_equal(ov, np.stack([op[a] for a in econ.agents]))
        acts = np.stack([np.asarray(par.action_space(a).sample()) for a in econ.agents])
        ov, rv, _, tv, _ = vec.step(acts)
        op, rp, _, tp, _ = par.step({a: acts[i] for i, a in enumerate(econ.agents)})
        assert np.array_equal(rv, [rp[a] for a in econ.agents])
        assert tv.all() == all(tp.values())


def test_vector_env_autoresets_on_the_next_step_and_keeps_sessions_apart():
    econ = mai.load_economy("economies/rbc.yaml")
    env = econ.vector_env(sessions=5, max_cycles=2)
    obs, _ = env.reset(seed=1)
    a = np.linspace(0.6, 0.95, 5, dtype=np.float32)[:, None]
    obs1, r1, _, t1, _ = env.step(a)
    obs2, r2, _, t2, _ = env.step(a)
    assert not t1.any() and t2.all()
    assert len(set(np.round(r1, 12))) == 5  # each session its own reward
    obs3, r3, term3, t3, _ = env.step(a)  # NEXT_STEP: the reset step
    assert np.all(r3 == 0) and not t3.any() and not term3.any()
    assert np.allclose(obs3[:, 0], 0.0, atol=1e-6)  # k back at the steady state, the range's middle


def test_vector_env_refuses_several_policy_groups_and_creator_checks_num_envs():
    with pytest.raises(mai.SpecError, match="one policy group"):
        mai.Economy.from_dict({
            "name": "x", "agents": [{"name": "a", "group": "g1", "action": {"points": 5}},
                                    {"name": "b", "group": "g2", "action": {"points": 5}}],
            "markets": [{"type": "bertrand_logit", "participants": ["a", "b"]}]}).vector_env()
    creator = _oligopoly().vector_env_creator()
    assert creator({"num_envs": 6}).num_envs == 6
    with pytest.raises(mai.SpecError, match="multiple"):
        creator({"num_envs": 4})


def test_creators_survive_a_pickle_round_trip():
    """RLlib ships a creator to its env runners by pickle: the economy travels inside it
    (without its lazy caches) and its envs step exactly like the original's."""
    import pickle

    econ = _oligopoly()
    econ.vector_env(sessions=2).reset(seed=0)  # fills the economy's lazy caches
    for make in (econ.vector_env_creator, econ.stacked_env_creator):
        here, there = make(), pickle.loads(pickle.dumps(make()))
        assert len(pickle.dumps(make())) < 20_000
        a, b = here({"num_envs": 3}), there({"num_envs": 3})
        (oa, _), (ob, _) = a.reset(seed=4), b.reset(seed=4)
        np.testing.assert_array_equal(oa, ob)
        acts = np.random.default_rng(0).integers(0, 5, size=a.action_space.shape)
        np.testing.assert_array_equal(a.step(acts)[0], b.step(acts)[0])


def test_common_shocks_put_each_group_of_sessions_on_one_shock_path():
    """Groups of ``common_shocks`` sessions share their TFP path; groups differ; the states do not."""
    econ = mai.load_economy("economies/brock_mirman_share.yaml")
    from marketsai.envs.vector import EconomyVectorEnv
    env = EconomyVectorEnv(econ, sessions=6, max_cycles=40, common_shocks=3)
    obs, _ = env.reset(seed=1)
    z, k = [obs[:, 1]], [obs[:, 0]]
    for _ in range(39):
        obs, *_ = env.step(np.full((6, 1), 0.342, np.float32))
        z.append(obs[:, 1])
        k.append(obs[:, 0])
    z = np.array(z).reshape(40, 2, 3)
    assert np.array_equal(z, np.broadcast_to(z[:, :, :1], z.shape))  # one path per group
    assert not np.array_equal(z[:, 0], z[:, 1])  # the groups' paths are not the same
    assert len(set(np.round(k[0], 9))) == 6  # initial capital is still each session's own
    with pytest.raises(mai.SpecError, match="common_shocks") as err:
        EconomyVectorEnv(econ, sessions=6, common_shocks=4)
    assert err.value.value == 4 and "divisor of 6" in str(err.value)
