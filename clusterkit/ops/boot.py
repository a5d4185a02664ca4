"""The boot target step lives with the other steps (:mod:`clusterkit.steps.boot`); ops keeps its old names."""

from ..steps.boot import LINK, SYSTEMD_DEFAULT, TARGETS, UNITS, BootTarget, current_target, defaults

__all__ = ["BootTarget", "current_target", "defaults", "LINK", "UNITS", "TARGETS", "SYSTEMD_DEFAULT"]
