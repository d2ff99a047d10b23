"""The ``reference`` learner's solver settings: declared, validated, and passed to the solver."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import marketsai as mai
from marketsai.errors import SpecError
from marketsai.learners import learners
from marketsai.runner import load_experiment

ROOT = Path(__file__).resolve().parents[1]
KS = str(ROOT / "economies" / "krusell_smith.yaml")
TWO_SECTOR = str(ROOT / "economies" / "two_sector_labor.yaml")
#: a short, coarse Krusell-Smith solve (about a second once compiled)
SHORT = {"n_dist": 200, "T": 1100, "discard": 100, "T_test": 500, "max_iter": 30}


def _settings(economy: str, settings: dict) -> dict:
    cfg = {"kind": "learn", "economy": economy, "learner": {"name": "reference", "settings": settings}}
    return load_experiment(cfg).config["learner"]["settings"]


def _train(economy: str, settings: dict):
    (policy,) = learners.get("reference")().train(mai.load_economy(economy), _settings(economy, settings),
                                                   [0], None)
    return policy


def test_a_coarser_savings_grid_gives_larger_euler_errors():
    fine = _train(KS, {"solution": "krusell_smith", "krusell_smith": SHORT | {"n_a": 60}}).info
    coarse = _train(KS, {"solution": "krusell_smith", "krusell_smith": SHORT | {"n_a": 12}}).info
    assert fine["converged"] and coarse["converged"]
    assert coarse["solver_euler_log10_max"] > fine["solver_euler_log10_max"] + 0.5
    assert coarse["solver_euler_log10_mean"] > fine["solver_euler_log10_mean"]
    assert coarse["solver_K_mean"] != fine["solver_K_mean"]


def test_too_few_iterations_say_the_solver_did_not_converge():
    info = _train(KS, {"solution": "krusell_smith", "krusell_smith": SHORT | {"n_a": 12, "max_iter": 2}}).info
    assert info["converged"] is False and info["solver_iterations"] == 2


def test_newton_reaches_the_closed_form_steady_state_and_too_few_iterations_are_refused():
    obs = np.zeros((1, 3))  # the steady-state decisions do not depend on the observation
    shares = {method: _train(TWO_SECTOR, {"solution": "two_sector_steady_state",
                                          "two_sector_steady_state": {"method": method}})(obs)
              for method in ("closed_form", "newton")}
    np.testing.assert_allclose(shares["newton"], shares["closed_form"], rtol=1e-12)
    with pytest.raises(SpecError, match=r"learner\.settings\.two_sector_steady_state\.max_iter = 2: "
                                        r"the steady state is not found"):
        _settings(TWO_SECTOR, {"solution": "two_sector_steady_state",
                               "two_sector_steady_state": {"method": "newton", "max_iter": 2}})


@pytest.mark.parametrize(("section", "message"), [
    ({"n_a": 2}, r"learner\.settings\.krusell_smith\.n_a = 2: invalid value \(allowed: an integer in \[4, "),
    ({"K_bounds": [1.1, 1.2]}, r"krusell_smith\.K_bounds = \[1\.1, 1\.2\]: the aggregate-capital grid must "
                               r"bracket the steady state \(allowed: \[lo, hi\] with 0 < lo < 1 < hi\)"),
    ({"damping": 0}, r"krusell_smith\.damping = 0: invalid value \(allowed: a number in \(0, 1\]\)"),
    ({"T": 500}, r"krusell_smith\.discard = 1000: the regression needs more than 10 periods after the "
                 r"discarded ones \(allowed: an integer in \[0, T - 11 = 489\]\)"),
    ({"tol": -1e-6}, r"krusell_smith\.tol = -1e-06: invalid value \(allowed: a finite number > 0\)"),
    ({"n_aa": 10}, r"krusell_smith\.n_aa = 10: unknown key; did you mean 'n_a'\?"),
])
def test_bad_solver_settings_are_refused_naming_the_field(section, message):
    with pytest.raises(SpecError, match=message):
        _settings(KS, {"solution": "krusell_smith", "krusell_smith": section})


def test_settings_of_another_solution_are_refused_not_ignored():
    with pytest.raises(SpecError, match=r"learner\.settings\.krusell_smith\.n_a = 50: settings of the "
                                        r"krusell_smith solver, but solution is 'closed_form'"):
        _settings(KS, {"solution": "closed_form", "krusell_smith": {"n_a": 50}})
    resolved = _settings(KS, {"solution": "closed_form"})  # the defaults, shown, are fine
    assert resolved["krusell_smith"]["n_a"] == 200 and resolved["two_sector_steady_state"]["method"] == "closed_form"
