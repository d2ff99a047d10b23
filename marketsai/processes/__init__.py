"""Exogenous processes of economies: finite Markov chains and the file syntax that builds them.

Why: productivity, demand shocks and employment status drive the dynamic economies, and
learners, DP solvers and simulators all need the same thing from them -- a finite chain
``(values, P, p0)`` with named value columns.  Continuous AR(1) processes are discretised
here once (Rouwenhorst, Tauchen), joint chains are built here (:func:`product`, the
Krusell--Smith ``(z, e)`` chain), and an economy file's ``processes:`` entries are
validated here (:func:`process_from_spec`).  See ``docs/processes.md``.

A chain may mark some of its fields ``aggregate`` (common to all agents, e.g. ``z`` in the
KS chain); :meth:`MarkovChain.simulate_panel` then draws the aggregate component once per
period and each agent's idiosyncratic part conditional on it.

* :mod:`~marketsai.processes.chain` -- :class:`MarkovChain` (moments, marginals,
  simulation) and :func:`product`;
* :mod:`~marketsai.processes.discretise` -- :func:`rouwenhorst`, :func:`tauchen`,
  :func:`krusell_smith_chain`;
* :mod:`~marketsai.processes.spec` -- the ``processes:`` key tables, :class:`Process`,
  :func:`process_from_spec`, :func:`process_from_legacy_shocks`,
  :func:`describe_process_fields`.

Examples
--------
>>> mc = rouwenhorst(5, rho=0.9, sigma=0.1)
>>> mc.n_states, mc.fields
(5, ('z',))
>>> round(mc.autocorr("z"), 12), round(mc.std("z") ** 2, 12) == round(0.01 / 0.19, 12)
(0.9, True)
"""

from marketsai.processes.chain import MarkovChain, product
from marketsai.processes.discretise import krusell_smith_chain, rouwenhorst, tauchen
from marketsai.processes.spec import (
    AR1_FIELDS,
    COMMON_FIELDS,
    KS_FIELDS,
    MARKOV_FIELDS,
    PROCESS_FIELDS,
    PROCESS_KINDS,
    Process,
    describe_process_fields,
    process_from_legacy_shocks,
    process_from_spec,
)

__all__ = [
    "AR1_FIELDS", "COMMON_FIELDS", "KS_FIELDS", "MARKOV_FIELDS", "PROCESS_FIELDS", "PROCESS_KINDS",
    "MarkovChain", "Process", "describe_process_fields", "krusell_smith_chain",
    "process_from_legacy_shocks", "process_from_spec", "product", "rouwenhorst", "tauchen",
]
