"""Virtual boards: a kind of lab (:data:`KIND`) of QEMU machines with their own kernel, systemd and clock.

``lab up --vm`` (``up(kind="vm")``) chooses it; :mod:`.boards` makes one, :class:`.vmlab.VMLab` drives it,
:mod:`.image` builds (and caches) the image its boards boot.
"""

from __future__ import annotations

from ...backends.base import Traits
from .. import kinds
from . import boards, machine
from . import image as vmimage
from .vmlab import VMLab


class VMKind(kinds.LabKind):
    """QEMU machines booted from their cards, each a whole machine as a real board is."""

    name = boards.NAME
    title = "virtual boards"
    flag = boards.NAME
    traits = Traits(own_kernel=True, own_clock=True, own_cores=True, init_system=True)
    lab_class = VMLab

    def add_options(self, parser) -> None:
        parser.add_argument(f"--{self.flag}", dest="kind", action="store_const", const=self.name,
                            help="virtual boards: QEMU machines with their own kernel, systemd and clock")
        parser.add_argument("--release", default=None, choices=vmimage.RELEASES,
                            help=f"the virtual boards' Debian release (default {vmimage.DEFAULT_RELEASE})")

    def why_not(self) -> str | None:
        return vmimage.why_not()

    def check(self, wanted: kinds.Wanted) -> None:
        vmimage.check_release(wanted.release or vmimage.DEFAULT_RELEASE)

    def ready(self, wanted: kinds.Wanted, *, log) -> None:
        """Build the boards' image (minutes when it is not cached)."""
        vmimage.build(wanted.release or vmimage.DEFAULT_RELEASE, log=log)

    def refuses(self, lab: VMLab, wanted: kinds.Wanted) -> tuple[str, str] | None:
        if wanted.release and lab.release != wanted.release:
            return "release", f"is already up with {lab.release}"
        return None

    def build(self, new: kinds.NewLab) -> None:
        boards.build(name=new.name, count=new.count, network=new.network, image=new.image, labs_dir=new.labs_dir,
                     password=new.password, other_labs=new.other_labs,
                     release=new.wanted.release or vmimage.DEFAULT_RELEASE, log=new.log, cards=new.wanted.cards)

    def emulated(self) -> bool:
        """Under QEMU's TCG (no hardware virtualisation here) a board boots in minutes."""
        return machine.accel() == "tcg"


KIND = VMKind()
kinds.register(KIND)

__all__ = ["VMKind", "VMLab", "KIND"]
