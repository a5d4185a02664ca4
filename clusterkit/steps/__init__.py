"""Setup steps: one protocol (plan, apply, verify) for users, network, keys, NFS and time.

>>> step = Users(cluster, name="alice", uid=1000, root_password=getpass())   # doctest: +SKIP
>>> step.plan()      # per node: diffs and commands; changes nothing
>>> result = step.apply()     # exactly the plan, then verified; a second apply changes nothing
>>> result.save_inventory()   # where nodes are now reached another way (a new login or address)

A plan is a list of actions per node (:mod:`.actions`); one executor applies
them on nodes with root and simulates them in a local node's sandbox.
"""

from .actions import Action, Command, FileChange, HostBind, Link, NodeOutcome, Rendered
from .base import ApplyResult, InventorySave, NodePlan, Plan, Step, StepError
from .detached import DetachedScript
from . import sandbox
from .boot import BootTarget
from .keys import Keys, PublicKey, import_key, parse_public_key, rescue_key
from .network import Network
from .nfs import Nfs
from .homes import SharedHomes
from .modules import Modules
from .slurm import Slurm
from .timesync import TimeSync
from .users import Users, ids

__all__ = ["Step", "Plan", "NodePlan", "Action", "FileChange", "Rendered", "Command", "Link", "DetachedScript",
           "HostBind", "ApplyResult", "InventorySave", "NodeOutcome", "StepError", "BootTarget",
           "Users", "Network", "Keys", "Nfs", "SharedHomes", "Modules", "Slurm", "TimeSync", "PublicKey", "parse_public_key", "import_key",
           "rescue_key", "sandbox", "ids"]
