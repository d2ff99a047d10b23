"""`marketsai export RUN/units/<chunk id>/<learner>.pt --seed S`: one seed of a seed-batched
learner's unit as a policy export (policy.json + weights.npz), and `marketsai evaluate` of it
playing the policy the run evaluated (issue 20: export stays per seed).

Small: the Calvano duopoly (grid, or prices from an interval), 2 seeds, 16x16 networks,
tens of updates.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")

from click.testing import CliRunner  # noqa: E402
from rl_helpers import DUOPOLY, batched_dqn_settings, cli_evaluate_settings, continuous_duopoly  # noqa: E402

import marketsai as mai  # noqa: E402
from marketsai.cli import main  # noqa: E402
from marketsai.errors import SpecError  # noqa: E402
from marketsai.rl.seed_export import load_seed_export, read_unit  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SMALL = {"periods": 40, "learning_starts": 20, "hiddens": [16, 16], "train_batch_size": 16, "checkpoint_every": 0,
         "episode_length": 50}
#: learner, economy, settings: each batched learner and each of sac_batched's and ppo_batched's kinds
CASES = {  # dqn_batched named by import path, as a learner outside the registry would be
    "dqn_batched": ("marketsai.rl.batched_dqn:BatchedDQN", str(DUOPOLY), SMALL),
    "sac_batched_grid": ("sac_batched", str(DUOPOLY), SMALL),
    "sac_batched_interval": ("sac_batched", continuous_duopoly(), SMALL),
    "ppo_batched": ("ppo_batched", str(DUOPOLY), {"periods": 50, "rollout_periods": 25, "minibatch_size": 5,
                                                   "num_epochs": 1, "hiddens": [16, 16], "checkpoint_every": 0,
                                                   "episode_length": 50}),
    "ppo_batched_interval": ("ppo_batched", continuous_duopoly(), {"periods": 50, "rollout_periods": 25,
                                                                   "minibatch_size": 5, "num_epochs": 1,
                                                                   "hiddens": [16, 16], "checkpoint_every": 0,
                                                                   "episode_length": 50}),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """``case -> run folder`` of a kind: learn run of seeds 0 and 1 (root seed 3), each seed
    evaluated by the run as `marketsai evaluate EXPORT --episodes 2` evaluates; made on first use."""
    made = {}

    def run(case: str):
        if case not in made:
            learner, economy, settings = CASES[case]
            evaluation = cli_evaluate_settings(episodes=2) | ({"untrained": True} if case == "sac_batched_grid" else {})
            cfg = {"kind": "learn", "name": case, "economy": economy, "seed": 3, "seeds": 2,
                   "learner": {"name": learner, "settings": settings},
                   "evaluate": [{"name": "calvano", "settings": evaluation}]}
            made[case] = mai.run_experiment(cfg, out=tmp_path_factory.mktemp(case) / "run", progress=False)
        return made[case]
    return run


def test_kind_learn_runs_the_seeds_as_one_batch(runs):
    """The runner's ``seeds`` are the batch: one results row per seed and episode, the
    calvano columns, one torch file for the unit (dqn_batched named by import path)."""
    run = runs("dqn_batched")
    res = pd.read_parquet(run / "results.parquet")
    assert sorted(res["seed"]) == [0, 0, 1, 1] and set(res["updates"]) == {21}  # 2 evaluation rows a seed
    assert {"profit_gain", "cycle_length"} <= set(res.columns)
    assert len(list(run.rglob("dqn_batched.pt"))) == 1


def test_kind_learn_runs_sac_on_the_grid_with_its_untrained_floor(runs):
    """``sac_batched`` chooses the discrete loss for the grid economy; one results row per
    seed and episode, the calvano columns, the untrained floor beside the trained policy."""
    run = runs("sac_batched_grid")
    res = pd.read_parquet(run / "results.parquet")
    assert sorted(res["seed"]) == [0, 0, 1, 1] and set(res["updates"]) == {21}
    assert {"profit_gain", "cycle_length"} <= set(res.columns)
    assert len(list(run.rglob("sac_batched.pt"))) == 1
    assert "profit_gain" in json.loads((run / "summary.json").read_text())["untrained"]


@pytest.mark.parametrize("case", list(CASES))
def test_evaluate_of_a_seeds_export_gives_the_runs_own_rows(case, runs, tmp_path):
    """Export seed 1 of the unit's torch file, evaluate the export: the run's results rows of
    seed 1 (every calvano column evaluate writes), not seed 0's; the export is data only."""
    run = runs(case)
    learner = CASES[case][0].replace("marketsai.rl.batched_dqn:BatchedDQN", "dqn_batched")
    (unit,) = run.glob(f"units/*/{learner}.pt")
    cli = CliRunner()
    done = cli.invoke(main, ["export", str(unit), "--seed", "1", "--out", str(tmp_path / "export")])
    assert done.exit_code == 0, done.output
    assert "unpickles" not in done.output  # read by torch's restricted loader
    assert sorted(p.name for p in (tmp_path / "export").iterdir()) == ["policy.json", "weights.npz"]
    meta = json.loads((tmp_path / "export" / "policy.json").read_text())
    assert meta["algorithm"] == learner and meta["experiment"]["seed"] == 1
    done = cli.invoke(main, ["evaluate", str(tmp_path / "export"), "--episodes", "2", "--seed", "1",
                             "--out", str(tmp_path / "eval")])
    assert done.exit_code == 0, done.output
    table = pd.read_parquet(tmp_path / "eval" / "results.parquet")
    res = pd.read_parquet(run / "results.parquet")
    assert len(table) == 2 and set(table.columns) < set(res.columns) and "profit_gain" in table
    own, other = (res[res["seed"] == s].reset_index(drop=True)[list(table.columns)] for s in (1, 0))
    pd.testing.assert_frame_equal(table, own, check_dtype=False)
    assert not np.allclose(table["mean_price"], other["mean_price"])


def test_a_seed_the_unit_does_not_hold_is_refused_with_the_seeds_it_holds(runs, tmp_path):
    (unit,) = runs("dqn_batched").glob("units/*/dqn_batched.pt")
    cli = CliRunner()
    for args, message in ((["--seed", "5"], "--seed = 5: the unit does not hold this seed"),
                          ([], "--seed = None: name a seed that the unit holds")):
        done = cli.invoke(main, ["export", str(unit.parent), *args, "--out", str(tmp_path / "export")])
        assert done.exit_code == 1
        assert message in done.output and "(allowed: a seed of dqn_batched.pt: 0, 1)" in done.output
    assert not (tmp_path / "export").exists()
    done = cli.invoke(main, ["evaluate", str(unit.parent)])
    assert done.exit_code == 1 and f"Export one seed first: `marketsai export {unit} --seed S" in done.output


@pytest.mark.parametrize("change", [{"policies": "shared"}, {"backend": "rllib"}])
def test_shared_networks_and_rllibs_dqn_learner_export_the_greedy_policy(duopoly, tmp_path, monkeypatch, change):
    """A seed's one network shared by its agents (``policies: shared``: module ``shared``),
    and the Q-networks in the RLlib backend's learner state, export to the greedy actions the
    run's own policy takes on every state; the export is read with every unpickling entry
    point disabled."""
    import pickle

    import torch

    from marketsai.rl.batched_dqn import train_batched
    from marketsai.rl.seed_export import export_checkpoint
    run = train_batched(duopoly, batched_dqn_settings(periods=40, **change), [4, 7], tmp_path, root_seed=2)
    export_checkpoint(tmp_path / "dqn_batched.pt", tmp_path / "export", seed=7)

    def refuse(*args, **kwargs):
        raise AssertionError("unpickling attempted")
    with monkeypatch.context() as m:
        for name in ("load", "loads", "Unpickler"):
            m.setattr(pickle, name, refuse)
        m.setattr(torch, "load", refuse)
        econ, policy, _ = load_seed_export(tmp_path / "export")
    obs = econ.observe(econ.initial_state(np.random.default_rng(0), batch=1000))  # nearly all 225 states
    mine, other = run.policies()[1], run.policies()[0]
    for agent in econ.actors:
        np.testing.assert_array_equal(policy.act(agent, obs[agent]), mine.act(agent, obs[agent]))
    assert any((policy.act(a, obs[a]) != other.act(a, obs[a])).any() for a in econ.actors)
    mapping = json.loads((tmp_path / "export" / "policy.json").read_text())["mapping"]
    assert mapping == {a: "shared" if change == {"policies": "shared"} else a for a in econ.actors}


def test_a_unit_file_that_needs_unpickling_code_is_refused_unrun(tmp_path):
    """A torch file naming a function to call (here ``os.system``) is refused by the
    restricted loader before anything runs."""
    import torch

    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            import os
            return os.system, (f"touch {marker}",)

    file = tmp_path / "dqn_batched.pt"
    torch.save({"key": "[]", "run": Payload()}, file)
    with pytest.raises(SpecError, match="not readable as a batched learner's checkpoint by torch's restricted"):
        read_unit(file)
    assert not marker.exists()


def test_batched_checkpoints_are_read_once_and_again_after_a_learner_is_registered(monkeypatch):
    """The registry is walked once; a learner registered (or forgotten) later is seen."""
    from marketsai.learners import Learner, learners
    from marketsai.rl.export import batched_checkpoints

    class ToyRun:
        checkpoint = "toy_batched.pt"

    class ToyBatched(Learner):
        run_class = ToyRun

    before = batched_checkpoints()
    assert before["dqn_batched.pt"] == "dqn_batched" and "toy_batched.pt" not in before
    asked = []
    monkeypatch.setattr(learners, "get", lambda name, path="": asked.append(name) or learners._items[name])
    assert batched_checkpoints() == before and asked == []  # cached: no learner looked up
    learners.register("toy_batched_test", ToyBatched)
    try:
        assert batched_checkpoints() == before | {"toy_batched.pt": "toy_batched_test"}
        assert "toy_batched_test" in asked
    finally:
        learners.unregister("toy_batched_test")
    assert batched_checkpoints() == before
