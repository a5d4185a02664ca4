"""One virtual board: a QEMU process, its console, its monitor and its guest agent.

The board runs inside the VM lab's network namespace (its two taps live
there): ``eth0`` on the cluster bridge, a second NIC on the venue bridge that
its card names ``wlan0``. Its files are a copy-on-write overlay over the
image's read-only base (deleting the overlay reflashes the root file system),
its card a FAT disk (:mod:`.seed`), its serial console a socket with a log
(the board's keyboard and screen), its monitor a QMP socket (snapshots), and
the QEMU guest agent the lab's hand on its clock and, for tests, a way around
SSH. A ``poweroff`` inside ends the QEMU process; a ``reboot`` resets the
machine and keeps the process.

Acceleration: KVM where ``/dev/kvm`` gives working hardware virtualisation,
else TCG (``CLUSTERKIT_VM_ACCEL`` forces one).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ...errors import ClusterkitError
from .. import procs

MEMORY_MIB = 1024
#: The kernel's command line: the serial console is the board's screen; ``mitigations=off`` and
#: ``cryptomgr.notests`` spare an emulated CPU work that protects nothing in a lab. ``clearcpuid=cx16``: the
#: guest kernel leaves CMPXCHG16B alone (its per-CPU allocator then takes its software path); one board in
#: about seven runs of the VM phases panicked under TCG (QEMU 7.2) with a double fault right after the
#: kernel's ``cmpxchg16b %gs:(%rsi)`` in the slab allocator, its flags register holding bits no x86-64 flags
#: can have. Programs still see the instruction in CPUID (NumPy's x86-64-v2 baseline needs it).
KERNEL_ARGS = ("console=ttyS0 root=/dev/vda rw net.ifnames=0 quiet systemd.show_status=auto "
               "mitigations=off cryptomgr.notests clearcpuid=cx16")
#: TCG's translation cache: QEMU's default (a quarter of guest memory and more) costs ~500 MiB per board.
TB_SIZE_MIB = 256


@dataclass(frozen=True)
class Files:
    """Where one board keeps its state on the host."""

    dir: Path

    overlay = property(lambda self: self.dir / "root.qcow2")
    card = property(lambda self: self.dir / "card.img")
    console = property(lambda self: self.dir / "console.sock")
    console_log = property(lambda self: self.dir / "console.log")
    qmp = property(lambda self: self.dir / "qmp.sock")
    qga = property(lambda self: self.dir / "qga.sock")
    pidfile = property(lambda self: self.dir / "qemu.pid")
    log = property(lambda self: self.dir / "qemu.log")


def accel() -> str:
    """"kvm" or "tcg": KVM only when asked (``CLUSTERKIT_VM_ACCEL=kvm``) or when a probe boots under it."""
    forced = os.environ.get("CLUSTERKIT_VM_ACCEL")
    if forced in ("kvm", "tcg"):
        return forced
    return "kvm" if _kvm_works() else "tcg"


def _kvm_works() -> bool:
    """Hardware virtualisation, not a paravirtual /dev/kvm (PVM) that a stock kernel cannot boot under."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    flags = next((ln.split(":", 1)[1].split() for ln in cpuinfo.splitlines() if ln.startswith("flags")), [])
    if "vmx" not in flags and "svm" not in flags:
        return False
    modules = Path("/proc/modules").read_text() if Path("/proc/modules").exists() else ""
    return "kvm_pvm" not in modules


def command(*, name: str, files: Files, kernel: Path, initrd: Path, wired_tap: str, wired_mac: str,
            uplink_tap: str, uplink_mac: str, share: Path, rtc_base: str = "utc", loadvm: str | None = None,
            accelerator: str | None = None, kernel_args: str = "") -> list[str]:
    """The qemu-system-x86_64 command line of one board (daemonised, pid in ``files.pidfile``).

    ``kernel_args``: added to the kernel's command line, as a line added to a Pi's ``cmdline.txt``
    (``init=/bin/sh`` to mend a board that no longer boots)."""
    acc = accelerator or accel()
    cmd = ["qemu-system-x86_64", "-name", f"{name},process=qemu-{name}", "-machine", "q35",
           "-nodefaults", "-no-user-config", "-display", "none", "-vga", "none",
           "-m", str(MEMORY_MIB), "-smp", "1"]
    cmd += (["-accel", "kvm", "-cpu", "host"] if acc == "kvm"
            else ["-accel", f"tcg,tb-size={TB_SIZE_MIB}", "-cpu", "max"])
    cmd += ["-kernel", str(kernel), "-initrd", str(initrd),
            "-append", f"{KERNEL_ARGS} {kernel_args}".strip(),
            "-drive", f"file={files.overlay},if=virtio,format=qcow2,discard=unmap",
            "-drive", f"file={files.card},if=virtio,format=raw,readonly=on",
            "-netdev", f"tap,id=wired,ifname={wired_tap},script=no,downscript=no",
            "-device", f"virtio-net-pci,netdev=wired,mac={wired_mac}",
            "-netdev", f"tap,id=uplink,ifname={uplink_tap},script=no,downscript=no",
            "-device", f"virtio-net-pci,netdev=uplink,mac={uplink_mac}",
            "-device", "virtio-rng-pci",
            "-chardev", f"socket,id=console,path={files.console},server=on,wait=off,logfile={files.console_log},logappend=on",
            "-serial", "chardev:console",
            "-qmp", f"unix:{files.qmp},server=on,wait=off",
            "-device", "virtio-serial-pci",
            "-chardev", f"socket,id=qga,path={files.qga},server=on,wait=off",
            "-device", "virtserialport,chardev=qga,name=org.qemu.guest_agent.0",
            "-virtfs", f"local,path={share},mount_tag=clusterkit,security_model=none,readonly=on",
            "-rtc", f"base={rtc_base},clock=host",
            "-pidfile", str(files.pidfile), "-daemonize"]
    if loadvm:
        cmd += ["-loadvm", loadvm]
    return cmd


def start(cmd: list[str], *, ns: str, files: Files) -> procs.Proc:
    """Start a board's QEMU inside namespace ``ns``; returns its process once it has daemonised."""
    files.pidfile.unlink(missing_ok=True)
    with open(files.log, "ab") as log:
        r = subprocess.run(["ip", "netns", "exec", ns, *cmd], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    if r.returncode != 0 or not files.pidfile.is_file():
        tail = files.log.read_text(errors="replace").strip().splitlines()[-3:]
        raise ClusterkitError(f"qemu did not start: {' | '.join(tail)}", field="lab")
    pid = int(files.pidfile.read_text().split()[0])
    proc = procs.proc_of(pid)
    if proc is None:
        raise ClusterkitError("qemu started and ended at once: " + files.log.read_text(errors="replace")[-300:],
                              field="lab")
    return proc


# ------------------------------------------------------------------ QMP and the guest agent

class _Socket:
    """One JSON-lines conversation on a unix socket."""

    def __init__(self, path: Path, timeout: float):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.buf = b""

    def send(self, obj: dict) -> None:
        self.sock.sendall(json.dumps(obj).encode() + b"\n")

    def receive(self) -> dict:
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ClusterkitError("the board closed its socket", field="lab")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def close(self) -> None:
        self.sock.close()


def qmp(files: Files, command_: str, arguments: dict | None = None, *, timeout: float = 120.0):
    """One QMP command on a board's monitor; returns its ``return`` (raises on ``error``)."""
    s = _Socket(files.qmp, timeout)
    try:
        s.receive()                                    # the greeting
        s.send({"execute": "qmp_capabilities"})
        _answer(s)
        s.send({"execute": command_, **({"arguments": arguments} if arguments else {})})
        return _answer(s)
    finally:
        s.close()


def hmp(files: Files, line: str, *, timeout: float = 300.0) -> str:
    """A human-monitor command (``savevm``), through QMP; returns what it printed."""
    out = qmp(files, "human-monitor-command", {"command-line": line}, timeout=timeout)
    if out and "rror" in out:
        raise ClusterkitError(f"qemu monitor: {line}: {out.strip()}", field="lab")
    return out


def _answer(s: _Socket):
    while True:
        msg = s.receive()
        if "return" in msg:
            return msg["return"]
        if "error" in msg:
            raise ClusterkitError(f"qemu: {msg['error'].get('desc', msg['error'])}", field="lab")
        # events ({"event": …}) are skipped


def agent(files: Files, command_: str, arguments: dict | None = None, *, timeout: float = 10.0):
    """One guest-agent command; raises when the agent does not answer within ``timeout``."""
    s = _Socket(files.qga, timeout)
    try:
        token = int(time.monotonic() * 1000) & 0x7FFFFFFF
        s.send({"execute": "guest-sync-delimited", "arguments": {"id": token}})
        # guest-sync-delimited answers after a 0xFF byte; drop anything before it.
        while True:
            while b"\n" not in s.buf:
                chunk = s.sock.recv(65536)
                if not chunk:
                    raise ClusterkitError("the guest agent closed its channel", field="lab")
                s.buf += chunk
            if b"\xff" in s.buf:
                s.buf = s.buf[s.buf.rindex(b"\xff") + 1:]
            msg = s.receive()
            if msg.get("return") == token:
                break
        s.send({"execute": command_, **({"arguments": arguments} if arguments else {})})
        msg = s.receive()
        if "error" in msg:
            raise ClusterkitError(f"guest agent: {msg['error'].get('desc', msg['error'])}", field="lab")
        return msg.get("return")
    finally:
        s.close()


def agent_ready(files: Files, *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            agent(files, "guest-ping", timeout=3)
            return True
        except (OSError, ClusterkitError, ValueError):
            time.sleep(0.5)
    return False


def set_clock(files: Files, when_ns: int | None = None) -> None:
    """Set the board's clock (and its RTC) to ``when_ns`` (default: the host's time), like a battery RTC."""
    agent(files, "guest-set-time", {"time": time.time_ns() if when_ns is None else when_ns}, timeout=15)


def guest_exec(files: Files, command_: str, *, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run ``command_`` as root on the board through the guest agent (no SSH, no network)."""
    started = agent(files, "guest-exec", {"path": "/bin/sh", "arg": ["-c", command_], "capture-output": True})
    pid = started["pid"]
    deadline = time.monotonic() + timeout
    while True:
        st = agent(files, "guest-exec-status", {"pid": pid})
        if st.get("exited"):
            out = base64.b64decode(st.get("out-data", "")).decode(errors="replace")
            err = base64.b64decode(st.get("err-data", "")).decode(errors="replace")
            return subprocess.CompletedProcess(command_, st.get("exitcode", -1), out, err)
        if time.monotonic() > deadline:
            raise subprocess.TimeoutExpired(command_, timeout)
        time.sleep(0.2)


# ------------------------------------------------------------------ the console

def console_text(files: Files) -> str:
    try:
        return files.console_log.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def console_type(files: Files, text: str) -> None:
    """Type ``text`` on the board's serial console (its keyboard)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(str(files.console))
        for chunk in text.encode():
            s.sendall(bytes([chunk]))
            time.sleep(0.002)
        time.sleep(0.2)


def wait_console(files: Files, needle: str, *, after: int = 0, timeout: float) -> bool:
    """Wait until ``needle`` appears in the console log after byte ``after``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in console_text(files)[after:]:
            return True
        time.sleep(0.3)
    return False


__all__ = ["Files", "command", "start", "qmp", "hmp", "agent", "agent_ready", "set_clock", "guest_exec",
           "console_text", "console_type", "wait_console", "accel", "MEMORY_MIB"]
