"""Setup steps: one protocol (plan, apply, verify) for users, network, keys, NFS and time.

>>> step = Users(cluster, name="alice", uid=1000, root_password=getpass())   # doctest: +SKIP
>>> step.plan()      # per node: diffs and commands; changes nothing
>>> step.apply()     # exactly the plan, then verified; a second apply changes nothing
"""

from .base import ApplyResult, Command, FileChange, NodeOutcome, NodePlan, Plan, Step, StepError
from . import sandbox
from .keys import Keys, PublicKey, import_key, parse_public_key, rescue_key
from .network import Network
from .nfs import Nfs
from .slurm import Slurm
from .timesync import TimeSync
from .users import Users, ids

__all__ = ["Step", "Plan", "NodePlan", "FileChange", "Command", "ApplyResult", "NodeOutcome", "StepError",
           "Users", "Network", "Keys", "Nfs", "Slurm", "TimeSync", "PublicKey", "parse_public_key", "import_key",
           "rescue_key", "sandbox", "ids"]
