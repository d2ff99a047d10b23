"""Reduced Calvano et al. (2020) baseline: 50 sessions against the published 1000.

Published (docs/references.md): mean profit gain 0.849 with SD 0.112 over 1000 sessions,
limit cycles of length 1 in 64.3% of sessions, about 1.7 million periods to converge.
The tolerance is three standard errors of a 50-session mean: 3 * 0.112 / sqrt(50).
"""

from __future__ import annotations

import numpy as np
from duopoly import calvano

from marketsai.tabular import QLearningConfig, run_sessions

PUBLISHED_DELTA, PUBLISHED_SD, SESSIONS = 0.849, 0.112, 50


def test_calvano_baseline_50_sessions():
    game = calvano()
    res = run_sessions(game, QLearningConfig(alpha=0.15, beta=4e-6), seed=0,
                       sessions=range(SESSIONS))
    df = res.to_frame()
    assert df.converged.all()
    se = PUBLISHED_SD / np.sqrt(SESSIONS)
    assert abs(df.profit_gain.mean() - PUBLISHED_DELTA) < 3 * se
    assert 0.5 * PUBLISHED_SD < df.profit_gain.std() < 2 * PUBLISHED_SD
    assert 1.0e6 < df.periods.mean() < 3.0e6  # "about 1.7 million"
    # prices between the static Nash and monopoly prices, profit gains in a sane band
    assert (df.mean_price > game.nash_action[0] - 0.1).all()
    assert (df.mean_price < game.coop_action[0] + 0.1).all()
    assert (df.cycle_length >= 1).all() and (df.cycle_length == 1).mean() > 0.3
