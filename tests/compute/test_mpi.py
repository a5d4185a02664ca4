"""MPI: command lines for mpiexec over SSH, and the π/ring program run for real on this machine."""

import ipyparallel as ipp
import pytest

from clusterkit.compute import mpi
from clusterkit.errors import ClusterkitError


def test_mpiexec_over_ssh_command_line():
    cmd = mpi.mpiexec_command(hosts=["pc0", "pc1", "pc2"], program=["/opt/venv/bin/python", "/shared/pi.py"],
                              per_node=2, mpiexec="/opt/venv/bin/mpiexec", ssh_config="/home/ck/.ssh config",
                              local_address="10.0.0.254")
    assert cmd.argv == ["/opt/venv/bin/mpiexec", "-launcher", "ssh", "-hosts", "pc0,pc1,pc2", "-ppn", "2",
                        "-localhost", "10.0.0.254", "-genvnone", "-n", "6", "/opt/venv/bin/python", "/shared/pi.py"]
    assert cmd.env == {"HYDRA_LAUNCHER_AUTOFORK": "0", "HYDRA_LAUNCHER_EXTRA_ARGS": "-F '/home/ck/.ssh config'"}
    assert cmd.shell().startswith("HYDRA_LAUNCHER_AUTOFORK=0 HYDRA_LAUNCHER_EXTRA_ARGS=")


def test_hydra_passes_only_the_listed_variables_and_starts_ranks_where_told():
    hydra = mpi.hydra_over_ssh(hosts=["pc0", "pc1"], wdir="/home/alice", env_list=("IPP_CONNECTION_INFO",))
    assert hydra.argv[-4:] == ["-genvlist", "IPP_CONNECTION_INFO", "-wdir", "/home/alice"]
    assert "-genvnone" not in hydra.argv


def test_mpi_engines_keep_a_variable_after_the_connection_info():
    # mpich 5.0.2's Hydra drops the last variable of its environment from -genvlist (see launch.py).
    from clusterkit.compute.launch import ENV_END, NodeMPIEngineSetLauncher
    launcher = NodeMPIEngineSetLauncher(environment={"HYDRA_LAUNCHER_AUTOFORK": "0"})
    launcher.environment["IPP_CONNECTION_INFO"] = "{}"
    env = launcher.get_env()
    assert list(env)[-1] == ENV_END and env["IPP_CONNECTION_INFO"] == "{}"


def test_every_mpmd_block_starts_where_told():
    # Hydra starts each MPMD block in mpiexec's own working directory unless the block says otherwise,
    # and this machine's directory need not exist on a node.
    from clusterkit.compute.launch import NodeMPIEngineSetLauncher
    launcher = NodeMPIEngineSetLauncher(mpi_cmd=["mpiexec"], engine_cmd=["python", "-m", "ipyparallel.engine"],
                                        node_blocks=[(1, {"CLUSTERKIT_NODE": "pc0"}, []),
                                                     (1, {"CLUSTERKIT_NODE": "pc1"}, [])], wdir="/home/alice")
    args = launcher.find_args()
    blocks = " ".join(args).split(" : ")
    assert len(blocks) == 2 and all("-n 1 -wdir /home/alice -env CLUSTERKIT_NODE" in b for b in blocks)


def test_place_program_wants_a_file_name(cluster):
    for bad in ("", "../x.py", "a/b.py"):
        with pytest.raises(ClusterkitError, match="name"):
            mpi.place_program(cluster, bad, "print(1)")
    path = mpi.place_program(cluster, "hello.py", "print(1)\n")
    assert path.endswith("/srv/shared/hello.py") and open(path).read() == "print(1)\n"


def test_mpiexec_command_checks_its_inputs():
    with pytest.raises(ClusterkitError, match="hosts"):
        mpi.mpiexec_command(hosts=[], program=["x"])
    with pytest.raises(ClusterkitError, match="per_node"):
        mpi.mpiexec_command(hosts=["a"], program=["x"], per_node=0)
    with pytest.raises(ClusterkitError, match="nodes"):
        mpi.local_command(ranks=2, program=["x"], nodes=["pc0"])


def test_pi_and_ring_run_under_local_mpiexec(tmp_path):
    prog = tmp_path / "pi_ring.py"
    prog.write_text(mpi.PI_RING)
    cmd = mpi.local_command(ranks=4, program=mpi.python_program(str(prog), "400000"),
                            nodes=["pc0", "pc1", "pc2", "pc3"])
    done = cmd.run(timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("pi 3.1") and "on 4 ranks" in lines[0]
    assert lines[1] == "ring 0 -> 1 -> 2 -> 3 -> 0"
    assert lines[2] == "ranks on pc0,pc1,pc2,pc3"


def test_mpi_engines_each_rank_on_its_node(cluster):
    @ipp.interactive
    def rank_and_sum():
        import os
        from mpi4py import MPI
        comm = MPI.COMM_WORLD
        return comm.Get_rank(), os.environ["CLUSTERKIT_NODE"], comm.allreduce(comm.Get_rank() + 1)

    with cluster.engines(mpi=True) as e:
        assert repr(e) == "<Engines(nodes=pc[0-3], backend=local, mpi engines=4 running)>"
        out = e.view().apply_sync(rank_and_sum)
        assert sorted(out) == [(0, "pc0", 10), (1, "pc1", 10), (2, "pc2", 10), (3, "pc3", 10)]
        for info in e.map.engines:
            assert f"pc{info.rank}" == info.node
