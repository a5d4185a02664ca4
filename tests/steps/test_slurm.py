"""Slurm's step without a network: rendering, the checks of slurm.conf, bad input, the Munge key, the jobs table.

The cluster is the local backend's sandboxes (fresh images), brought to where notebooks 01-02 leave
them: one person with one UID, every node named.
"""

from __future__ import annotations

import shutil

import pytest

from clusterkit.compute import slurm
from clusterkit.dashboard.jobs import WAITING, JobsTable
from clusterkit.steps import Network, Slurm, StepError, Users, rescue_key
from clusterkit.steps.slurmconf import (CONF, KEY, KEY_BYTES, Hardware, check_partitions, own_checks,
                                        parse_slurmd_c, parse_with_slurm, slurm_conf)

HW = Hardware(cpus=4, memory=3794)


@pytest.fixture
def named(fresh):
    """Notebooks 01-02 on the sandboxes: alice with UID 1000 everywhere, every node named."""
    assert Users(fresh, name="alice", uid=1000, root_key=rescue_key(fresh)).apply(progress=False).ok
    assert Network(fresh).apply(progress=False).ok
    return fresh


def render(**kw):
    args = dict(cluster_name="pc", controller="pc0", controller_address="10.0.0.1",
                nodes={f"pc{i}": (f"10.0.0.{i + 1}", HW) for i in range(4)}, partitions={"main": ["pc0", "pc1",
                                                                                                  "pc2", "pc3"]},
                cgroups=True)
    args.update(kw)
    return slurm_conf(**args)


# ------------------------------------------------------------ rendering
def test_slurmd_c_gives_cpus_and_memory():
    hw = parse_slurmd_c("NodeName=pc1 CPUs=4 Boards=1 SocketsPerBoard=1 CoresPerSocket=4 ThreadsPerCore=1 "
                        "RealMemory=3794", node="pc1")
    assert (hw.cpus, hw.memory) == (4, 3794)
    with pytest.raises(StepError) as e:
        parse_slurmd_c("slurmd: error: something", node="pc1")
    assert e.value.node == "pc1" and e.value.field == "slurmd -C"


def test_conf_has_every_node_with_what_it_reported_and_the_partition():
    text = render(nodes={"pc0": ("10.0.0.1", Hardware(4, 3794)), "pc1": ("10.0.0.2", Hardware(2, 1800))})
    assert "SlurmctldHost=pc0(10.0.0.1)\n" in text
    assert "NodeName=pc0 NodeAddr=10.0.0.1 CPUs=4 RealMemory=3794 State=UNKNOWN\n" in text
    assert "NodeName=pc1 NodeAddr=10.0.0.2 CPUs=2 RealMemory=1800 State=UNKNOWN\n" in text
    assert "PartitionName=main Nodes=pc[0-3] Default=YES MaxTime=INFINITE State=UP\n" in text
    assert own_checks(render()) == []


def test_boards_confine_jobs_with_cgroups_and_nodes_without_them_track_by_pid():
    assert "ProctrackType=proctrack/cgroup\nTaskPlugin=task/cgroup,task/affinity\n" in render(cgroups=True)
    assert "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n" in render(cgroups=False)


def test_own_checks_catch_what_slurms_parse_lets_through():
    bad = render().replace("Nodes=pc[0-3]", "Nodes=pc[0-4]")
    assert any("pc4" in p and "no NodeName" in p for p in own_checks(bad))
    assert any("CR_Cor " in p + " " for p in own_checks(render().replace("=CR_Core\n", "=CR_Cor\n")))
    plugins = {"auth_munge", "cred_munge", "proctrack_linuxproc", "task_none", "mpi_pmi2", "sched_backfill",
               "select_cons_tres", "accounting_storage_none", "jobacct_gather_none"}
    assert own_checks(render(cgroups=False), plugins=plugins) == []
    missing = own_checks(render(cgroups=True), plugins=plugins)
    assert any("proctrack/cgroup is not installed" in p for p in missing)


@pytest.mark.skipif(shutil.which("scontrol") is None, reason="needs Slurm's scontrol on this machine")
def test_slurms_own_parse_rejects_an_unknown_key_and_a_bad_number(local_cluster):
    node = local_cluster["pc0"]
    assert parse_with_slurm(render(), node=node, nodes="pc[0-3]") == "scontrol on this machine"
    with pytest.raises(StepError) as e:
        parse_with_slurm(render().replace("ClusterName", "ClustrName"), node=node, nodes="pc0")
    assert "ClustrName" in e.value.message and e.value.field == CONF
    with pytest.raises(StepError) as e:
        parse_with_slurm(render().replace("CPUs=4", "CPUs=four"), node=node, nodes="pc0")
    assert "four" in e.value.message


# ------------------------------------------------------------ bad input, before any node is touched
@pytest.mark.parametrize("partitions, field, node", [
    ({"main": "pc[0-4]"}, "partitions['main']", "pc4"),
    ({"main": "pc0", "big": "pc[1-9]"}, "partitions['big']", "pc4"),
    ({"main": "pc[0-"}, "partitions['main']", "pc[0-3]"),
    ({"all": "pc[0-3]"}, "partitions", "pc[0-3]"),
    ({"main node": "pc1"}, "partitions", "pc[0-3]"),
    ({}, "partitions", "pc[0-3]"),
])
def test_a_partition_naming_a_node_that_does_not_exist_is_refused(named, snapshot, partitions, field, node):
    before = snapshot(named)
    with pytest.raises(StepError) as e:
        Slurm(named, partitions=partitions).apply(progress=False)
    assert (e.value.field, e.value.node) == (field, node), str(e.value)
    assert snapshot(named) == before


def test_a_partition_of_the_primary_that_does_not_compute_is_refused(named):
    with pytest.raises(StepError) as e:
        Slurm(named, compute_on_primary=False, partitions={"main": "pc[0-3]"}).plan()
    assert (e.value.field, e.value.node) == ("partitions['main']", "pc0") and "runs no slurmd" in e.value.message


def test_a_person_whose_uid_differs_is_refused_naming_the_node(fresh, snapshot):
    assert Network(fresh).apply(progress=False).ok      # names, but pi keeps UID 1001 on pc1 (no notebook 01)
    before = snapshot(fresh)
    with pytest.raises(StepError) as e:
        Slurm(fresh).apply(progress=False)
    assert (e.value.field, e.value.node) == ("uid", "pc1") and "1001" in e.value.message
    assert snapshot(fresh) == before


def test_a_person_missing_on_one_node_is_refused(named):
    node = named["pc2"]
    node.write_file("/etc/passwd", node.read_file("/etc/passwd") + b"bob:x:1001:1001::/home/bob:/bin/bash\n")
    with pytest.raises(StepError) as e:
        Slurm(named).plan()
    assert (e.value.field, e.value.node) == ("uid", "pc0") and "'bob'" in e.value.message


def test_a_slurm_account_with_another_uid_is_refused(named):
    for n, uid in (("pc0", 64030), ("pc3", 64031)):
        node = named[n]
        node.write_file("/etc/passwd", node.read_file("/etc/passwd") + f"slurm:x:{uid}:{uid}::/nonexistent:"
                        "/usr/sbin/nologin\n".encode())
    with pytest.raises(StepError) as e:
        Slurm(named).plan()
    assert (e.value.field, e.value.node) == ("slurm account", "pc3")


def test_an_unnamed_node_is_refused(fresh):
    assert Users(fresh, name="alice", uid=1000, root_key=rescue_key(fresh)).apply(progress=False).ok
    with pytest.raises(StepError) as e:
        Slurm(fresh).plan()
    assert (e.value.field, e.value.node) == ("hostname", "pc0") and "raspberrypi" in e.value.message


@pytest.mark.parametrize("kw, field", [({"slurmd_timeout": 1}, "slurmd_timeout"),
                                       ({"slurmd_timeout": "30"}, "slurmd_timeout"),
                                       ({"compute_on_primary": "yes"}, "compute_on_primary"),
                                       ({"nodes": "pc[1-3]"}, "nodes")])
def test_bad_arguments_name_their_field(named, kw, field):
    with pytest.raises(StepError) as e:
        Slurm(named, **kw).plan()
    assert e.value.field == field


# ------------------------------------------------------------ the Munge key and the files
def test_one_munge_key_on_every_node_never_shown(named):
    step = Slurm(named)
    plan = step.plan()
    result = step.apply(plan, progress=False)
    assert result.ok, result.text()
    keys = {n.name: n.read_file(KEY) for n in named}
    key = keys["pc0"]
    assert len(key) == KEY_BYTES and set(keys.values()) == {key}
    assert {oct(n.path(KEY).stat().st_mode & 0o777) for n in named} == {"0o400"}
    shown = plan.text() + plan._repr_html_() + result.text() + result._repr_html_() + repr(plan) + repr(result)
    for text in (shown, str([a for p in plan.nodes.values() for a in p.actions])):
        assert key.hex() not in text and key.decode("latin-1") not in text
    assert "secret content, not shown" in plan.text()
    assert any("chown munge:munge" in c for c in result.would_run["pc1"])
    again = Slurm(named).plan()
    assert again.empty, again.text()
    assert len({n.read_file(CONF) for n in named}) == 1


def test_the_primarys_key_is_kept_and_a_workers_other_key_replaced(named):
    primary_key = bytes(range(64))
    named["pc0"].write_file(KEY, primary_key, mode=0o400)
    named["pc2"].write_file(KEY, b"x" * 64, mode=0o400)
    plan = Slurm(named).plan()
    assert plan["pc0"].file(KEY) is None
    assert plan["pc2"].file(KEY).secret and plan["pc2"].file(KEY).kind == "change"
    assert Slurm(named).apply(plan, progress=False).ok
    assert {n.read_file(KEY) for n in named} == {primary_key}
    assert named["pc2"].read_file(KEY + ".clusterkit.bak") == b"x" * 64


def test_local_backend_lists_what_a_board_would_run(named):
    result = Slurm(named).apply(progress=False)
    pc0 = result.would_run["pc0"]
    assert any(c.startswith("DEBIAN_FRONTEND=noninteractive apt-get install -y munge slurmd slurm-client slurmctld")
               for c in pc0)
    assert any("systemctl restart slurmctld" in c for c in pc0)
    assert not any("slurmctld" in c for c in result.would_run["pc1"])
    text = named["pc0"].read_file(CONF).decode()
    assert "ProctrackType=proctrack/cgroup" in text and "PartitionName=main Nodes=pc[0-3] Default=YES" in text


def test_check_partitions_folds_and_expands():
    got = check_partitions({"main": "pc[0-3]", "small": ["pc1", "pc2"]}, nodes=["pc0", "pc1", "pc2", "pc3"],
                           all_nodes=["pc0", "pc1", "pc2", "pc3"], where="pc[0-3]")
    assert got == {"main": ["pc0", "pc1", "pc2", "pc3"], "small": ["pc1", "pc2"]}


# ------------------------------------------------------------ the queue and the jobs table
SQUEUE = ("14_1|squares|alice|RUNNING|0:02|pc0|None\n14_2|squares|alice|RUNNING|0:02|pc0|None\n"
          "15|mpi|bob|RUNNING|0:10|pc[1-2]|None\n14_[9-10]|squares|alice|PENDING|0:00||Resources\n")


def test_squeue_lines_become_rows():
    rows = slurm.parse_queue(SQUEUE + "garbage line\n")
    assert [r.job for r in rows] == ["14_1", "14_2", "15", "14_[9-10]"]
    assert rows[2].nodes == ["pc1", "pc2"] and rows[3].nodes == [] and rows[3].reason == "Resources"
    assert rows[0].reason == ""


def test_jobs_table_shows_which_job_runs_on_which_node_and_sends_nothing_unchanged():
    table = JobsTable(["pc0", "pc1", "pc2", "pc3"])
    rows = slurm.parse_queue(SQUEUE)
    assert table.update(rows) is True
    on = table.running_on()
    assert on["pc0"] == "14_1 squares (alice), 14_2 squares (alice)"
    assert on["pc1"] == on["pc2"] == "15 mpi (bob)" and on["pc3"] == "—"
    assert on[WAITING] == "14_[9-10] squares (alice)"
    assert dict(table.source.data)["state"][-1] == "pending: Resources"
    assert table.update(rows) is False
    assert table.update([]) is True and WAITING not in table.running_on()


def test_local_backend_runs_no_slurm_and_says_so(named):
    r = slurm.run(named, "sinfo")["pc0"]
    assert r.status == "refused" and "no Slurm" in r.error
    assert slurm.queue(named) == []
    job = slurm.sbatch(named, slurm.SQUARES, name="squares.sh")
    assert job.id is None and job.wait() == {} and "not submitted" in repr(job)
    assert named["pc0"].read_file("/srv/shared/squares.sh") == slurm.SQUARES.encode()
    assert slurm.nodes(named) == []          # no slurm.conf rendered yet
    Slurm(named).apply(progress=False)
    assert [n.name for n in slurm.nodes(named)] == ["pc0", "pc1", "pc2", "pc3"]
