"""Results and the gathered view, with no backend at all."""

import pytest

from clusterkit.errors import ClusterError
from clusterkit.results import ClusterResult, NodeResult


def ok(node, out="same\n"):
    return NodeResult.from_exit(node, 0, out, "", 0.1)


def make():
    return ClusterResult([
        ok("pc0"), ok("pc1"), ok("pc3"),
        NodeResult.from_exit("pc2", 2, "", "boom\n", 0.2),
        NodeResult.failure("pc4", "timeout", "no answer within 3 s", 3.0),
        NodeResult.failure("pc5", "unreachable", "connection refused"),
        NodeResult.failure("pc6", "unreachable", "connection refused"),
    ], command="cmd")


def test_mapping_and_partitions():
    r = make()
    assert list(r) == ["pc0", "pc1", "pc3", "pc2", "pc4", "pc5", "pc6"]  # the order given
    assert not r.ok
    assert list(r.succeeded) == ["pc0", "pc1", "pc3"]
    assert list(r.failed) == ["pc2", "pc4", "pc5", "pc6"]
    assert str(r.failed.nodes) == "pc[2,4-6]"
    assert ClusterResult([ok("a")]).ok


def test_gathered_folds_identical_output_and_lists_failures_apart():
    groups = make().gathered()
    assert [(str(g.nodes), g.status) for g in groups] == [
        ("pc[0-1,3]", "ok"), ("pc2", "failed"), ("pc4", "timeout"), ("pc[5-6]", "unreachable")]
    text = make().text()
    assert text.count("same") == 1
    assert "pc[0-1,3] (exit 0)" in text and "pc2 (exit 2)" in text and "boom" in text
    assert text.splitlines()[-2:] == ["timeout: pc4 (no answer within 3 s)",
                                      "unreachable: pc[5-6] (connection refused)"]


def test_html_escapes_output():
    r = ClusterResult([ok("a", "<script>x</script>\n")])
    html = r._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html and "1/1 nodes ok" in html


def test_aggregate_error_shows_first_few_then_more():
    with pytest.raises(ClusterError) as info:
        make().raise_for_failures()
    msg = str(info.value)
    assert msg.splitlines()[0] == "4 of 7 nodes failed"
    assert "pc2: exit 2: boom" in msg and "… 1 more" in msg and "pc6" not in msg
    assert info.value.result["pc0"].ok  # the whole result travels with the error


def test_status_is_checked():
    with pytest.raises(ValueError):
        NodeResult(node="a", status="fine")


def test_summary_lines():
    assert ok("a").summary() == "ok"
    assert NodeResult.failure("a", "refused", "no root").summary() == "refused: no root"
