"""The live dashboard (``cluster.dashboard()``): load charts, virtual LEDs, LED and power buttons."""

from .app import Dashboard
from .feed import AgentFeed, NodeState, agent_command
from .power import PowerStep, power_in_order

__all__ = ["AgentFeed", "Dashboard", "NodeState", "PowerStep", "agent_command", "power_in_order"]
