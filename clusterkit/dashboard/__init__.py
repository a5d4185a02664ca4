"""The live dashboard (``cluster.dashboard()``): load charts, virtual LEDs, LED and power buttons."""

from .app import Dashboard
from .load import burn
from .feed import AgentFeed, NodeState, agent_command

__all__ = ["AgentFeed", "Dashboard", "NodeState", "agent_command", "burn"]
