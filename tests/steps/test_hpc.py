"""HPC Carpentry's needs without a network: shared homes beside the shared folder, accounting's files, modules,
and the lesson's site configuration (bad input names the field and the node)."""

from __future__ import annotations

import stat

import pytest
import yaml

from clusterkit import steps
from clusterkit.compute import hpcintro, lesson
from clusterkit.errors import ClusterkitError
from clusterkit.lab.nfsserver import ganesha_conf
from clusterkit.steps import Network, Nfs, SharedHomes, Slurm, StepError, Users, rescue_key
from clusterkit.steps.nfsconf import FSTAB_MARK, HOMES_MARK, exports_text, fstab_text
from clusterkit.backends.platform import managed_exports
from clusterkit.steps.slurmconf import DBD_CONF, dbd_password, grant_sql, slurmdbd_conf
from clusterkit.steps.modules import Modules, amdahl_module, python_module


@pytest.fixture
def named(fresh):
    """Notebooks 01-02 on the sandboxes: alice with UID 1000 everywhere, every node named."""
    assert Users(fresh, name="alice", uid=1000, root_key=rescue_key(fresh)).apply(progress=False).ok
    assert Network(fresh).apply(progress=False).ok
    return fresh


# ------------------------------------------------------------ two shares side by side
def test_two_exports_keep_their_blocks_and_order():
    shared = exports_text("", export="/srv/shared", clients="10.0.0.0/24", options=("rw",))
    both = exports_text(shared, export="/home", clients="10.0.0.0/24", options=("rw", "root_squash"),
                        markers=("# BEGIN clusterkit nfs-homes", "# END clusterkit nfs-homes"),
                        what="the learners' home folders")
    again = exports_text(both, export="/srv/shared", clients="10.0.0.0/24", options=("rw",))
    assert again == both, "re-rendering one block leaves the other where it was"
    assert [p for p, _, _ in managed_exports(both)] == ["/srv/shared", "/home"]
    conf = ganesha_conf(both)
    assert conf.count("EXPORT {") == 2 and "Path = /home;" in conf and "Export_Id = 2;" in conf


def test_an_export_another_step_owns_is_named():
    shared = exports_text("", export="/home", clients="10.0.0.0/24", options=("rw",))
    with pytest.raises(StepError) as e:
        exports_text(shared, export="/home", clients="10.0.0.0/24", options=("rw",),
                     markers=("# BEGIN clusterkit nfs-homes", "# END clusterkit nfs-homes"))
    assert e.value.field == "export" and "another clusterkit step" in e.value.message


def test_fstab_lines_of_two_shares_do_not_replace_each_other():
    line1 = "pc0:/srv/shared /srv/shared nfs4 rw,nofail 0 0"
    line2 = "pc0:/home /home nfs4 rw,nofail 0 0"
    one = fstab_text("proc /proc proc defaults 0 0\n", line=line1, mount="/srv/shared", node="pc1")
    two = fstab_text(one, line=line2, mount="/home", node="pc1", mark=HOMES_MARK)
    assert two.splitlines()[-4:] == [FSTAB_MARK, line1, HOMES_MARK, line2]
    assert fstab_text(two, line=line1, mount="/srv/shared", node="pc1") == two
    assert fstab_text(two, line=line2, mount="/home", node="pc1", mark=HOMES_MARK) == two


def test_a_home_partition_in_fstab_refuses_the_shared_homes():
    with pytest.raises(StepError) as e:
        fstab_text("/dev/sda2 /home ext4 defaults 0 2\n", line="pc0:/home /home nfs4 rw 0 0", mount="/home",
                   node="pc2", mark=HOMES_MARK)
    assert (e.value.node, e.value.field) == ("pc2", "mount")


def test_shared_homes_on_sandboxes_then_nothing_left(named, snapshot):
    assert Nfs(named, owner="alice").apply(progress=False).ok
    step = SharedHomes(named)
    plan = step.plan()
    exports = plan["pc0"].file("/etc/exports").new.decode()
    assert "/srv/shared 10.0.0.0/24(" in exports and "/home 10.0.0.0/24(rw,sync,no_subtree_check,root_squash)" in exports
    for w in ("pc1", "pc2", "pc3"):
        lines = plan[w].file("/etc/fstab").new.decode().splitlines()
        assert "pc0:/srv/shared /srv/shared nfs4" in "\n".join(lines)
        assert lines[-2] == HOMES_MARK and lines[-1].startswith("pc0:/home /home nfs4 ")
        assert "nofail" in lines[-1]
    assert step.apply(plan, progress=False).ok
    after = snapshot(named)
    assert SharedHomes(named).plan().empty and Nfs(named, owner="alice").plan().empty
    assert snapshot(named) == after


def test_homes_compare_files_and_refuse_a_loss(named, monkeypatch):
    step = SharedHomes(named)
    step.validate()
    base = {"passwd": "", "marker": "", "runtime": set()}
    same = ("1000", "1000", "644", "a" * 64, "5")
    states = {"pc0": dict(base, files={"./alice/.bashrc": same}),
              "pc1": dict(base, files={"./alice/.bashrc": same, "./alice/notes.txt": ("1000", "1000", "600", "b" * 64, "3")}),
              "pc2": dict(base, files={}), "pc3": dict(base, files={})}
    step.check(states)
    assert step.moves == {"pc1": [("./alice/notes.txt", "1000", "1000", "600")]}
    states["pc2"] = dict(base, files={"./alice/.bashrc": ("1000", "1000", "644", "c" * 64, "9")})
    with pytest.raises(StepError) as e:
        step.check(states)
    assert (e.value.node, e.value.field) == ("pc2", "home") and "/home/alice/.bashrc" in e.value.message
    states["pc2"] = dict(base, files={"./alice/notes.txt": ("1000", "1000", "600", "d" * 64, "3")})
    with pytest.raises(StepError) as e:
        step.check(states)
    assert e.value.node == "pc2" and "pc1's copy" in e.value.message


# ------------------------------------------------------------ accounting
def test_slurmdbd_conf_holds_the_password_and_is_read_back():
    text = slurmdbd_conf(host="pc0", password="x" * 32)
    assert "StoragePass=" + "x" * 32 in text and "DbdHost=pc0" in text
    assert dbd_password(text) == "x" * 32 and dbd_password(None) is None
    assert "'" + "x" * 32 + "'" in grant_sql("x" * 32)
    with pytest.raises(StepError) as e:
        slurmdbd_conf(host="pc0", password="short'; DROP")
    assert (e.value.node, e.value.field) == ("pc0", "StoragePass")


def test_accounting_plan_keeps_the_password_secret(named):
    plan = Slurm(named, accounting=True).plan()
    primary = plan["pc0"]
    dbd = primary.file(DBD_CONF)
    assert dbd.secret and dbd.mode == 0o600
    password = dbd_password(dbd.new.decode())
    assert password and password not in plan.text() and password not in plan._repr_html_()
    grant = next(a for a in primary.actions if getattr(a, "command", "") == "mariadb -u root")
    assert password in grant.stdin and password not in grant.command
    conf = primary.file("/etc/slurm/slurm.conf").new.decode()
    assert "AccountingStorageType=accounting_storage/slurmdbd" in conf and "JobAcctGatherType=jobacct_gather/linux" in conf
    assert plan["pc1"].file("/etc/slurm/slurm.conf").new.decode() == conf
    assert all(plan[w].file(DBD_CONF) is None for w in ("pc1", "pc2", "pc3"))
    assert "AccountingStorageType=accounting_storage/none" in Slurm(named).plan()["pc1"].file(
        "/etc/slurm/slurm.conf").new.decode()


def test_accounting_must_be_a_bool(named):
    with pytest.raises(StepError) as e:
        Slurm(named, accounting="yes").plan()
    assert (e.value.node, e.value.field) == ("pc0", "accounting")


def test_accounting_applied_keeps_its_password(named):
    first = Slurm(named, accounting=True)
    assert first.apply(progress=False).ok
    assert Slurm(named, accounting=True).plan().empty, "a second plan keeps the generated password"
    node = named["pc0"]
    path = node.root / DBD_CONF.lstrip("/")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# ------------------------------------------------------------ modules
def test_modulefiles_put_the_clusters_python_first():
    text = python_module(python="/opt/venv/bin/python", version="3.11.2", numpy="2.0", mpi4py="4.1")
    assert 'prepend_path("PATH", "/opt/venv/bin")' in text and 'whatis("Version: 3.11.2")' in text
    amd = amdahl_module(prefix="/srv/shared/software/amdahl/0.4.1", version="0.4.1", python_module="Python/3.11.2")
    assert 'depends_on("Python/3.11.2")' in amd and '/srv/shared/software/amdahl/0.4.1/bin' in amd


def test_modules_without_a_wheel_say_how_to_get_one(named, tmp_path):
    with pytest.raises(StepError) as e:
        Modules(named, wheel=str(tmp_path / "amdahl-0.4.1-py3-none-any.whl")).plan()
    assert e.value.field == "wheel" and "scripts/setup.sh" in e.value.message
    bad = tmp_path / "numpy-2.0-py3-none-any.whl"
    bad.write_bytes(b"PK")
    with pytest.raises(StepError) as e:
        Modules(named, wheel=str(bad)).plan()
    assert e.value.field == "wheel" and "not an amdahl wheel" in e.value.message


# ------------------------------------------------------------ the lesson's site configuration
HW = {f"pc{i}": hpcintro.NodeHardware(4, 3794) for i in range(4)}


def test_site_config_is_the_lessons_format(fresh):
    files = hpcintro.site_files(fresh.inventory, hardware=HW, user="alice")
    config = yaml.safe_load(files["_config_options.yml"])
    assert config["snippets"] == "clusterkit_pc_slurm"
    assert config["remote"]["host"] == "pc0" and config["remote"]["node"] == "pc1"
    assert config["remote"]["prompt"] == "[alice@pc0 ~]$" and config["remote"]["fs"]["home"] == "/home"
    assert config["sched"]["name"] == "Slurm" and config["sched"]["hist"] == "sacct -u alice"
    assert config["sched"]["flag"]["user"] == "-u alice" and config["sched"]["comment"] == "#SBATCH"
    assert config["episode_order"][3] == "13-scheduler"
    assert "pc1 4 3794" in files["snippets/cluster/specific-node-info.Rmd"]
    assert "pc[0-3]" in files["snippets/cluster/queue-info.Rmd"]


@pytest.mark.parametrize("kwargs, field, node", [
    ({"hardware": {"pc1": hpcintro.NodeHardware(0, 512)}}, "cpus", "pc1"),
    ({"hardware": {"pc2": hpcintro.NodeHardware(2, -1)}}, "memory", "pc2"),
    ({"hardware": {"pc9": hpcintro.NodeHardware(2, 512)}}, "hardware", "pc9"),
    ({"user": "Alice Smith"}, "user", None),
    ({"site": "my site"}, "site", None),
    ({"partition": "2fast"}, "partition", None),
    ({"arch": "sparc"}, "arch", None),
])
def test_bad_site_input_names_the_field_and_node(fresh, kwargs, field, node):
    args = {"hardware": HW, "user": "alice", **kwargs}
    with pytest.raises(ClusterkitError) as e:
        hpcintro.site_files(fresh.inventory, **args)
    assert e.value.field == field and e.value.node == node


def test_hardware_is_read_from_slurm_conf():
    hw = hpcintro.hardware_from_slurm_conf("NodeName=pc[0-1] NodeAddr=x CPUs=4 RealMemory=3794 State=UNKNOWN\n"
                                           "# NodeName=pc9 CPUs=1\nPartitionName=main Nodes=pc[0-1]\n")
    assert hw == {"pc0": hpcintro.NodeHardware(4, 3794), "pc1": hpcintro.NodeHardware(4, 3794)}


def test_cli_writes_the_site_folder(fresh, tmp_path, capsys):
    from clusterkit.cli import main
    rc = main(["hpc-intro-config", "--cpus", "4", "--memory", "3794", "-o", str(tmp_path / "site")])
    assert rc == 0
    assert (tmp_path / "site" / "_config_options.yml").is_file()
    assert "HPC_CARPENTRY_CUSTOMIZATION" in capsys.readouterr().out
    assert main(["hpc-intro-config", "--cpus", "4"]) == 2


# ------------------------------------------------------------ the lesson on the local backend
def test_lesson_commands_are_refused_on_the_local_backend(named):
    r = next(iter(lesson.shell(named, "squeue -u alice").values()))
    assert r.status == "refused" and "local backend" in r.error
    assert lesson.submit(named, "example-job.sh", lesson.HELLO) == lesson.NOT_SUBMITTED
    assert lesson.wait(named, lesson.NOT_SUBMITTED) == lesson.NO_JOB


def test_amdahls_law():
    assert lesson.predicted(1, 0.8) == pytest.approx(1.0)
    assert lesson.predicted(4, 0.8) == pytest.approx(2.5)
    with pytest.raises(ClusterkitError) as e:
        lesson.amdahl_table(None, tasks=(0,))
    assert e.value.field == "tasks"


def test_amdahl_table_on_the_local_backend_runs_on_this_machine(named):
    from clusterkit.steps.modules import cached_wheel
    if cached_wheel() is None:
        pytest.fail("no amdahl wheel cached: scripts/setup.sh caches it")
    table = lesson.amdahl_table(named, tasks=(1, 2), work=1)
    assert [r.tasks for r in table.runs] == [1, 2] and "local backend" in table.where
    assert table.runs[1].seconds < table.runs[0].seconds
    assert "Amdahl" in table.text() and "<table>" in table._repr_html_()
