"""The registry of agent types (``agent_types.get("firm")``)."""

from marketsai.agents.base import AgentType
from marketsai.registry import Registry

agent_types: Registry[AgentType] = Registry("agents", AgentType)
