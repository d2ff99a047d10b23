"""``sac_batched``'s ``expected_targets``: critic targets averaged exactly over the economy's
own exogenous chain instead of one sampled next state.

Why (``docs/growth.md``): SAC's one-step target ``r + gamma V(s')`` takes ONE sampled next
TFP state; near the optimum of a growth economy the reward differences the critic must
resolve are far smaller than the noise that one draw puts in the target. Where the
economy's only draw is its aggregate Markov chain -- the next endogenous state is a
deterministic function of the state and the joint action
(:func:`marketsai.dynamics.exo_branches`) -- the replay stores, per transition, the next
observation under every joint next chain state ``e'`` (``E`` of them) and the chain row's
probabilities, and the target becomes

    ``y = r + gamma * sum_e' P(e, e') (Q_target(s'_e', a'_e') - alpha log pi(a'_e' | s'_e'))``

with ``a'_e'`` drawn at each ``s'_e'`` from the actor with the transition's one standard-normal
draw (``noise_next``, common to every ``e'``: the same stream as the sampled target, so a
one-state chain gives the sampled target). RLlib's continuous loss is linear in its
``q_target_next`` and ``logp_next_resampled`` columns, so the module hands it the two
probability-weighted sums and the loss runs unchanged
(:class:`~marketsai.rl.seed_batched_sac.StackedSACModule`). The deep counterpart of the
tabular learner's ``target: expected`` (the finite model's ``next_x`` and the chain).

Legitimate in issue 22's terms: the chain is the economy's own (its file's ``processes``),
what an RL method may know; nothing of the optimal policy is used.
"""

from __future__ import annotations

import numpy as np

from marketsai.dynamics import exo_branches
from marketsai.errors import SpecError

#: replay columns: the next observation under each next chain state ``(..., E, d)`` and
#: the chain row's probabilities ``(..., E)``
NEXT_OBS_EACH, NEXT_PROBS = "next_obs_each", "next_probs"

#: the most memory the two columns' replay rings may take (bytes)
MAX_RING_BYTES = 4 * 2**30


def check_economy(economy, on_grid: bool) -> None:
    """Refuse (:class:`~marketsai.errors.SpecError`, naming field, value and why) an economy
    whose next state is not its deterministic part and one aggregate chain draw, or decisions
    whose SAC loss is not the continuous one."""
    if on_grid:
        raise SpecError("expected_targets averages the continuous SAC loss's target over the chain; on a price "
                        "grid sac_batched runs RLlib's discrete loss, whose target is not averaged",
                        path="expected_targets", value=True,
                        allowed="false, or agents with action: {kind: interval}")
    for p in economy.idiosyncratic:
        raise SpecError(f"expected_targets needs every draw of a step to come from the aggregate chain; process "
                        f"{p.name} has one chain state per agent ({p.chain.n_states} states each), so the next "
                        "state has as many joint outcomes as the agents' states combined",
                        path=f"economy.processes.{p.name}.scope", value="agent",
                        allowed="aggregate processes only, or expected_targets: false")


def ring_columns(economy, members: int, capacity: int, obs_dim: int) -> dict:
    """The two replay columns' rings ``(members, capacity, E, ...)``; refused above
    :data:`MAX_RING_BYTES` (naming ``buffer_capacity``)."""
    n = economy.exo_chain.n_states
    size = members * capacity * n * (obs_dim + 1) * 4
    if size > MAX_RING_BYTES:
        raise SpecError(f"expected_targets stores {n} next observations per transition: {members} rings of "
                        f"{capacity:,} transitions would take {size / 2**30:.1f} GiB",
                        path="buffer_capacity", value=capacity,
                        allowed=f"at most {MAX_RING_BYTES // (members * n * (obs_dim + 1) * 4):,} here")
    return {NEXT_OBS_EACH: np.zeros((members, capacity, n, obs_dim), np.float32),
            NEXT_PROBS: np.zeros((members, capacity, n), np.float32)}


def next_columns(economy, before, after) -> tuple[np.ndarray, np.ndarray]:
    """``(each, probs)`` of one step of ``B`` sessions from ``before`` to ``after``: every
    actor's next observation under each next chain state ``(B, n_actors, E, d)`` and the
    chain row of each session ``(B, E)``, float32."""
    branches, probs = exo_branches(economy, before, after)
    each = np.stack([economy.observer.observe_actors(b) for b in branches], axis=2)
    return each.astype(np.float32), probs.astype(np.float32)


__all__ = ["MAX_RING_BYTES", "NEXT_OBS_EACH", "NEXT_PROBS", "check_economy", "next_columns", "ring_columns"]
