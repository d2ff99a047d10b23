"""marketsai: agent-based economics with reinforcement learning.

>>> import marketsai as mai
>>> econ = mai.load_economy("economies/bertrand_duopoly.yaml")
>>> [round(float(p), 5) for p in econ.finite_game().nash_action]
[1.47293, 1.47293]
"""

from marketsai.economy import Economy, load_economy
from marketsai.errors import SpecError
from marketsai.finite_game import FiniteGame

__version__ = "0.1.0"

__all__ = ["Economy", "FiniteGame", "SpecError", "load_economy", "run_experiment", "check_economy"]


def run_experiment(*args, **kwargs):
    """Run an experiment file into a run folder (see :mod:`marketsai.experiments`)."""
    from marketsai.experiments import run_experiment as _run
    return _run(*args, **kwargs)


def check_economy(*args, **kwargs):
    """Conformance checks of an economy (see :mod:`marketsai.checks`)."""
    from marketsai.checks import check_economy as _check
    return _check(*args, **kwargs)
