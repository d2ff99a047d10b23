"""A run folder made before a learner setting existed resumes without recomputing, when
today's value of the setting is its default; any other difference is still refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import marketsai as mai
from marketsai.errors import SpecError
from marketsai.learners import Learner
from marketsai.params import Check, Param, positive_int
from marketsai.policies import TablePolicy

ROOT = Path(__file__).resolve().parents[1]
DUOPOLY = str(ROOT / "economies" / "bertrand_duopoly.yaml")
TRAINED: list[int] = []  # seeds trained, in order, by every run of this module


class GridPrice(Learner):
    """Every firm plays grid index ``price``; records the seeds it trains."""

    settings = {"price": Param(2, positive_int, "grid index played")}
    seeds_per_unit = 2

    def train(self, economy, settings, seeds, run_dir, **kw):
        from marketsai.learners.q_learning import finite_problem
        game = finite_problem(economy)
        TRAINED.extend(seeds)
        return [TablePolicy(game.agents, np.full((game.n_agents, game.n_states), settings["price"]),
                            start_state=0, info={"converged": True}) for _ in seeds]


def _config(**settings) -> dict:
    return {"kind": "learn", "name": "added", "economy": DUOPOLY, "seeds": 4,
            "learner": {"name": f"{__name__}:GridPrice", "settings": settings},
            "sweep": {"learner.settings.price": [2, 3]}}


def _files(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*"))
            if p.is_file() and p.name not in ("log", "provenance.json", ".lock")}


@pytest.fixture(scope="module")
def old_folder(tmp_path_factory):
    """A swept run folder written while GridPrice had no ``offset`` setting."""
    run = mai.run_experiment(_config(), out=tmp_path_factory.mktemp("old") / "run", progress=False)
    assert sorted(TRAINED) == [0, 0, 1, 1, 2, 2, 3, 3]  # 2 cells x 4 seeds
    return run


@pytest.fixture
def offset_added(monkeypatch):
    """GridPrice as a later version declares it: a new setting with a default."""
    monkeypatch.setattr(GridPrice, "settings", GridPrice.settings | {
        "offset": Param(0, Check(lambda x: x in (0, 1), "0 or 1"), "added later")})


def test_a_folder_without_a_setting_now_at_its_default_resumes_without_recomputing(old_folder, offset_added):
    before = _files(old_folder)
    TRAINED.clear()
    for cfg in (_config(), _config(offset=0)):  # the default left out, or given as it is
        assert mai.run_experiment(cfg, out=old_folder, progress=False) == old_folder
    assert TRAINED == []  # every chunk still counted as done
    assert _files(old_folder) == before  # config.yaml as written (it resolves to today's config)
    log = (old_folder / "log").read_text()
    assert "written before learner.settings.offset existed" in log and "4 units (8 seeds), 4 already done" in log


def test_the_setting_at_another_value_or_any_other_difference_is_refused(old_folder, offset_added):
    for cfg, where in ((_config(offset=1), "learner.settings.offset"),
                       ({**_config(), "seed": 5}, "seed")):
        with pytest.raises(SpecError, match=f"different configuration \\(first difference at {where}\\)"):
            mai.run_experiment(cfg, out=old_folder, progress=False)
    assert json.loads((old_folder / "summary.json").read_text())["cells"][1]["learner.settings.price"] == 3


def test_a_folder_written_with_the_setting_keeps_the_full_fingerprints(tmp_path, offset_added):
    """A new folder stamps every setting: fingerprints as before this change, and dropping a
    setting from its config.yaml by hand is a different configuration."""
    from marketsai.runner.config import load_experiment
    from marketsai.runner.schema import dump_yaml, read_yaml

    exp = load_experiment(_config())
    assert exp.unstamped == () and exp.config["learner"]["settings"] == {"price": 2, "offset": 0}
    run = mai.run_experiment(_config(), out=tmp_path / "run", progress=False)
    cfg = read_yaml(run / "config.yaml")
    del cfg["learner"]["settings"]["offset"]
    (run / "config.yaml").write_text(dump_yaml(cfg))
    TRAINED.clear()
    mai.run_experiment(_config(), out=run, progress=False)  # resumed, but its chunks say offset: 0
    assert sorted(TRAINED) == [0, 0, 1, 1, 2, 2, 3, 3]
