"""Why enhanced policy iteration needs frequent improvements from an optimistic start.

Bertsekas-Yu targets use max(J(s'), Q(s', nu(s'))) with J frozen between improvements;
from q0 = zeros (values are about -20) J stays above Q, so each interval is one Bellman
step from J. Brock-Mirman on 21 points, 2 sessions, RM steps + expected targets;
prints the sup error of Q and J against value iteration at checkpoints.

    NUMBA_NUM_THREADS=1 PYTHONPATH=. python experiments/growth/enhanced_pi_interval.py

Output: results/enhanced_pi_interval.txt.
"""
import numpy as np

from experiments.growth.solver_curves import economy
from marketsai.solvers.dp import value_iteration
from marketsai.tabular import QLearningConfig, advance, init_sessions

fm = economy("bm", 21).finite_model()
sol = value_iteration(fm, tol=1e-12)
qs = np.asarray(sol.q).reshape(fm.n_states, -1)
for ie in (100_000, 1000):
    cfg = QLearningConfig(beta=6e-7, q0="zeros", step_size="visits", step_a=1001.0, step_b=1000.0, step_omega=1.0,
                      target="expected", update="enhanced_pi", improve_every=ie, stable_periods=10**12, max_periods=10**12)
    st = init_sessions(fm, cfg, seed=1, sessions=range(2))
    done = 0
    for c in (1e6, 2e6, 3e6, 4e6, 5e6, 6e6):
        advance(fm, cfg, st, periods=int(c) - done, until_converged=False)
        done = int(c)
        q = st.q[0, 0]
        fin = np.isfinite(qs)
        err = np.abs(np.where(fin, q - qs, 0)).max()
        vj = np.abs(st.pi_value[0, 0] - sol.value).max()
        print(ie, c, "max|Q-Q*|", err, "max|J-V*|", vj, "agree", (st.strategy[0,0]==sol.policy).mean(), "minvisits", st.visits[0,0][fin].min(), flush=True)
