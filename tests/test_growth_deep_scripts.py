"""The growth_deep study's reading scripts: the seed summary and the figures' learning curves.

Why: docs/growth.md quotes the seed summary's table and draws the figures from run
folders; the summary must group a recipe's seeds and count the goal right, and the
policy's std must be read back from RLlib's logged entropy correctly.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def script(name):
    spec = importlib.util.spec_from_file_location(f"growth_deep_{name}", ROOT / "experiments" / "growth_deep" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def seed_summary():
    return script("seed_summary")


@pytest.fixture(scope="module")
def figures():
    return script("figures")


def test_seed_summary_groups_a_recipes_seeds_and_counts_the_goal(seed_summary):
    cols = {m: [1.0, 2.0, 3.0, 4.0] for m in seed_summary.MEASURES}
    table = pd.DataFrame({"run": ["base", "crn", "crn_seed1", "crn_seed2"], "seed": [0, 0, 1, 2], **cols,
                          "share_err_max": [0.02, 0.011, 0.009, 0.01]})
    out = seed_summary.summarise(table, goal=0.01).set_index("recipe")
    assert list(out.index) == ["base", "crn"]
    assert out.loc["crn", "seeds"] == 3 and out.loc["crn", "seed_list"] == "0 1 2"
    assert out.loc["crn", "under_goal"] == 2 and out.loc["base", "under_goal"] == 0  # <= goal counts
    assert out.loc["crn", "share_err_max_mean"] == pytest.approx(0.01)
    assert out.loc["crn", "share_err_max_sd"] == pytest.approx(0.001)  # sample sd of 0.011, 0.009, 0.01
    assert (out.loc["crn", "euler_mean_min"], out.loc["crn", "euler_mean_max"]) == (2.0, 4.0)
    assert pd.isna(out.loc["base", "share_err_max_sd"])


def test_the_committed_seed_summary_is_the_ablation_tables(seed_summary):
    results = ROOT / "experiments" / "growth_deep" / "results"
    fresh = seed_summary.summarise(pd.read_csv(seed_summary.TABLE), goal=0.01)
    committed = pd.read_csv(results / "ablation_2026-12-07_seeds.csv")
    pd.testing.assert_frame_equal(committed, fresh, check_dtype=False)


def test_learning_curve_reads_the_policy_std_from_the_entropy(figures, tmp_path):
    trial = tmp_path / "units" / "s0-0" / "seed0" / "tune" / "PPO_x"
    trial.mkdir(parents=True)
    std = np.array([0.5, 0.02, 0.001])  # on RLlib's normalised scale
    pd.DataFrame({"num_env_steps_sampled_lifetime": [1, 2, 3], "time_total_s": [1.0, 2.0, 3.0],
                  "env_runners/episode_return_mean": [-3.0, -2.0, -1.0],
                  "learners/default_policy/entropy": np.log(std) + 0.5 * math.log(2 * math.pi * math.e)},
                 ).to_csv(trial / "progress.csv", index=False)
    p = figures.progress_of(tmp_path, periods_per_step=10, share_half_width=0.45)
    np.testing.assert_allclose(p["std"], std * 0.45)
    assert p["periods"].tolist() == [10, 20, 30]


def test_figures_are_drawn_per_economy(figures, tmp_path):
    curves = pd.DataFrame({"iz": np.repeat([0, 1, 2], 4), "z": np.repeat([0.9, 1.0, 1.1], 4),
                           "k": np.tile(np.linspace(0.16, 0.21, 4), 3), "share": 0.34, "share_exact": 0.342,
                           "euler": -2.0})
    progress = pd.DataFrame({"periods": [1e5, 2e5], "time_s": [1, 2], "return": [-5.0, -4.0], "std": [0.1, 0.01]})
    runs = [figures.Run("a", 0, "econ", curves, progress), figures.Run("a", 1, "econ", curves, progress)]
    written = figures.draw(runs, tmp_path)
    assert sorted(p.name for p in written) == [f"growth_deep_{n}_econ.png" for n in ("euler", "learning", "share")]
    assert all(p.stat().st_size > 0 for p in written)
    assert figures.parse_target("lab=runs/x=y") == ("lab", Path("runs/x=y"))
    assert figures.parse_target("runs/x") == (None, Path("runs/x"))
