"""A lab in a user namespace (the default ``lab up``, as root): every node's root is an unprivileged host uid, the
workbook reaches the nodes as today's lab, and ``lab down`` leaves no process, mount, namespace, map or file."""

from __future__ import annotations

import os

import clusterkit.lab
from clusterkit.lab import procs, rootless, userns
from labnames import LAB_MARKS, lab_name
from waiting import wait_for

pytestmark = LAB_MARKS


def host_uid(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(next(line.split()[1] for line in f if line.startswith("Uid:")))


def pids_in_user_namespace(inode: int) -> list[int]:
    """Every live process of the host in the user namespace with this inode."""
    out = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.stat(f"/proc/{entry}/ns/user").st_ino == inode:
                with open(f"/proc/{entry}/stat") as f:
                    text = f.read()
                if text[text.rindex(")") + 2] != "Z":
                    out.append(int(entry))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return out


def lab_traces(name: str, directory) -> list[str]:
    """What of lab ``name`` the host still has: named namespaces, links, mounts, its folder."""
    out = [f"netns {n}" for n in os.listdir("/run/netns") if n.startswith(f"ck-{name}-")] \
        if os.path.isdir("/run/netns") else []
    out += [f"link {n}" for n in os.listdir("/sys/class/net") if n.startswith(f"ck{name}-")]
    with open("/proc/self/mountinfo") as f:
        out += [f"mount {line.split()[4]}" for line in f if f"/{name}" in line.split()[4]]
    return out + ([f"folder {directory}"] if directory.exists() else [])


def test_up_in_a_user_namespace_then_down_leaves_nothing():
    name = lab_name("tul")
    lab = clusterkit.lab.up(n=4, name=name, kind="userns")
    directory = lab.dir
    try:
        holder = rootless.holder_of(directory)
        inode = os.stat(f"/proc/{holder.pid}/ns/user").st_ino
        base = userns.root_map(userns.parse(open(userns.SUBUID).read(), name="root", ident=0)).to_host(0)
        assert [s.state for s in lab.status()] == ["running"] * 4
        with lab.connect() as cluster:
            r = cluster.sudo("id -u; cat /proc/self/uid_map", timeout=30)
            assert r.ok, r.text()
            assert {x.stdout.split()[0] for x in r.values()} == {"0"}
            assert {tuple(x.stdout.split()[1:]) for x in r.values()} == {("0", str(base), str(userns.SIZE))}
        for board in lab.boards.values():
            init = lab.pid(board.name)
            assert os.stat(f"/proc/{init}/ns/user").st_ino == inode
            assert host_uid(init) == base                    # the node's root, as the host sees it
            sshd = lab.exec(board.name, "cat /run/sshd.pid").stdout.strip()
            assert sshd.isdigit()
        inside = pids_in_user_namespace(inode)
        # Every process in the lab's user namespace, its holder too, is a host uid of the range.
        assert len(inside) > 4 * 3 and {p for p in inside if not base <= host_uid(p) < base + userns.SIZE} == set()
        assert host_uid(holder.pid) == base and procs.children(holder.pid) == []
        # The venue router (dnsmasq) too: in the lab's user namespace, as its root, in a network namespace it owns.
        assert lab.router.pid in inside and host_uid(lab.router.pid) == base
        router_net = os.stat(f"/proc/{lab.router.pid}/ns/net").st_ino
        assert router_net != os.stat("/proc/self/ns/net").st_ino
    finally:
        clusterkit.lab.down(name=name)
    assert pids_in_user_namespace(inode) == []               # no process: so no namespace and no map either
    assert lab_traces(name, directory) == []
    assert clusterkit.lab.find(name) is None


def test_host_files_show_as_nobody_and_the_node_owns_its_root(userns_lab):
    for name in userns_lab.boards:
        r = userns_lab.exec(name, "stat -c '%u %n' / /usr/bin/sudo /etc/sudoers /proc/1/root/. /dev/null; "
                                  "ls /run/clusterkit/labs 2>&1; ls /work 2>&1")
        lines = r.stdout.splitlines()
        assert lines[:4] == ["0 /", "0 /usr/bin/sudo", "0 /etc/sudoers", "0 /proc/1/root/."], r.stdout + r.stderr
        assert lines[4] == f"{userns.SIZE - 2} /dev/null"    # the host's device: nobody
        assert "No such file or directory" in lines[5] and "No such file or directory" in lines[6]


def test_sudo_is_root_for_pi_and_services_start(userns_lab, userns_askpass):
    from labtools import ssh
    node = f"{userns_lab.name}1"
    r = ssh(userns_lab, node, "id -u; chronyd -x -f /etc/chrony/chrony.conf && pgrep -x chronyd",
            askpass_path=userns_askpass, sudo=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "0" and r.stdout.split()[1].isdigit()


def test_a_reboot_inside_boots_the_node_again_in_the_namespace_and_poweroff_stays_off(userns_lab):
    name = f"{userns_lab.name}3"
    before = userns_lab.pid(name)
    assert userns_lab.exec(name, "reboot").returncode == 0
    wait_for(lambda: userns_lab.pid(name) not in (None, before), 30, f"{name} to boot again")
    userns_lab.wait_booted([name], timeout=30)
    assert userns_lab.exec(name, "cat /proc/self/uid_map").stdout.split()[1] != "0"
    other = f"{userns_lab.name}2"
    assert userns_lab.exec(other, "poweroff").returncode == 0
    wait_for(lambda: userns_lab.pid(other) is None, 30, f"{other} to power off")
    userns_lab.start_node(other)
    userns_lab.wait_booted([other], timeout=30)
    assert [s.state for s in userns_lab.status()] == ["running"] * 4


def test_root_labs_share_one_image_layer_made_once_and_kept_after_down():
    from clusterkit.lab import rootless_node
    first, second = lab_name("tui"), lab_name("tuj")
    a = clusterkit.lab.up(n=1, name=first)
    try:
        image = (a.dir / "image").resolve()
        assert image.parent == rootless_node.IMAGE_CACHE and (image / "etc" / "sudoers").is_file()
        st = os.stat(image)
        assert (st.st_mode & 0o777) == 0o700 and st.st_uid != 0   # the range's root's, nobody else's
        b = clusterkit.lab.up(n=1, name=second)
        try:
            assert (b.dir / "image").resolve() == image and os.stat(image).st_ino == st.st_ino   # not made again
            assert b.exec(f"{second}0", "id -u; test -u /usr/bin/sudo && echo setuid").stdout.split() == ["0", "setuid"]
        finally:
            clusterkit.lab.down(name=second)
    finally:
        clusterkit.lab.down(name=first)
    assert not a.dir.exists() and (image / "etc" / "sudoers").is_file()   # the cache outlives its labs
