"""The agent contract: what an agent kind observes, chooses and is paid.

An agent type declares its own parameters (beyond the characteristics its markets
read, such as a firm's cost) and turns the outcomes of the markets it trades in into
one reward. It holds no state: the running simulation (``envs/``) keeps histories.
Roadmap kinds (households with a budget across several markets, a planner) subclass
this and override :meth:`reward`.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from marketsai.params import Param, validate_mapping


class AgentType:
    """Base class of agent kinds."""

    params: ClassVar[dict[str, Param]] = {}

    @classmethod
    def validate_params(cls, params: dict, path: str) -> dict:
        """Check the agent's own parameters; market characteristics are checked by markets."""
        own = {k: v for k, v in params.items() if k in cls.params}
        return validate_mapping(own, cls.params, path, f"{cls.__name__} params")

    @staticmethod
    def reward(profits: list[np.ndarray]) -> np.ndarray:
        """One reward from the agent's payoff in each of its markets (default: their sum)."""
        return np.sum(profits, axis=0)
