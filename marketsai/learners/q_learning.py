"""``q_learning``: independent tabular Q-learners (Calvano et al. 2020), numba sessions.

A seed is a session: session ``s`` draws from ``np.random.SeedSequence(root_seed,
spawn_key=(s,))``, so seeds ``0..S-1`` under the experiment's ``seed`` are exactly the
sessions of ``kind: tabular`` with the same ``seed``. One call runs its batch of
sessions on all cores (:func:`marketsai.tabular.run_sessions`).

The economy runs on its finite game when it has one with memory ``k >= 1`` (the memory
kernel), else on its finite model (the general kernel); see :func:`finite_problem`.
Each session gives a :class:`~marketsai.policies.TablePolicy`: its greedy table, the
state it ended in (``start_state``: where its limit cycle is read) and ``info`` =
``{seed, converged, periods}``; :meth:`QLearning.initial_policy` is the greedy table of the
initial Q-table (the ``untrained`` baseline). Resume: the unit's sessions are saved to
``RUN_DIR/sessions.npz`` when done; a rerun of the unit loads them instead of learning
again.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from marketsai.errors import SpecError
from marketsai.learners.base import Learner, learners
from marketsai.policies import TablePolicy
from marketsai.tabular.config import SETTINGS, QLearningConfig

SESSIONS_FILE = "sessions.npz"


@functools.lru_cache(maxsize=8)
def _problem(economy_json: str):
    from marketsai.economy import Economy
    from marketsai.finite_model import FiniteModel

    econ = Economy.from_dict(json.loads(economy_json))
    finite_model = getattr(econ, "finite_model", None)
    try:
        game = econ.finite_game()
    except SpecError:
        if finite_model is None:
            raise
        return finite_model()
    if game.memory >= 1:
        return game
    return finite_model() if finite_model is not None else FiniteModel.from_game(game)


def finite_problem(economy):
    """The FiniteGame (memory >= 1) or FiniteModel the sessions run on.

    ``economy`` is an :class:`~marketsai.economy.Economy` or its plain mapping; cached per
    process (units of a cell share it).
    """
    data = economy if isinstance(economy, dict) else economy.to_dict()
    return _problem(json.dumps(data, sort_keys=True))


def is_model(problem) -> bool:
    from marketsai.finite_model import FiniteModel
    return isinstance(problem, FiniteModel)


def config_of(settings: dict) -> QLearningConfig:
    """The kernel's parameters from resolved settings."""
    return QLearningConfig(**settings)


def plain(x):
    """Settings as the resolved config holds them (lists, no arrays or tuples)."""
    if isinstance(x, tuple):
        return [plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    return x


@learners.register("q_learning")
class QLearning(Learner):
    """Tabular Q-learning sessions (see the module docstring)."""

    settings = SETTINGS
    seeds_per_unit = 50

    def check(self, economy, settings: dict) -> dict:
        """Per-agent values against the agents, the finite game or model, memory, protocol."""
        lc = config_of(settings)
        out = {k: plain(v) for k, v in lc.to_dict().items()}
        if not isinstance(lc.q0, str):
            out["q0"] = settings["q0"]
        agents = economy["agents"] if isinstance(economy, dict) else economy.to_dict()["agents"]
        for name in ("alpha", "beta"):
            lc.per_agent(name, len(agents))
        try:  # economies without a finite game fail now, not in the first unit
            problem = finite_problem(economy)
        except SpecError as err:
            raise (err if err.path.startswith("economy") else err.under("economy")) from None
        from marketsai.tabular.sessions import check_memory
        check_memory(problem, lc, 1)  # one session's tables must fit before a run folder exists
        if is_model(problem):
            from marketsai.tabular.models import check_protocol
            check_protocol(problem, lc.protocol)
        from marketsai.tabular.models import check_solver_options
        check_solver_options(problem, lc)  # expected targets need a known chain, ...
        if lc.device == "cuda":  # before a run folder exists: a device, and a covered run
            from marketsai.tabular import gpu
            gpu.check_run(problem, lc)
        return out

    def sessions(self, economy, settings: dict, seeds, *, root_seed: int = 0, threads=None,
                 curve=None):
        """The engine's :class:`~marketsai.tabular.SessionResults` of sessions ``seeds``
        (what ``kind: tabular`` tabulates in full); ``curve``: an optional
        :class:`~marketsai.tabular.learning_curve.LearningCurve` that samples play meanwhile."""
        from marketsai.tabular import run_sessions
        return run_sessions(finite_problem(economy), config_of(settings), seed=root_seed,
                            sessions=seeds, threads=threads, curve=curve)

    def train(self, economy, settings, seeds, run_dir, *, root_seed=0, threads=None, address=None):
        from marketsai.tabular import SessionResults

        path = Path(run_dir) / SESSIONS_FILE
        res = None
        if path.is_file():  # a finished unit interrupted before the runner recorded it
            res = SessionResults.load(path)
            if res.seed != root_seed or res.sessions.tolist() != [int(s) for s in seeds]:
                res = None
        if res is None:
            res = self.sessions(economy, settings, seeds, root_seed=root_seed, threads=threads)
            tmp = path.with_suffix(".tmp.npz")
            res.save(tmp)
            tmp.replace(path)
        return policies_of(res, finite_problem(economy).agents)

    def initial_policy(self, economy, settings, seed=0):
        """The greedy table of the initial Q-table ``q0`` (what every session starts from;
        ties to the lowest action, where the engine breaks them at random): the
        ``untrained`` baseline of an evaluation."""
        from marketsai.tabular.models import model_q0_table
        from marketsai.tabular.sessions import game_q0_table

        problem = finite_problem(economy)
        model = is_model(problem)
        q0, div = (model_q0_table if model else game_q0_table)(problem, config_of(settings))
        q = q0[:, np.arange(problem.n_states) // div, :]
        if model:  # rows are padded to the largest action set: never pick a padded action
            nact = np.asarray(problem.n_actions)
            q = np.where(np.arange(q.shape[2]) < nact[:, None, None], q, -np.inf)
        return TablePolicy(problem.agents, q.argmax(axis=2), info={"seed": int(seed)})


def policies_of(res, agents) -> list[TablePolicy]:
    """One :class:`TablePolicy` per session of a :class:`~marketsai.tabular.SessionResults`."""
    final = np.asarray(res.final.state, dtype=np.int64)
    return [TablePolicy(agents, res.strategies[k], start_state=int(final[k]),
                        info={"seed": int(res.sessions[k]), "converged": bool(res.converged[k]),
                              "periods": int(res.periods[k])})
            for k in range(len(res.sessions))]
