"""marketsai: agent-based economics with reinforcement learning.

>>> import marketsai as mai
>>> econ = mai.load_economy("bertrand_duopoly")  # shipped with the package (marketsai list)
>>> [round(float(p), 5) for p in econ.finite_game().nash_action]
[1.47293, 1.47293]

The names below are the public surface. ``run_experiment``, ``load_run`` and
``RunResults`` are imported on first use (they bring in the runner, pandas and
matplotlib), yet they are the functions themselves: ``help()`` and
``inspect.signature`` show their real parameters.
"""

from typing import TYPE_CHECKING

from marketsai.checks import CheckReport, check_economy
from marketsai.economy import Economy, load_economy
from marketsai.errors import SpecError
from marketsai.finite_game import FiniteGame

if TYPE_CHECKING:  # static tools (and the API reference) see the lazy names as imports
    from marketsai.checks import check_market
    from marketsai.markets.base import Outcome, StrategicMarket
    from marketsai.params import Param
    from marketsai.run_folder import RunResults, load_run
    from marketsai.runner.run import run_experiment

__version__ = "0.1.0"

__all__ = ["CheckReport", "Economy", "FiniteGame", "Outcome", "Param", "RunResults", "SpecError",
           "StrategicMarket", "check_economy", "check_market", "load_economy", "load_run",
           "run_experiment"]

#: public names imported on first access (PEP 562), so ``import marketsai`` stays light
_LAZY = {
    "run_experiment": "marketsai.runner.run",
    "load_run": "marketsai.run_folder",
    "RunResults": "marketsai.run_folder",
    # what a plug-in market needs (docs/add_a_market.md): its base class, its return type,
    # its parameter declarations and its conformance check
    "StrategicMarket": "marketsai.markets.base",
    "Outcome": "marketsai.markets.base",
    "Param": "marketsai.params",
    "check_market": "marketsai.checks",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'marketsai' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
