"""Evaluating trained deep policies with the measures the tabular engine reports.

The greedy policies of a checkpoint (:class:`~marketsai.rl.policy.GreedyPolicies`) are
turned into the same objects the tabular learners produce, and the numbers come from the
same code in :mod:`marketsai.analysis`:

* **grid actions** (observations are then the last ``k`` grid prices, a finite set): the
  policy is tabulated into greedy strategies ``(1, n, n_states)`` over the
  :class:`~marketsai.finite_game.FiniteGame` states -- exactly a converged tabular
  session. Limit cycles (:func:`~marketsai.analysis.limit_cycles`) from ``episodes``
  random start states give prices, profits and the profit gain Delta; impulse responses
  (:func:`~marketsai.analysis.impulse_response_paths`) and the equilibrium check
  (:func:`~marketsai.analysis.equilibrium_check`) follow as for Q-learning.
* **interval actions**: there is no finite state space, so play is simulated in the
  economy's ParallelEnv: ``episodes`` greedy runs of ``periods`` periods from random
  start states; prices and profits are averaged over the last ``tail`` periods; for the
  impulse response firm 0 deviates once to its static best response to the rival's
  current price (searched on a fine grid of its interval), then both play greedy. The
  price paths go through :func:`~marketsai.analysis.impulse_response_table` as for
  tabular sessions.

A **stacked-population** checkpoint (``env: {sessions: S, stacked: true}``,
:mod:`marketsai.rl.stacked`) holds one :class:`~marketsai.rl.stacked.RowModule`
(``default_policy``) for every agent; with ``policies: agent`` it keeps one head per agent,
chosen by a one-hot of the agent's index appended to the observation (as
:class:`~marketsai.envs.stacked.EconomyStackedEnv` does with ``agent_ids``). Agent ``i``'s
policy is then the module applied to ``[observation, one_hot(i)]``
(:class:`StackedGreedyPolicies`), and the analysis above runs unchanged.

Outputs (``OUT``): ``results.csv`` / ``results.parquet`` (one row per episode),
``impulse.csv`` (summary table), ``impulse_paths.csv``, ``summary.json`` and
``figures/impulse_response.png``, ``figures/profit_gain.png``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from marketsai import analysis
from marketsai.errors import SpecError
from marketsai.rl.policy import GreedyPolicies
from marketsai.rl.spec import RLExperimentSpec
from marketsai.runner.store import atomic_write_text, json_text
from marketsai.yamlio import read_yaml


def evaluate(checkpoint: str | Path, out: str | Path | None = None, *, episodes: int | None = None,
             experiment: str | Path | None = None, seed: int = 0) -> dict:
    """Evaluate a policy export or a checkpoint; writes tables, figures and ``summary.json``.

    ``checkpoint`` is either a policy export folder (:mod:`marketsai.rl.export`: weights and
    JSON only, never unpickled -- safe for folders from others) or a raw RLlib
    checkpoint, which is read with RLlib's unpickling loader after an
    :class:`~marketsai.rl.export.UnsafeCheckpointWarning`.
    """
    from marketsai.economy import Economy
    from marketsai.rl.algorithms import sessions_replay
    from marketsai.rl.export import find_experiment, is_export, load_export, warn_unsafe

    checkpoint = Path(checkpoint).resolve()
    if is_export(checkpoint):
        if experiment:
            raise SpecError("an export carries its experiment; --experiment is not used",
                            path="--experiment", value=str(experiment))
        spec, econ, multi, mapping = load_export(checkpoint)
        if spec.env.get("stacked") and not sessions_replay(spec):
            raise SpecError("exports of stacked-population runs are not supported; evaluate the checkpoint",
                            path="CHECKPOINT", value=str(checkpoint),
                            allowed="the run's RLlib checkpoint (checkpoint_*/ of the trial)")
        exp_file = checkpoint / "policy.json"
        default_out = checkpoint / "evaluation"
    else:
        warn_unsafe(checkpoint)
        exp_file = Path(experiment) if experiment else find_experiment(checkpoint)
        spec = RLExperimentSpec.from_dict(read_yaml(exp_file), base_dir=exp_file.parent, file=exp_file)
        econ = Economy.from_dict(spec.economy_dict())
        multi, mapping = None, None
        default_out = exp_file.parent / "evaluation" / f"{checkpoint.parent.name}-{checkpoint.name}"
    settings = dict(spec.evaluation)
    if episodes is not None:
        settings["episodes"] = int(episodes)
    env = econ.parallel_env(max_cycles=settings["periods"] + settings["impulse_periods"] + 2)
    policies = greedy_policies(checkpoint, spec, econ, env.action_spaces, multi=multi, mapping=mapping)
    if all(d.kind == "grid" for d in econ.decisions):
        results, paths, extra = _evaluate_grid(econ, env, policies, settings, seed)
    else:
        results, paths, extra = _evaluate_interval(econ, env, policies, settings, seed)

    out = Path(out) if out else default_out
    (out / "figures").mkdir(parents=True, exist_ok=True)
    results.to_csv(out / "results.csv", index=False)
    results.to_parquet(out / "results.parquet", index=False)
    impulse = analysis.impulse_response_table(paths, agents=list(econ.agents))
    impulse.to_csv(out / "impulse.csv", index=False)
    analysis.paths_to_frame(paths).to_csv(out / "impulse_paths.csv", index=False)
    bench = econ.benchmarks()
    nash, coop = float(bench["nash_action"].mean()), float(bench["coop_action"].mean())
    analysis.plot_impulse_response(impulse, nash=nash, coop=coop,
                                   title=f"{spec.algorithm}: impulse response").savefig(
        out / "figures" / "impulse_response.png", dpi=120)
    analysis.plot_profit_gain_histogram(results, bins=20, title=f"{spec.algorithm}: profit gain").savefig(
        out / "figures" / "profit_gain.png", dpi=120)
    summary = _summary(spec, checkpoint, results, impulse, extra, nash, coop)
    atomic_write_text(out / "summary.json", json_text(summary))
    summary["out"] = str(out)
    return summary


def greedy_policies(checkpoint, spec: RLExperimentSpec, econ, action_spaces: dict, *, multi=None,
                    mapping: dict | None = None):
    """The greedy policies of a trained run, per agent: a stacked PPO run's RowModule read
    with each agent's one-hot (:class:`StackedGreedyPolicies`), otherwise the modules of the
    per-agent path (also DQN / SAC sessions runs). ``multi`` / ``mapping``: an export's."""
    from marketsai.rl.algorithms import policy_ids, sessions_replay

    rows = spec.env.get("stacked") and not sessions_replay(spec)
    if mapping is None:
        mapping = ({a: STACKED_MODULE_ID for a in econ.actors} if rows else policy_ids(econ, spec.policies))
    policies = GreedyPolicies(checkpoint, mapping, action_spaces,
                              normalize_actions=spec.settings.get("normalize_actions", True), multi=multi)
    return StackedGreedyPolicies(policies, econ.actors, stacked_agent_ids(spec)) if rows else policies


# ---------------------------------------------------------------- stacked populations
#: the module id of a stacked population's RowModule (RLlib's single-agent default)
STACKED_MODULE_ID = "default_policy"


def stacked_agent_ids(spec) -> bool:
    """Whether a stacked run's rows carried a one-hot of their agent (``policies: agent``;
    the env's ``agent_ids``, which :func:`marketsai.rl.algorithms.build_config` sets)."""
    return spec.policies == "agent"


class StackedGreedyPolicies:
    """Per-agent greedy actions of a stacked population's RowModule.

    ``inner`` is a :class:`~marketsai.rl.policy.GreedyPolicies` mapping every agent to the
    RowModule. With ``agent_ids`` (a ``policies: agent`` run) agent ``i``'s observations
    get ``one_hot(i)`` appended -- its position in ``agents``, the row order of the stacked
    env -- which selects its own head; otherwise they are passed unchanged (one shared
    policy).
    """

    def __init__(self, inner, agents, agent_ids: bool):
        self.inner = inner
        self.agents = list(agents)
        self.agent_ids = bool(agent_ids)
        self.action_spaces = inner.action_spaces

    def observation(self, agent: str, obs: np.ndarray) -> np.ndarray:
        """What the RowModule reads for ``agent``: ``(B, d)``, or ``(B, d + n_agents)`` with ids."""
        obs = np.asarray(obs, np.float32)
        if not self.agent_ids:
            return obs
        ids = np.zeros((len(obs), len(self.agents)), np.float32)
        ids[:, self.agents.index(agent)] = 1.0
        return np.concatenate([obs, ids], axis=1)

    def act_batch(self, agent: str, obs: np.ndarray) -> np.ndarray:
        """Greedy actions of ``agent`` for a batch of its observations ``(B, d)``."""
        return self.inner.act_batch(agent, self.observation(agent, obs))

    act = GreedyPolicies.act  # one greedy action per agent, through this class's act_batch


# ---------------------------------------------------------------- grid actions
def state_observations(econ, env, game) -> dict[str, np.ndarray]:
    """Each agent's observation in every FiniteGame state, shape ``(n_states, obs_dim)``.

    Produced by the environment itself: reset, then play the ``k`` joint actions the
    state remembers (oldest first); the observation after them is the state's.
    """
    n, m, k = game.n_agents, game.n_actions, game.memory
    n_joint = m**n
    obs = {a: [] for a in econ.agents}
    for s in range(game.n_states):
        joints = [(s // n_joint**lag) % n_joint for lag in range(k)][::-1]  # oldest first
        o, _ = env.reset(seed=0)
        for j in joints:
            acts = np.unravel_index(j, (m,) * n)  # agent 0 most significant
            o, *_ = env.step({a: int(acts[i]) for i, a in enumerate(econ.agents)})
        for a in econ.agents:
            obs[a].append(np.asarray(o[a], np.float32))
    return {a: np.stack(v) for a, v in obs.items()}


def greedy_strategies(econ, env, policies, game) -> np.ndarray:
    """The policies tabulated as strategies ``(1, n, n_states)`` (action indices)."""
    obs = state_observations(econ, env, game)
    return np.stack([policies.act_batch(a, obs[a]) for a in econ.agents])[None].astype(np.int64)


def _evaluate_grid(econ, env, policies, settings, seed):
    game = econ.finite_game()
    if game.n_exo != 1:
        raise SpecError("evaluation of economies with demand shocks is not supported yet",
                        path="economy.shocks")
    strategies = greedy_strategies(econ, env, policies, game)
    rng = np.random.default_rng(seed)
    episodes = settings["episodes"]
    starts = rng.integers(0, game.n_states, size=episodes)
    reps = np.repeat(strategies, episodes, axis=0)
    cycles = analysis.limit_cycles(game, reps, start_states=starts)
    gains = analysis.profit_gain(cycles.mean_payoff, game.nash_payoff, game.coop_payoff)
    results = _results_frame(econ, cycles.mean_price, cycles.mean_payoff, gains)
    results.insert(1, "start_state", starts)
    results.insert(2, "cycle_length", cycles.length)
    eq = analysis.equilibrium_check(game, reps, start_states=starts)
    results["eq_on_path"] = eq["eq_on_path"].to_numpy()
    results["eq_all_states"] = eq["eq_all_states"].to_numpy()
    paths = analysis.impulse_response_paths(game, reps, start_states=starts,
                                            periods=settings["impulse_periods"])
    extra = {"observations": "discrete (grid prices)",
             "cycle_summary": analysis.profit_gain_summary(results).to_dict(orient="records"),
             "eq_on_path_share": float(results["eq_on_path"].mean()),
             "eq_all_states_share": float(results["eq_all_states"].mean())}
    return results, paths, extra


# ---------------------------------------------------------------- interval actions
def _best_response(econ, agent: int, values: np.ndarray, points: int = 2001) -> float:
    """Agent's static best response (price) to the others' ``values``, on a fine grid."""
    d = econ.decisions[agent]
    grid = np.linspace(d.low, d.high, points)
    trial = np.repeat(values[None, :], points, axis=0)
    trial[:, agent] = grid
    rewards, _, _ = econ.clear(trial)
    return float(grid[int(np.argmax(rewards[:, agent]))])


def _evaluate_interval(econ, env, policies, settings, seed):
    periods, tail, horizon = settings["periods"], settings["tail"], settings["impulse_periods"]
    n = len(econ.agents)
    prices = np.zeros((settings["episodes"], n))
    profits = np.zeros((settings["episodes"], n))
    paths = np.zeros((settings["episodes"], horizon + 1, n))
    for e in range(settings["episodes"]):
        obs, _ = env.reset(seed=seed + e)
        p_hist, r_hist = [], []
        for _ in range(periods):
            obs, rew, *_ = env.step(policies.act(obs))
            p_hist.append(env.last_outcome["price"][:n])
            r_hist.append([rew[a] for a in econ.agents])
        prices[e] = np.mean(p_hist[-tail:], axis=0)
        profits[e] = np.mean(r_hist[-tail:], axis=0)
        paths[e, 0] = prices[e]
        greedy = policies.act(obs)  # deviation period: firm 0 best-responds to the rival's greedy price
        values = np.array([float(np.ravel(greedy[a])[0]) for a in econ.agents])
        greedy[econ.agents[0]] = np.array([_best_response(econ, 0, values)], np.float32)
        obs, *_ = env.step(greedy)
        paths[e, 1] = env.last_outcome["price"][:n]
        for t in range(2, horizon + 1):
            obs, *_ = env.step(policies.act(obs))
            paths[e, t] = env.last_outcome["price"][:n]
    bench = econ.benchmarks()
    gains = analysis.profit_gain(profits, bench["nash_profit"].to_numpy()[:n], bench["coop_profit"].to_numpy()[:n])
    results = _results_frame(econ, prices, profits, gains)
    results.insert(1, "cycle_length", np.nan)  # no finite state space: no limit cycle
    extra = {"observations": "continuous (interval prices)",
             "averaged_over": f"last {tail} of {periods} greedy periods per episode"}
    return results, paths, extra


# ---------------------------------------------------------------- tables
def _results_frame(econ, prices, profits, gains) -> pd.DataFrame:
    data = {"episode": np.arange(len(prices))}
    for name, values in (("price", prices), ("profit", profits), ("profit_gain", gains)):
        for i in range(len(econ.agents)):
            data[f"{name}_{i}"] = values[:, i]
    frame = pd.DataFrame(data)
    frame["mean_price"] = prices.mean(axis=1)
    frame["profit_gain"] = gains.mean(axis=1)
    return frame



def _impulse_points(impulse: pd.DataFrame) -> dict:
    dev = impulse[impulse["role"] == "deviator"].set_index("t")["mean"]
    riv = impulse[impulse["role"] == "rival"].groupby("t")["mean"].mean()
    last = int(dev.index.max())
    return {"pre_shock": float(dev.loc[0]), "deviator_t1": float(dev.loc[1]),
            "rival_t2": float(riv.loc[2]) if 2 in riv.index else None,
            "deviator_last": float(dev.loc[last]), "rival_last": float(riv.loc[last]), "t_last": last}


def _summary(spec, checkpoint, results, impulse, extra, nash, coop) -> dict:
    g = results["profit_gain"]
    return {"algorithm": spec.algorithm, "experiment": spec.name, "checkpoint": str(checkpoint),
            "episodes": int(len(results)), "profit_gain_mean": float(g.mean()),
            "profit_gain_sd": float(g.std(ddof=1)) if len(g) > 1 else None,
            "mean_price": float(results["mean_price"].mean()),
            "nash_price": nash, "monopoly_price": coop,
            "cycle_length_mean": (None if results["cycle_length"].isna().all()
                                  else float(results["cycle_length"].mean())),
            "impulse_response": _impulse_points(impulse), **extra}
