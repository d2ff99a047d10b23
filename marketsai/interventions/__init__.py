"""Interventions on converged Q-learning sessions (forced prices, exploration shocks,
memory resets, price caps, learner replacement) and the population study of how far
collusion recovers from them. See docs/interventions.md.

Modules, one concept each:

* :mod:`~.targets` -- firm and price selections in phase specs;
* :mod:`~.phases` -- the phase types and their registry :data:`phases`;
* :mod:`~.intervention` -- an intervention: phases + protocol (+ sweep), from files;
* :mod:`~.context` -- the sessions under intervention and the one call into the kernel;
* :mod:`~.protocol` -- post-intervention protocols (``correct`` / ``seed``) and
  :func:`run_intervention`;
* :mod:`~.measures` -- limit cycles, profit gain, recovery rate, price paths;
* :mod:`~.baselines` -- converged baselines, trained once and cached;
* :mod:`~.summary` -- means, SDs, bootstrap CIs;
* :mod:`~.study` -- the experiment kind ``interventions``;
* :mod:`~.figures` -- figures from run-folder tables.

Example
-------
>>> from marketsai.tabular import QLearningConfig, init_sessions, advance
>>> from marketsai.tabular.games import calvano_game
>>> game = calvano_game(m=5)
>>> cfg = QLearningConfig(alpha=0.15, beta=2e-4, stable_periods=2000)
>>> st = init_sessions(game, cfg, seed=0, sessions=range(4))
>>> _ = advance(game, cfg, st)
>>> iv, = expand_interventions([{"name": "decree", "phases": [
...     {"type": "force_price", "firm": 0, "price": "nash", "periods": 10}]}])
>>> run = run_intervention(game, cfg, st, iv)
>>> sorted(run.sessions.columns)[:4]
['R', 'cycle_base', 'cycle_post', 'delta_base']
"""

from marketsai.interventions.context import InterventionContext
from marketsai.interventions.intervention import PROTOCOLS, Intervention, expand_interventions
from marketsai.interventions.phases import (
    ExplorationShock,
    ForcePrice,
    Learn,
    MemoryReset,
    Phase,
    PriceCap,
    ReplaceLearner,
    build_phase,
    phases,
)
from marketsai.interventions.protocol import InterventionRun, reconverge, run_intervention
from marketsai.interventions.study import InterventionStudy

__all__ = [
    "PROTOCOLS", "ExplorationShock", "ForcePrice", "Intervention", "InterventionContext",
    "InterventionRun", "InterventionStudy", "Learn", "MemoryReset", "Phase", "PriceCap",
    "ReplaceLearner", "build_phase", "expand_interventions", "phases", "reconverge",
    "run_intervention",
]
