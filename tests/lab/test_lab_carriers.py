"""Two labs as two carriers joined into one cluster; the link between them cut and restored."""

import clusterkit
import clusterkit.lab
from clusterkit import workbook, workloads
from clusterkit.cli import main as cli
from clusterkit.compute import identity
from clusterkit.dashboard import Dashboard
from clusterkit.lab import LABS_DIR, link, net
import waiting
from labnames import LAB_MARKS, lab_name, running_lab

pytestmark = LAB_MARKS
NEAR, FAR = lab_name("tcara"), lab_name("tcarb")


def wait_for(predicate, timeout, what):
    """``waiting.wait_for``, where ``predicate`` raising counts as not yet (an engine or a node not back yet)."""
    def look():
        try:
            return predicate()
        except Exception:
            return False
    return waiting.wait_for(look, timeout, what, interval=0.5)


def answering(engines, timeout=10.0) -> set[str]:
    """The nodes whose engines compute now (each registered engine asked; one that hangs counts as no answer)."""
    found = set()
    for eid in engines.client.ids:
        try:
            found.add(engines.client[eid].apply_async(identity).get(timeout=timeout)["node"])
        except Exception:
            pass
    return found


def carrier_up(dash, name) -> bool:
    return f'data-carrier="{name}" data-up="1"' in dash.carriers.source.value


def test_two_labs_joined_cut_apart_and_joined_again(tmp_path):
    with running_lab(NEAR, 2, tmp_path / "near") as near_lab, running_lab(FAR, 2, tmp_path / "far") as far_lab:
        with near_lab.connect() as c:
            workbook.reapply(c, "01_users", "02_network", "03_keys").save_inventory()
        with far_lab.connect() as c:
            workbook.reapply(c, "01_users", "02_network", "03_keys").save_inventory()
        assert cli(["lab", "join", NEAR, FAR]) == 0                      # one command joins them
        near, far = link.records(NEAR, FAR, LABS_DIR)
        with clusterkit.connect(LABS_DIR / NEAR / f"joined-{FAR}.yaml") as joined:
            a_nodes, b_nodes = joined.groups[NEAR], joined.groups[FAR]
            assert len(a_nodes) == len(b_nodes) == 2 and joined.inventory.primary == f"{NEAR}0"
            assert joined.run("hostname", timeout=30).ok                  # run spans both carriers
            with joined.engines(per_node=1) as engines:
                ranges = workloads.prime_ranges(100_000, 8)
                counts = engines.view().map_sync(workloads.count_primes, *zip(*ranges))
                assert sum(counts) == 9592                                  # a map over engines on both
                assert {e.node for e in engines.map.engines} == set(a_nodes + b_nodes)
                watch = joined.watch(engines=engines, interval=1.0)
                dash = Dashboard(joined, power=False)
                try:
                    wait_for(lambda: carrier_up(dash, NEAR) and carrier_up(dash, FAR), 60, "both carriers up")

                    link.cut(near, far)
                    assert not link.is_up(near, far)
                    # This side keeps computing: its engines and its nodes.
                    assert sum(engines.view(nodes=a_nodes).map_sync(workloads.count_primes, *zip(*ranges))) == 9592
                    result = joined.run("hostname", timeout=5)
                    assert all(result[n].ok for n in a_nodes) and not any(result[n].ok for n in b_nodes)
                    # The far side keeps computing alone: each node computes, and its primary reaches its worker.
                    for n in b_nodes:
                        assert far_lab.exec(n, "python3 -c 'print(sum(i * i for i in range(10**5)))'"
                                            ).stdout.strip() == str(sum(i * i for i in range(10**5)))
                    worker = far_lab.boards[b_nodes[1]].host
                    reach = far_lab.exec(b_nodes[0], f"python3 -c \"import socket; "
                                                     f"socket.create_connection(('{worker}', 22), 3); print('ok')\"")
                    assert reach.stdout.strip() == "ok", reach.stderr
                    # The dashboard says which carrier is unreachable.
                    wait_for(lambda: f'data-carrier="{FAR}" data-up="0"' in dash.carriers.source.value, 30,
                             "the far carrier shown unreachable")
                    assert "unreachable" in dash.carriers.source.value and carrier_up(dash, NEAR)
                    assert joined.reachable() == {NEAR: True, FAR: False}
                    # A long cut: the controller gives the far carrier's engines up (they stop, missing it).
                    far_ids = [e.id for e in engines.map.engines if e.node in b_nodes]
                    wait_for(lambda: not set(far_ids) & set(engines.client.ids), 120, "the far engines given up")

                    link.restore(near, far)
                    # They join again: the watch starts the far carrier's engines again, and they compute.
                    wait_for(lambda: set(b_nodes) <= answering(engines), 150, "the far carrier's engines")
                    assert [carrier for carrier, _ in watch.rejoined] == [FAR]
                    assert sorted(watch.rejoined[0][1]) == sorted(b_nodes)
                    counts = engines.view().map_sync(workloads.count_primes, *zip(*ranges))
                    assert sum(counts) == 9592 and {e.node for e in engines.map.engines} == set(a_nodes + b_nodes)
                    wait_for(lambda: carrier_up(dash, FAR), 60, "the far carrier shown up again")
                    assert joined.run("hostname", timeout=30).ok
                finally:
                    watch.stop()
                    dash.close()
        # lab down of the near lab removes the link and gives the far lab its address back
        clusterkit.lab.down(name=NEAR)
        assert not [l for l in net.existing_links() if l.startswith((f"ck{NEAR}-j", f"ck{FAR}-j"))]
        far_lab_uplink = net.ip("-4", "-o", "addr", "show", f"ck{FAR}-u").stdout
        assert far.uplink.rsplit(".", 1)[0] + ".2/" in far_lab_uplink
