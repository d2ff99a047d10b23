"""When ``policies: group`` shares one network among agents that it should not.

Why: a group's agents share one policy network (RLlib experiments, ``policies: group``;
agents default to one group per agent type). That is right for identical households,
but silently wrong for firms with different costs (one network must play both) or for
agents whose observations are identical (the network cannot tell them apart, so its
greedy action is the same for all of them). :func:`shared_policy_warnings` finds both,
as plain messages; ``marketsai validate`` and ``marketsai run`` show them as warnings.
It is a pure function of the economy (observations are sampled with a fixed seed).
"""

from __future__ import annotations

import numpy as np

ADVICE = "give them their own group (agents[i].group) or set policies: agent"


def groups_of(econ) -> dict[str, list[str]]:
    """Policy group -> its acting agents, in the economy's order."""
    out: dict[str, list[str]] = {}
    for a in econ.actors:
        out.setdefault(econ.groups[a], []).append(a)
    return out


def _differing(specs) -> list[str]:
    """``key: v1, v2, ...`` for each parameter (or the type) not the same for all agents."""
    keys = sorted(set().union(*(s.params for s in specs)))
    rows = [("type", [s.type for s in specs])] + [(k, [s.params.get(k) for s in specs]) for k in keys]
    return [f"{k}: {', '.join(map(repr, vals))}" for k, vals in rows if len({repr(v) for v in vals}) > 1]


def _observations(econ, samples: int, seed: int) -> dict:
    """Each agent's observations ``(samples, dim)`` in a few random states (two random periods in)."""
    rng = np.random.default_rng(seed)
    state = econ.initial_state(rng, samples)
    for _ in range(2):
        x = np.column_stack([s.grid[rng.integers(0, s.size, samples)] if s.kind == "grid"
                             else rng.uniform(s.low, s.high, samples) for s in econ.decisions]) \
            if econ.decisions else np.empty((samples, 0))
        state, _, _ = econ.step(state, x, rng)
    return econ.observe(state)


def shared_policy_warnings(econ, policies: str = "group", samples: int = 8, seed: int = 0) -> list[str]:
    """Messages for each group whose shared network serves agents with different parameters,
    or agents that always observe the same thing ([] with ``policies: agent``)."""
    if policies != "group":
        return []
    index = {a: i for i, a in enumerate(econ.agents)}
    shared = {g: members for g, members in groups_of(econ).items() if len(members) > 1}
    out, obs = [], None
    for group, members in shared.items():
        names = ", ".join(members[:4]) + (f", ... ({len(members)} agents)" if len(members) > 4 else "")
        diff = _differing([econ.spec.agents[index[a]] for a in members])
        if diff:
            out.append(f"group {group!r} shares one network among {names}, whose "
                       f"parameters differ ({'; '.join(diff)[:300]}): one policy plays all of them; "
                       + ADVICE)
        obs = _observations(econ, samples, seed) if obs is None else obs
        first = np.asarray(obs[members[0]])
        if all(np.array_equal(first, np.asarray(obs[a])) for a in members[1:]):
            out.append(f"group {group!r} shares one network among {names}, whose "
                       "observations are identical: it cannot tell them apart, so its greedy "
                       "action is the same for all of them; observe what differs (own state, observation options) or "
                       + ADVICE)
    return out


def warn_shared_policies(config: dict, log=None) -> list[str]:
    """Emit :func:`shared_policy_warnings` for an experiment config with ``policies`` as
    :class:`~marketsai.errors.SpecWarning` (and log lines); returns the messages."""
    import warnings

    from marketsai.economy import Economy
    from marketsai.errors import SpecWarning
    if config.get("policies") != "group" or not isinstance(config.get("economy"), dict):
        return []
    messages = shared_policy_warnings(Economy.from_dict(config["economy"]), "group")
    for msg in messages:
        warnings.warn(SpecWarning(msg, path="policies"), stacklevel=1)
        if log is not None:
            log.warning("%s", msg)
    return messages
