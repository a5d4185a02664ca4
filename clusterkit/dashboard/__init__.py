"""The live dashboard (``cluster.dashboard()``): load charts, virtual LEDs, LED and power buttons."""

from .app import Dashboard
from .load import burn
from .feed import AgentFeed, NodeState, agent_command
from .power import PowerStep, power_in_order

__all__ = ["AgentFeed", "Dashboard", "NodeState", "PowerStep", "agent_command", "burn", "power_in_order"]
