"""Evaluating a stacked-population checkpoint (one RowModule, one head per firm).

A stacked ``policies: agent`` run has a single module (``default_policy``) whose firm-i
policy is the module applied to ``[observation, one_hot(i)]``. The evaluation tabulates
that into greedy strategies; these tests check the tabulation against what the module
does in the stacked environment it was trained in, and that the whole evaluation runs.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

torch = pytest.importorskip("torch")

SESSIONS = 8


def _experiment(algorithm: str) -> dict:
    import rl_helpers
    exp = rl_helpers.experiment("PPO", env={"max_cycles": 10, "sessions": SESSIONS, "stacked": True,
                                            "block": SESSIONS})
    exp["algorithm"] = {"name": algorithm,
                        "settings": {"train_batch_size_per_learner": 10, "minibatch_size": 10, "num_epochs": 1},
                        "model": {"fcnet_hiddens": [16, 16]}}
    exp["policies"] = "agent"
    exp["evaluation"] = {"episodes": 5, "periods": 30, "tail": 10, "impulse_periods": 4}
    return exp


def _checkpoint(folder, algorithm: str, train: bool):
    """A stacked run folder with ``experiment.yaml`` and one checkpoint (after one iteration if ``train``)."""
    from marketsai.economy import Economy
    from marketsai.rl.algorithms import build_config
    from marketsai.rl.envs import register_economy
    from marketsai.rl.spec import RLExperimentSpec
    from marketsai.rl.train import EXPERIMENT_FILE, resolved_experiment

    spec = RLExperimentSpec.from_dict(_experiment(algorithm))
    econ = Economy.from_dict(spec.economy_dict())
    folder.mkdir(parents=True, exist_ok=True)
    (folder / EXPERIMENT_FILE).write_text(yaml.safe_dump(resolved_experiment(spec, econ), sort_keys=False))
    algo = build_config(spec, econ, register_economy(econ), seed=3).build_algo()
    try:
        if train:
            algo.train()
        ck = folder / "seed_3" / "checkpoint"
        algo.save_to_path(str(ck))
    finally:
        algo.stop()
    return ck, econ


@pytest.fixture(scope="module")
def stacked_ppo(local_ray, tmp_path_factory):
    return _checkpoint(tmp_path_factory.mktemp("stacked_ppo"), "PPO", train=True)


def _policies(ck, econ, agents=None):
    from marketsai.rl.evaluate import STACKED_MODULE_ID
    from marketsai.rl.policy import GreedyPolicies

    env = econ.parallel_env(max_cycles=50)
    return GreedyPolicies(ck, {a: STACKED_MODULE_ID for a in econ.actors}, env.action_spaces,
                          one_hot=agents or econ.actors), env


def test_tabulated_strategies_match_the_modules_actions_in_the_stacked_env(stacked_ppo):
    """For every (session, firm) and period of random play in the stacked env, the module's
    greedy action on that row equals the tabulated strategy at the session's state."""
    from ray.rllib.core.columns import Columns

    from marketsai.analysis.calvano import tabulate

    ck, econ = stacked_ppo
    policies, env = _policies(ck, econ)
    game = econ.finite_game()
    strategies = tabulate(econ, policies, game)  # (2 firms, 225 states)
    assert strategies.shape == (2, game.n_states)
    # the two heads are different networks: a swapped one-hot would be seen below
    assert np.any(strategies[0] != strategies[1])

    module = policies.multi["default_policy"]
    stk = econ.stacked_env(sessions=SESSIONS, max_cycles=100, block=SESSIONS, agent_ids=True)
    obs, _ = stk.reset(seed=5)
    rng = np.random.default_rng(0)
    m = game.n_actions
    checked = set()
    for _ in range(40):
        joint = rng.integers(0, m, size=(SESSIONS, 2))
        obs, *_ = stk.step(joint.reshape(1, -1))
        with torch.no_grad():
            logits = module.forward_inference({Columns.OBS: torch.as_tensor(obs)})[Columns.ACTION_DIST_INPUTS]
        greedy = logits.numpy().reshape(SESSIONS, 2, m).argmax(axis=-1)  # row b * 2 + i
        states = joint[:, 0] * m + joint[:, 1]  # memory 1: last joint action, firm 0 most significant
        for b in range(SESSIONS):
            for i in range(2):
                assert greedy[b, i] == strategies[i, states[b]], (b, i, states[b])
            checked.add(int(states[b]))
    assert len(checked) > 100


def test_agent_order_selects_the_head(stacked_ppo):
    """Listing the firms the other way round feeds firm 0 the one-hot of firm 1: other strategies."""
    from marketsai.analysis.calvano import tabulate

    ck, econ = stacked_ppo
    game = econ.finite_game()
    right, env = _policies(ck, econ)
    swapped, _ = _policies(ck, econ, agents=list(econ.actors)[::-1])
    a = tabulate(econ, right, game)
    b = tabulate(econ, swapped, game)
    np.testing.assert_array_equal(a[0], b[1])
    np.testing.assert_array_equal(a[1], b[0])


def _limit_cycle(strategies, start, m):
    """The states of the limit cycle reached from ``start`` when both firms play their
    tabulated strategy (memory 1: the state is the last joint action, firm 0 most significant)."""
    seen, s = [], int(start)
    while s not in seen:
        seen.append(s)
        s = int(strategies[0, s]) * m + int(strategies[1, s])
    return seen[seen.index(s):]


def test_evaluate_a_stacked_checkpoint(stacked_ppo, tmp_path):
    """Each episode's row is the limit cycle of the tabulated strategies from its start state,
    followed here by hand: its length, its mean prices and its profit gains."""
    from marketsai.analysis.calvano import tabulate
    from marketsai.rl.evaluate import evaluate

    ck, econ = stacked_ppo
    summary = evaluate(ck, tmp_path / "ev")
    assert summary["sessions"] == 5
    on_disk = json.loads((tmp_path / "ev" / "summary.json").read_text())
    assert on_disk["profit_gain"] == pytest.approx(summary["profit_gain"])
    game = econ.finite_game()
    m = game.n_actions
    policies, env = _policies(ck, econ)
    strategies = tabulate(econ, policies, game)
    results = pd.read_parquet(tmp_path / "ev" / "results.parquet")
    assert len(results) == 5
    for row in results.itertuples():
        cycle = _limit_cycle(strategies, row.start_state, m)
        assert row.cycle_length == len(cycle)
        acts = np.array([[s // m, s % m] for s in cycle])  # joint actions on the cycle
        prices = game.actions[[0, 1], acts].mean(axis=0)
        profits = game.payoffs[0, cycle].mean(axis=0)
        gains = (profits - game.nash_payoff) / (game.coop_payoff - game.nash_payoff)
        np.testing.assert_allclose([row.mean_price_0, row.mean_price_1], prices, rtol=1e-12)
        np.testing.assert_allclose([row.mean_profit_0, row.mean_profit_1], profits, rtol=1e-12)
        np.testing.assert_allclose([row.profit_gain_0, row.profit_gain_1], gains, rtol=1e-9)
    assert summary["mean_price"] == pytest.approx(results["mean_price"].mean(), rel=1e-12)
    assert summary["cycle_length_mean"] == pytest.approx(results["cycle_length"].mean(), rel=1e-12)
    assert summary["profit_gain"] == pytest.approx(results["profit_gain"].mean(), rel=1e-12)
    assert summary["eq_on_path_share"] == pytest.approx(results["eq_on_path"].mean(), rel=1e-12)
    grid = econ.decisions[0].grid
    assert grid[0] <= summary["impulse_best_response_t1_deviator"] <= grid[-1]
    paths = pd.read_csv(tmp_path / "ev" / "impulse_response.csv")
    assert len(paths) == 5 * (4 + 1)  # one path per episode, t = 0 .. impulse_periods


def test_evaluate_a_stacked_centralised_critic_checkpoint(local_ray, tmp_path):
    """The centralised critic's module (critic on the aggregate state) evaluates the same way."""
    from marketsai.rl.evaluate import evaluate

    ck, econ = _checkpoint(tmp_path / "cc", "centralised_critic", train=False)
    summary = evaluate(ck, tmp_path / "ev", episodes=3)
    assert summary["algorithm"] == "centralised_critic"
    assert summary["sessions"] == 3
    assert np.isfinite(summary["profit_gain"])


def test_export_of_a_stacked_checkpoint_keeps_every_firms_strategy(stacked_ppo, tmp_path):
    """A safe export of the stacked run (one RowModule, a head per firm) rebuilds the module
    from the experiment and tabulates to the checkpoint's strategies; evaluate reads it."""
    from marketsai.analysis.calvano import tabulate
    from marketsai.rl.evaluate import evaluate, greedy_policies
    from marketsai.rl.export import UnsafeCheckpointWarning, export_policy, load_export

    ck, econ = stacked_ppo
    with pytest.warns(UnsafeCheckpointWarning):
        out = export_policy(ck, tmp_path / "export")
    spec, econ_e, multi, mapping = load_export(out)
    from_export = greedy_policies(None, spec, econ_e, econ.parallel_env().action_spaces, multi=multi,
                                  mapping=mapping)
    game = econ.finite_game()
    np.testing.assert_array_equal(tabulate(econ, from_export, game), tabulate(econ, _policies(ck, econ)[0], game))
    assert evaluate(out, tmp_path / "ev", episodes=2)["sessions"] == 2
