"""``run_sessions``: init + advance + outcomes for many sessions, and their results table.

``run_sessions`` takes a FiniteGame or a FiniteModel. For a model without exogenous
states the limit cycle of greedy play is followed through ``next_x``; with exogenous
shocks greedy play has no single path, so the cycle columns are empty (length 0, NaN
means) and the result is the greedy policy table ``strategies``. Profit gains need the
model's strategic ``benchmarks``; without them the table reports the mean outcome
(``mean_<outcome_name>``) and reward instead.

Examples
--------
>>> from marketsai.tabular.games import prisoners_dilemma
>>> cfg = QLearningConfig(alpha=0.1, beta=1e-3, stable_periods=1000)
>>> res = run_sessions(prisoners_dilemma(), cfg, seed=0, sessions=range(3))
>>> list(res.to_frame().columns[:7])
['session', 'seed', 'converged', 'periods', 'cycle_length', 'mean_price', 'profit_gain']
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from marketsai.errors import SpecError
from marketsai.tabular.config import QLearningConfig
from marketsai.tabular.outcomes import cycle_path, model_cycle_path, profit_gain
from marketsai.tabular.sessions import (
    STATE_FIELDS,
    SessionState,
    advance,
    available_memory_bytes,
    check_memory,
    init_sessions,
    is_model,
    numba_threads,
    session_bytes,
)

_ARRAYS = ("sessions", "converged", "periods", "cycle_length", "cycle_states", "cycle_prices",
           "mean_price", "mean_profit", "profit_gain", "strategies")


@dataclass(eq=False)
class SessionResults:
    """Outcomes of S sessions (arrays; ``to_frame`` gives the table).

    sessions, converged, periods (session clock at the end), cycle_length (S,);
    cycle_states (S, L) and cycle_prices (S, L, n) padded with -1 / NaN beyond
    ``cycle_length``; mean_price, mean_profit, profit_gain (S, n) over the limit cycle;
    strategies (S, n, n_states) int32 greedy strategies; ``final`` the final
    :class:`SessionState` (its ``q`` is empty unless ``keep_q``). For a FiniteModel,
    ``mean_price`` holds the mean of its ``outcomes`` (named ``outcome_name``) and
    ``mean_profit`` the mean reward; ``strategic`` is False when it has no benchmarks
    (or Nash = cooperative payoffs, as for one firm): no profit gains then.
    """

    sessions: np.ndarray
    converged: np.ndarray
    periods: np.ndarray
    cycle_length: np.ndarray
    cycle_states: np.ndarray
    cycle_prices: np.ndarray
    mean_price: np.ndarray
    mean_profit: np.ndarray
    profit_gain: np.ndarray
    strategies: np.ndarray
    final: SessionState
    seed: int
    config: dict
    game_info: dict
    outcome_name: str = "price"
    strategic: bool = True

    @property
    def cycles(self) -> list[np.ndarray]:
        """Limit-cycle states per session (unpadded)."""
        return [self.cycle_states[k, :L] for k, L in enumerate(self.cycle_length)]

    def to_frame(self) -> pd.DataFrame:
        """One row per session.

        Columns: ``session``, ``seed``, ``converged``, ``periods`` (periods run, = periods
        to convergence when converged), ``cycle_length`` (periods), ``mean_price`` and
        ``profit_gain`` (averaged over agents, on the limit cycle), and per agent ``i``:
        ``mean_price_<i>``, ``mean_profit_<i>``, ``profit_gain_<i>``. A model without
        strategic benchmarks gets ``mean_<outcome_name>`` (also per agent) and
        ``mean_reward_<i>`` instead of the price, profit and gain columns.
        """
        if not self.strategic:
            name = f"mean_{self.outcome_name}"
            df = pd.DataFrame({
                "session": self.sessions, "seed": self.seed, "converged": self.converged,
                "periods": self.periods, "cycle_length": self.cycle_length,
                name: self.mean_price.mean(axis=1)})
            for i in range(self.mean_price.shape[1]):
                df[f"{name}_{i}"] = self.mean_price[:, i]
                df[f"mean_reward_{i}"] = self.mean_profit[:, i]
            return df
        df = pd.DataFrame({
            "session": self.sessions, "seed": self.seed, "converged": self.converged,
            "periods": self.periods, "cycle_length": self.cycle_length,
            "mean_price": self.mean_price.mean(axis=1),
            "profit_gain": self.profit_gain.mean(axis=1)})
        for i in range(self.mean_price.shape[1]):
            df[f"mean_price_{i}"] = self.mean_price[:, i]
            df[f"mean_profit_{i}"] = self.mean_profit[:, i]
            df[f"profit_gain_{i}"] = self.profit_gain[:, i]
        return df

    # ------------------------------------------------------------------ files
    def save(self, path) -> None:
        """Write one ``.npz`` (no pickle): arrays, final session state, JSON metadata."""
        arrays = {k: getattr(self, k) for k in _ARRAYS}
        for f in STATE_FIELDS + ("sessions",):
            arrays[f"final_{f}"] = getattr(self.final, f)
        info = {k: v for k, v in self.game_info.items() if k != "q0_array"}
        meta = {"seed": self.seed, "config": self.config, "game": info,
                "outcome_name": self.outcome_name, "strategic": self.strategic,
                "format": "marketsai.tabular.SessionResults/1"}
        arrays["metadata_json"] = np.array(json.dumps(meta))
        if "q0_array" in self.game_info:  # an array q0 is stored beside the JSON
            arrays["q0_array"] = np.asarray(self.game_info["q0_array"])
        with open(path, "wb") as fh:  # a file object keeps the name exactly as given
            np.savez_compressed(fh, **arrays)

    @classmethod
    def load(cls, path) -> SessionResults:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["metadata_json"]))
            kw = {k: z[k] for k in _ARRAYS}
            final = SessionState(seed=meta["seed"],
                                 **{f: z[f"final_{f}"] for f in STATE_FIELDS + ("sessions",)})
            if "q0_array" in z.files:
                meta["game"]["q0_array"] = z["q0_array"]
        return cls(final=final, seed=meta["seed"], config=meta["config"],
                   game_info=meta["game"], outcome_name=meta.get("outcome_name", "price"),
                   strategic=meta.get("strategic", True), **kw)


def session_outcomes(game, cfg: QLearningConfig, states: SessionState) -> dict:
    """Limit cycle from each session's current state, and its mean prices/profits/gain.

    For a model: mean outcomes/rewards on the cycle; no cycle (length 0, NaN) when it
    has exogenous states; profit gains NaN when it has no strategic benchmarks.
    """
    if is_model(game):
        return _model_outcomes(game, cfg, states)
    S, n = states.n_sessions, game.n_agents
    paths = [cycle_path(game, states.strategy[k], states.state[k], cfg.protocol,
                        phase=states.t[k] % n) for k in range(S)]
    L = np.array([len(p[0]) for p in paths], dtype=np.int64)
    Lmax = int(L.max()) if S else 0
    cyc_s = np.full((S, Lmax), -1, dtype=np.int64)
    cyc_p = np.full((S, Lmax, n), np.nan)
    mean_price = np.empty((S, n))
    mean_profit = np.empty((S, n))
    for k, (st, pr, pay) in enumerate(paths):
        cyc_s[k, :L[k]] = st
        cyc_p[k, :L[k]] = pr
        mean_price[k] = pr.mean(axis=0)
        mean_profit[k] = pay.mean(axis=0)
    return dict(cycle_length=L, cycle_states=cyc_s, cycle_prices=cyc_p, mean_price=mean_price,
                mean_profit=mean_profit,
                profit_gain=profit_gain(mean_profit, game.nash_payoff, game.coop_payoff))


def _strategic(model) -> bool:
    """A model has profit gains if it has benchmarks with Nash != cooperative payoffs
    (not so for one firm, whose Nash and monopoly coincide)."""
    b = model.benchmarks
    return b is not None and bool(np.all(b["coop_payoff"] != b["nash_payoff"]))


def _model_outcomes(model, cfg, states) -> dict:
    S, n = states.n_sessions, model.n_agents
    if model.n_exo == 1:
        paths = [model_cycle_path(model, states.strategy[k], states.state[k], cfg.protocol,
                                  phase=states.t[k] % n) for k in range(S)]
    else:  # no deterministic greedy path: the policy table is the result
        paths = [(np.empty(0, np.int64), np.full((0, n), np.nan), np.full((0, n), np.nan))] * S
    L = np.array([len(p[0]) for p in paths], dtype=np.int64)
    Lmax = int(L.max()) if S else 0
    cyc_s = np.full((S, Lmax), -1, dtype=np.int64)
    cyc_p = np.full((S, Lmax, n), np.nan)
    mean_out = np.full((S, n), np.nan)
    mean_rew = np.full((S, n), np.nan)
    for k, (st, out, rew) in enumerate(paths):
        if L[k]:
            cyc_s[k, :L[k]] = st
            cyc_p[k, :L[k]] = out
            mean_out[k] = out.mean(axis=0)
            mean_rew[k] = rew.mean(axis=0)
    b = model.benchmarks
    gain = profit_gain(mean_rew, b["nash_payoff"], b["coop_payoff"]) if _strategic(model) \
        else np.full((S, n), np.nan)
    return dict(cycle_length=L, cycle_states=cyc_s, cycle_prices=cyc_p, mean_price=mean_out,
                mean_profit=mean_rew, profit_gain=gain)


def run_sessions(game, cfg: QLearningConfig, seed: int = 0, sessions=range(1000), threads=None,
                 keep_q: bool = False, progress=None, curve=None) -> SessionResults:
    """Run sessions to convergence (or ``cfg.max_periods``) and measure their outcomes.

    ``game`` is a FiniteGame or a FiniteModel (see the module docstring).

    Sessions are processed in chunks that fit in memory (all at once when they fit);
    results do not depend on the chunking or on ``threads``. Non-converged sessions are
    kept (``converged=False``). ``progress(done, total)`` is called after each chunk.
    ``curve``: a :class:`~marketsai.tabular.learning_curve.LearningCurve` that advances the
    sessions and samples their play (same results), or None.
    """
    sessions = np.asarray(list(sessions), dtype=np.int64).reshape(-1)
    S = sessions.size
    per = session_bytes(game, cfg)
    strat_bytes = game.n_agents * game.n_states * 4
    if keep_q:
        check_memory(game, cfg, S)
        chunk = max(S, 1)
    else:
        with numba_threads(threads):
            import numba
            nthreads = numba.get_num_threads()
        check_memory(game, cfg, min(max(S, 1), nthreads))
        chunk = int(max(nthreads, min(S, 0.5 * available_memory_bytes() // per)))
    if S * strat_bytes > 0.5 * available_memory_bytes():
        raise SpecError(f"storing {S} strategies needs {S * strat_bytes / 1024**3:.1f} GB",
                        path="sessions", value=S, allowed="fewer sessions per run")
    parts = []
    for lo in range(0, max(S, 1), chunk):
        idx = sessions[lo:lo + chunk]
        st = init_sessions(game, cfg, seed=seed, sessions=idx, threads=threads)
        if curve is None:
            advance(game, cfg, st, threads=threads)
        else:
            curve.advance(game, cfg, st, threads=threads)
        out = session_outcomes(game, cfg, st)
        out["strategies"] = st.strategy.copy()
        if not keep_q:
            st.q = np.empty((idx.size, 0, 0, 0), dtype=st.q.dtype)
        parts.append((st, out))
        if progress is not None:
            progress(min(lo + chunk, S), S)
    return _combine(game, cfg, seed, sessions, parts)


def _combine(game, cfg, seed, sessions, parts) -> SessionResults:
    n = game.n_agents
    Lmax = max((o["cycle_states"].shape[1] for _, o in parts), default=0)

    def pad(a, fill):
        out = np.full((a.shape[0], Lmax) + a.shape[2:], fill, dtype=a.dtype)
        out[:, :a.shape[1]] = a
        return out

    cat = lambda key: np.concatenate([o[key] for _, o in parts])  # noqa: E731
    final = SessionState(
        seed=int(seed), **{f: np.concatenate([getattr(s, f) for s, _ in parts])
                           for f in STATE_FIELDS + ("sessions",)})
    model = is_model(game)
    if model:
        b = game.benchmarks
        info = {"agents": list(game.agents), "n_agents": n,
                "n_actions": [int(k) for k in game.n_actions], "n_x": game.n_x,
                "n_states": game.n_states, "n_exo": game.n_exo, "discount": game.discount}
        if b is not None:
            info |= {"nash_payoff": b["nash_payoff"].tolist(), "coop_payoff": b["coop_payoff"].tolist()}
    else:
        info = {"agents": list(game.agents), "n_agents": n, "n_actions": game.n_actions,
                "memory": game.memory, "n_states": game.n_states, "n_exo": game.n_exo,
                "discount": game.discount, "nash_payoff": game.nash_payoff.tolist(),
                "coop_payoff": game.coop_payoff.tolist()}
    if not isinstance(cfg.q0, str):
        info["q0_array"] = np.asarray(cfg.q0)
    return SessionResults(
        sessions=sessions, converged=final.converged.copy(), periods=final.t.copy(),
        cycle_length=cat("cycle_length"),
        cycle_states=np.concatenate([pad(o["cycle_states"], -1) for _, o in parts]),
        cycle_prices=np.concatenate([pad(o["cycle_prices"], np.nan) for _, o in parts]),
        mean_price=cat("mean_price"), mean_profit=cat("mean_profit"),
        profit_gain=cat("profit_gain"), strategies=cat("strategies"), final=final,
        seed=int(seed), config=cfg.to_dict(), game_info=info,
        outcome_name=game.outcome_name if model else "price",
        strategic=_strategic(game) if model else True)
