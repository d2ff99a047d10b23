"""A firm: chooses a price or quantity in each of its markets; paid its total profit."""

from marketsai.agents.base import AgentType
from marketsai.agents.registry import agent_types


@agent_types.register("firm")
class Firm(AgentType):
    """A profit-maximising firm; its cost and quality are read by its markets."""
