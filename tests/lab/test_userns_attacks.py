"""The attacks of issue 22, tried as root (pi through sudo, over SSH) on a node of a lab in a user namespace.

Each must be refused, with the host unchanged: :func:`host_digest` covers the host folders an attack aims at,
taken before and after each attack, and no file of the attacks' name may appear in them. What the kernel
answered is asserted where it is the refusal itself. Attacks that unmount a node's own folders run in a mount
namespace of their own (``unshare -m``, as node root may), so the node stays whole for the next one."""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from labnames import LAB_MARKS
from labtools import ssh

pytestmark = LAB_MARKS

#: Host folders the attacks aim at, that nothing else changes while the tests run (entries and times).
WATCHED = ("/usr", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/local", "/usr/local/bin")
#: Where no file of the attacks' name may appear (other work on this host writes here: no digest).
SEARCHED = WATCHED + ("/etc", "/opt", "/root", "/home", "/tmp", "/run/clusterkit/labs")
MARK = "ckr-attack"


def host_digest() -> dict[str, str]:
    """Per watched folder: a digest of its entries, times, mode and owner."""
    out = {}
    for folder in WATCHED:
        st = os.stat(folder)
        h = hashlib.sha256(f"{st.st_mtime_ns} {st.st_ctime_ns} {st.st_mode} {st.st_uid}\n".encode())
        h.update("\0".join(sorted(os.listdir(folder))).encode())
        out[folder] = h.hexdigest()
    return out


@pytest.fixture
def host_unchanged():
    before = host_digest()
    yield
    assert host_digest() == before
    for folder in SEARCHED:
        assert not any(MARK in name for name in os.listdir(folder)), folder


def as_root(lab, askpass, command: str, node: int = 0, *, own_mounts: bool = False):
    """``command`` run as root on node ``node`` over SSH (pi through sudo; with ``own_mounts``, in a mount
    namespace of its own); its exit code must be 0."""
    if own_mounts:
        command = "unshare -m --propagation private sh -c '" + command.replace("'", "'\\''") + "'"
    r = ssh(lab, f"{lab.name}{node}", command, askpass_path=askpass, sudo=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_1_remount_usr_read_write_and_write_into_it(userns_lab, userns_askpass, host_unchanged):
    out = as_root(userns_lab, userns_askpass, f"""
        mount -o remount,rw /usr; mount -o remount,bind,rw /usr
        touch /usr/{MARK} 2>&1; touch /usr/bin/{MARK} 2>&1; echo "--"
        umount -l /usr; {{ echo x > /usr/{MARK}; }} 2>&1 && echo "landed in the node's own root"
        while read -r dev at type rest; do [ "$at" = / ] && echo "/ is $type"; done < /proc/mounts; true""",
                  own_mounts=True)
    refused, after = out.split("--\n")
    assert refused.count("Read-only file system") == 2, out
    # Under the unmounted /usr lies the node's own root (a read-only tmpfs): nothing of the host's.
    assert "/ is tmpfs" in after and ("Read-only file system" in after or "landed" in after), out


def test_2_write_the_hosts_etc_and_root(userns_lab, userns_askpass, host_unchanged):
    out = as_root(userns_lab, userns_askpass, f"""
        umount -l /etc; umount -l /root; touch /etc/{MARK} /root/{MARK}; ls /etc | wc -l; ls -A /root | wc -l""",
                  own_mounts=True)
    etc_entries, root_entries = out.split()[-2:]
    assert int(etc_entries) <= 1 and int(root_entries) <= 1   # the node's own empty folders, not the host's


def test_3_see_or_signal_a_host_process(userns_lab, userns_askpass, host_unchanged):
    me = os.getpid()
    out = as_root(userns_lab, userns_askpass, f"""
        ls /proc | grep -c '^[0-9]'; kill -0 {me} 2>&1 || true; [ -e /proc/{me} ] && echo seen || echo "No such file"
        tr '\\0' ' ' < /proc/1/cmdline""")
    lines = [line for line in out.splitlines() if line]
    assert int(lines[0]) < 40                                        # the node's own processes only
    assert "No such process" in lines[1] and lines[2] == "No such file"
    assert "boot-userns.sh" in lines[3]                               # PID 1 is the node's own boot


def test_4_load_a_kernel_module(userns_lab, userns_askpass, host_unchanged):
    out = as_root(userns_lab, userns_askpass, """python3 -c '
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open("/dev/null", os.O_RDONLY)
for nr, args in ((175, (b"", 0, b"")), (313, (fd, b"", 0))):   # init_module, finit_module (x86-64)
    rc = libc.syscall(nr, *args)
    print(rc, errno.errorcode[ctypes.get_errno()])
'""")
    for line in out.splitlines():
        rc, name = line.split()
        assert rc == "-1" and name in ("EPERM", "ENOSYS"), out


def test_5_set_the_clock(userns_lab, userns_askpass, host_unchanged):
    out = as_root(userns_lab, userns_askpass, "date -s @1000000000 2>&1 || true; date +%s")
    assert "Operation not permitted" in out
    assert abs(int(out.split()[-1]) - time.time()) < 3600 and time.time() > 1_700_000_000


def test_6_mount_a_host_block_device_or_proc_1_root(userns_lab, userns_askpass, host_unchanged):
    out = as_root(userns_lab, userns_askpass, """
        dev=$(ls /dev/vda /dev/sda /dev/nvme0n1 2>/dev/null | head -n1); echo "device $dev"
        mount "$dev" /mnt 2>&1 || echo refused; stat -c '%U %a' "$dev"; head -c 512 "$dev" 2>&1 | head -c 80; echo
        mount --bind /proc/1/root /media 2>&1; ls /media; ls /proc/1/root/work 2>&1; true""", own_mounts=True)
    assert "refused" in out and "nobody" in out and "Permission denied" in out, out
    assert "No such file or directory" in out.splitlines()[-1]         # no host folder through /proc/1/root


def test_7_reach_an_address_outside_the_lab(userns_lab, userns_askpass, host_unchanged):
    """Asked of the routing tables (``ip route get`` sends nothing): no packet may be sent outside the lab's own
    networks, so the test never tries. From the node an outside address goes, at most, to the venue router, and
    the router has no route on."""
    import ipaddress
    import subprocess

    from clusterkit.lab import net
    outside = ("192.0.2.1", "10.255.255.1")
    node = as_root(userns_lab, userns_askpass, "; ".join(f"ip -o route get {a} 2>&1" for a in outside))
    router = userns_lab.names.router_ns
    for addr in outside:
        r = subprocess.run(["ip", "netns", "exec", router, "ip", "-o", "route", "get", addr],
                           capture_output=True, text=True)
        assert r.returncode != 0 and "unreachable" in r.stderr, (addr, r.stdout, r.stderr)
    router_address = net.uplink_address(ipaddress.ip_network(userns_lab.uplink), net.ROUTER_HOST)
    for addr in outside:                        # the node's only way on: the venue router, which has none
        assert f"{addr} via {router_address} dev wlan0" in node, node


def test_8_read_another_labs_files(userns_lab, userns_askpass, host_unchanged):
    out = as_root(userns_lab, userns_askpass, f"""
        umount -l /run; umount -l /tmp; umount -l /home
        ls /run/clusterkit/labs 2>&1; ls -A /tmp; ls -A /home; cat {userns_lab.inventory_path} 2>&1; true""",
                  own_mounts=True)
    assert out.count("No such file or directory") == 2, out
    assert "password" not in out


def test_9_create_device_nodes(userns_lab, userns_askpass, host_unchanged):
    out = as_root(userns_lab, userns_askpass, "mknod /tmp/m c 1 1 2>&1; mknod /tmp/d b 254 0 2>&1; ls /tmp")
    assert out.count("Operation not permitted") == 2 and "m\n" not in out, out


def test_10_ip_netns_or_nsenter_out_of_the_node(userns_lab, userns_askpass, host_unchanged):
    out = as_root(userns_lab, userns_askpass, f"""
        ip netns list | wc -l; ls /run/netns 2>&1
        nsenter -t 1 -m -u -i -n -p -- sh -c 'cat /proc/self/uid_map; touch /usr/{MARK}' 2>&1
        unshare -U -r -m sh -c "mount -o remount,rw /usr; touch /usr/{MARK}" 2>&1; true""")
    lines = out.splitlines()
    assert lines[0] == "0" and "No such file or directory" in lines[1]
    uid_map = lines[2].split()
    assert uid_map[0] == "0" and uid_map[1] != "0" and uid_map[2] == "65536"   # still the lab's map
    assert out.count("Read-only file system") + out.count("Permission denied") >= 2, out
