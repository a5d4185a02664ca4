"""What each kind of node's Platform answers for a shared folder, an fstab and a fresh image: a board's, a
sandbox's, the namespace lab's and a user-namespace lab's."""

from __future__ import annotations

import pytest

import clusterkit
from clusterkit.backends.platform import BOARD_PLATFORM, EXPORTS, Do, Share, Write
from clusterkit.backends.sandboxplatform import SANDBOX
from clusterkit.errors import ClusterkitError
from clusterkit.lab.nfsserver import GANESHA_CONF
from clusterkit.lab.platform import LAB_PLATFORM, USERNS_PLATFORM
from clusterkit.lab.unfs3 import UNFSD, UNIT, UNIT_TEXT
from clusterkit.results import NodeResult
from clusterkit.steps import sandbox


class Untouchable:
    """A node that fails the test when anything reads or writes it."""

    name = "pc0"

    def __getattr__(self, attr):
        raise AssertionError(f"the Platform touched the node ({attr})")


@pytest.fixture
def local(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTERKIT_STATE", str(tmp_path / "state"))
    with clusterkit.connect(backend="local", sandbox=tmp_path / "sandbox") as cluster:
        yield cluster


@pytest.mark.parametrize("platform", [BOARD_PLATFORM, LAB_PLATFORM], ids=["board", "lab"])
def test_a_board_or_lab_node_is_imaged_by_its_card_or_lab_never_here(platform):
    node = Untouchable()
    assert platform.needs_image(node) is False
    assert platform.lay_image(node, {"/etc/hostname": (b"raspberrypi\n", 0o644)}, hostname="raspberrypi") is False


def test_a_sandbox_waits_for_an_image_until_one_is_laid(local):
    node = local["pc1"]
    assert SANDBOX.needs_image(node)
    node.write_file("/etc/hostname", b"old\n")
    node.write_file("/etc/hostname", b"older\n")          # now with a backup and an original beside it
    assert node.read_file("/etc/hostname.clusterkit.bak") == b"old\n"
    files = {"/etc/passwd": (b"root:x:0:0:root:/root:/bin/bash\n", 0o644), "/etc/hostname": (b"raspberrypi\n", 0o644),
             "/etc/ssh/sshd_config": (b"UsePAM yes\n", 0o644)}
    assert SANDBOX.lay_image(node, files, hostname="raspberrypi") is True
    assert not SANDBOX.needs_image(node)
    assert node.read_file("/etc/hostname") == b"raspberrypi\n"
    assert node.read_file("/etc/hostname.clusterkit.bak") is None
    assert node.read_file("/etc/hostname.clusterkit.orig") is None
    key = node.read_file("/etc/ssh/ssh_host_ed25519_key.pub")
    assert key is not None and key.split()[-1] == b"root@raspberrypi"
    assert SANDBOX.lay_image(node, files, hostname="raspberrypi")
    assert node.read_file("/etc/ssh/ssh_host_ed25519_key.pub") == key    # a second image keeps the node's key


def test_prepare_lays_the_image_once(local):
    assert sandbox.prepare(local) is True
    assert all(not node.platform.needs_image(node) for node in local)
    assert sandbox.prepare(local) is False


def test_fresh_image_refuses_nodes_it_cannot_image():
    class Boards(list):
        class inventory:
            uplink = "wlan0"
    node = Untouchable()
    node.__dict__["platform"] = BOARD_PLATFORM
    with pytest.raises(ValueError, match="prepares local sandboxes"):
        sandbox.fresh_image(Boards([node]))


# ---------------------------------------------------------------- serving a folder over NFS

SHARE = Share("/srv/shared", "10.0.0.0/24", True, "install -d -m 1777 /srv/shared",
              "/srv/shared 10.0.0.0/24(rw,sync,no_subtree_check,root_squash)\n")


def said(wants) -> list[str]:
    return [getattr(w, "command", None) or getattr(w, "path", None) or f"fstab: {w.line}" for w in wants]


def test_a_board_serves_with_the_kernel_server_installed_by_apt():
    way = BOARD_PLATFORM.share_folder()
    assert way.reads == (EXPORTS,)
    assert said(way.serve(SHARE, platform=BOARD_PLATFORM, found={EXPORTS: None}, flags=set())) == [
        SHARE.folder, EXPORTS, "DEBIAN_FRONTEND=noninteractive apt-get install -y nfs-kernel-server",
        "systemctl enable --now nfs-server", "exportfs -ra", "exportfs -v"]
    settled = way.serve(SHARE, platform=BOARD_PLATFORM, found={EXPORTS: SHARE.exports}, flags=set(way.settled))
    assert [type(w) for w in settled] == [Write]      # the exports as they are: nothing to run


def test_a_sandbox_lists_the_kernel_server_without_a_package_to_install():
    way = SANDBOX.share_folder()
    assert said(way.serve(SHARE, platform=SANDBOX, found={EXPORTS: None}, flags=set())) == [
        SHARE.folder, EXPORTS, "systemctl enable --now nfs-server", "exportfs -ra", "exportfs -v"]


def test_the_lab_serves_with_nfs_ganesha_from_its_home_layer():
    way = LAB_PLATFORM.share_folder()
    assert way.reads == (EXPORTS, GANESHA_CONF, "/etc/fstab") and "nfs-ganesha" in way.note
    wants = way.serve(SHARE, platform=LAB_PLATFORM, found=dict.fromkeys(way.reads), flags=set())
    assert said(wants)[0].endswith("mount --bind /home/.clusterkit-export/srv/shared /srv/shared")
    assert said(wants)[1:6] == [SHARE.folder, EXPORTS, GANESHA_CONF,
                                "fstab: /home/.clusterkit-export/srv/shared /srv/shared none bind,nofail 0 0",
                                "systemctl enable nfs-ganesha"]
    assert "ganesha.nfsd" in said(wants)[6] and len(wants) == 7
    conf = next(w.text for w in wants if isinstance(w, Write) and w.path == GANESHA_CONF)
    found = {EXPORTS: SHARE.exports, GANESHA_CONF: conf, "/etc/fstab": ""}
    settled = way.serve(SHARE, platform=LAB_PLATFORM, found=found, flags=set(way.settled))
    assert not [w for w in settled if isinstance(w, Do)]     # served, enabled, backed: nothing to run


def test_a_user_namespace_lab_serves_with_unfs3_and_rpcbind_over_nfsv3():
    way = USERNS_PLATFORM.share_folder()
    assert way.version == 3 and way.export_options == ("insecure",) and LAB_PLATFORM.share_folder().version == 4
    assert way.reads == (EXPORTS, UNIT) and "unfs3" in way.note and "insecure" in way.note
    wants = way.serve(SHARE, platform=USERNS_PLATFORM, found=dict.fromkeys(way.reads), flags=set())
    assert said(wants)[:4] == [SHARE.folder, EXPORTS, UNIT, "systemctl enable unfs3"] and len(wants) == 5
    start = said(wants)[4]
    assert start.index("rpcbind -w") < start.index(f"{UNFSD} -e /etc/exports") and "100003 +3 +tcp" in start
    assert f"ExecStart={UNFSD} -e /etc/exports" in UNIT_TEXT and "WantedBy=multi-user.target" in UNIT_TEXT
    # No backing folder and no fstab line of its own: the node's /srv is a folder of its own, unfs3 serves by path.
    assert not any(w.path == "/etc/fstab" for w in wants if hasattr(w, "path")) and "mount --bind" not in " ".join(said(wants))
    found = {EXPORTS: SHARE.exports, UNIT: UNIT_TEXT}
    assert not [w for w in way.serve(SHARE, platform=USERNS_PLATFORM, found=found, flags=set(way.settled))
                if isinstance(w, Do)]                        # served, registered, enabled: nothing to run
    # New exports: unfsd started again (it reads them at its start); not yet registered: started too.
    changed = {EXPORTS: SHARE.exports + "# more\n", UNIT: UNIT_TEXT}
    for found_, flags in ((changed, set(way.settled)), (found, set(way.settled) - {"registered"})):
        runs = [w.command for w in way.serve(SHARE, platform=USERNS_PLATFORM, found=found_, flags=flags)
                if isinstance(w, Do)]
        assert len(runs) == 1 and UNFSD in runs[0]


def test_unfs3_is_checked_running_and_registered_and_a_worker_asks_nfs_ls():
    node = Answers(True, "a\n")
    assert USERNS_PLATFORM.share_folder().check_server(node, "/srv/shared").startswith("unfs3 serves /srv/shared")
    assert "rpcinfo -p" in node.ran[0] and "100005" in node.ran[0]
    with pytest.raises(ClusterkitError) as caught:
        USERNS_PLATFORM.share_folder().check_server(Answers(False), "/srv/shared")
    assert (caught.value.node, caught.value.field) == ("pc0", "server")
    line = USERNS_PLATFORM.share_folder().check_mount(node, mounted="x", mount="/srv/shared", server="pc0",
                                                      export="/srv/shared", nfs_ls="nfs-ls nfs://x?version=3")
    assert node.ran[-1] == "nfs-ls nfs://x?version=3" and "(1 entries)" in line


class Answers:
    """A node whose commands all give one result."""

    name = "pc0"

    def __init__(self, ok: bool, stdout: str = ""):
        self.result = NodeResult.from_exit(self.name, 0 if ok else 1, stdout, "", 0.0)
        self.ran = []

    def run(self, command, *, timeout=None, stdin=None):
        self.ran.append(command)
        return self.result

    sudo = run


@pytest.mark.parametrize("platform", [BOARD_PLATFORM, LAB_PLATFORM, USERNS_PLATFORM], ids=["board", "lab", "userns"])
def test_a_server_that_does_not_serve_is_named_with_why(platform):
    with pytest.raises(ClusterkitError) as caught:
        platform.share_folder().check_server(Answers(False), "/srv/shared")
    assert caught.value.node == "pc0" and caught.value.field in ("export", "server")


def test_a_lab_worker_proves_its_bind_with_nfs_ls_and_a_board_shows_its_mount():
    node = Answers(True, "a\nb\n")
    line = LAB_PLATFORM.share_folder().check_mount(node, mounted="x", mount="/srv/shared", server="pc0",
                                                   export="/srv/shared", nfs_ls="nfs-ls nfs://pc0/srv/shared")
    assert node.ran == ["nfs-ls nfs://pc0/srv/shared"] and "(2 entries)" in line
    assert BOARD_PLATFORM.share_folder().check_mount(Untouchable(), mounted="pc0:/srv/shared nfs4", mount="/srv/shared",
                                                     server="pc0", export="/srv/shared", nfs_ls="") \
        == "/srv/shared: pc0:/srv/shared nfs4"


def test_only_a_sandbox_has_no_share_to_try():
    assert BOARD_PLATFORM.why_no_share() is None and LAB_PLATFORM.why_no_share() is None
    assert SANDBOX.why_no_share() == "the local backend has no NFS"
