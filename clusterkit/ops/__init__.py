"""Operations on a working cluster (notebook 06): boot target, test all, temperatures, reboot all, stop all.

>>> ops.test_all(cluster)                     # doctest: +SKIP
>>> ops.reboot_all(cluster, confirm=True)     # doctest: +SKIP
"""

from .boot import BootTarget, defaults
from .checks import Table, parse_temperature, temperatures, test_all
from .power import PowerReport, reboot_all, stop_all

__all__ = ["BootTarget", "defaults", "test_all", "temperatures", "parse_temperature", "Table", "PowerReport",
           "reboot_all", "stop_all"]
