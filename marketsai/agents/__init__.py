"""Agent kinds: what each observes, chooses and is paid."""

from marketsai.agents import competitive_firm, firm, household, planner, sector_planner  # noqa: F401  (registration)
from marketsai.agents.base import AgentType
from marketsai.agents.registry import agent_types

__all__ = ["AgentType", "agent_types"]
