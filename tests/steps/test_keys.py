"""Keys on the local backend: authorised once, 600/700, host keys pinned, imports offline, the lock-out guard."""

from __future__ import annotations

import subprocess

import pytest

from clusterkit.steps import Keys, StepError, Users, import_key
from clusterkit.steps.keys import DROP_IN, KNOWN_HOSTS


@pytest.fixture
def alice(fresh):
    Users(fresh, name="alice", uid=1000, root_password="backup-door-1").apply(progress=False)
    return fresh


def colleague(tmp_path, name="bob") -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@laptop",
                    "-f", str(tmp_path / name)], check=True)
    return str(tmp_path / f"{name}.pub")


def test_keys_everywhere_and_twice_is_a_no_op(alice, snapshot):
    step = Keys(alice, user="alice")
    result = step.apply(progress=False)
    assert result.ok, result.text()
    public = step.private.with_name(step.private.name + ".pub").read_text()
    for node in alice:
        auth = node.read_file("/home/alice/.ssh/authorized_keys").decode()
        assert auth == public
        for name, mode in (("authorized_keys", 0o600), ("id_ed25519", 0o600)):
            assert node.path(f"/home/alice/.ssh/{name}").stat().st_mode & 0o777 == mode
        known = node.read_file(KNOWN_HOSTS).decode()
        assert all(f"{n},10.0.0.{i + 1} ssh-ed25519 " in known for i, n in enumerate(["pc0", "pc1", "pc2", "pc3"]))
        assert b"PasswordAuthentication no" in node.read_file(DROP_IN)
    assert step.known_hosts.read_text() == alice["pc0"].read_file(KNOWN_HOSTS).decode()
    cmds = result.outcome("pc1").would_run
    assert cmds.index("sshd -t") < len(cmds) - 1 and "reload" in cmds[-1]
    first = snapshot(alice)
    assert Keys(alice, user="alice").plan().empty
    Keys(alice, user="alice").apply(progress=False)
    assert snapshot(alice) == first


def test_private_key_never_shown(alice):
    step = Keys(alice, user="alice")
    plan = step.plan()
    secret = step.private.read_text()
    body = secret.splitlines()[1]
    for text in (plan.text(), plan._repr_html_(), step.apply(plan, progress=False).text()):
        assert body not in text and "PRIVATE KEY" not in text


def test_existing_key_is_not_duplicated(alice, tmp_path):
    path = colleague(tmp_path)
    pub = open(path).read()
    alice["pc2"].write_file("/home/alice/.ssh/authorized_keys", pub.encode())
    Keys(alice, user="alice", import_keys=(path,)).apply(progress=False)
    auth = alice["pc2"].read_file("/home/alice/.ssh/authorized_keys").decode()
    assert auth.count(pub.split()[1]) == 1 and len(auth.splitlines()) == 2


def test_import_from_file_and_pasted(alice, tmp_path):
    path = colleague(tmp_path, "carol")
    pasted = open(colleague(tmp_path, "dave")).read().strip()
    Keys(alice, user="alice", import_keys=(path, pasted)).apply(progress=False)
    auth = alice["pc0"].read_file("/home/alice/.ssh/authorized_keys").decode()
    assert "carol@laptop" in auth and "dave@laptop" in auth


def test_github_lookup_says_it_needs_the_internet():
    with pytest.raises(StepError, match="needs the internet"):
        import_key("gh:octocat")
    with pytest.raises(StepError, match="needs the internet"):
        import_key("lp:someone")


def test_password_login_stays_where_key_login_fails(alice):
    step = Keys(alice, user="alice", try_login=lambda node: node != "pc3")
    result = step.apply(progress=False)
    assert list(result.failed) == ["pc3"]
    assert "password login stays on" in result["pc3"].error
    assert alice["pc3"].read_file(DROP_IN) is None
    assert alice["pc3"].read_file("/home/alice/.ssh/authorized_keys") is not None  # phase 0 done
    assert any("50-clusterkit.conf" in s for s in result.outcome("pc3").skipped)
    for n in ("pc0", "pc1", "pc2"):
        assert alice[n].read_file(DROP_IN) is not None
    assert step.login_failed == {"pc3": "key login failed here, so password login stays on"}
