"""Workloads compute the right answers, in parallel and on one process alike."""

import math

import numpy as np
import ipyparallel as ipp
import pytest

from clusterkit import workloads
from clusterkit.compute.scaling import Scaling, measure_scaling


def sieve_count(n):
    s = np.ones(n, dtype=bool)
    s[:2] = False
    for i in range(2, math.isqrt(n - 1) + 1):
        if s[i]:
            s[i * i::i] = False
    return int(s.sum())


def test_count_primes_is_exact():
    assert [workloads.count_primes(0, n) for n in (0, 2, 3, 4, 10, 100)] == [0, 0, 1, 2, 4, 25]
    assert workloads.count_primes(0, 1_000_000) == 78498
    for parts in (1, 7, 16):
        assert sum(workloads.count_primes(a, b) for a, b in workloads.prime_ranges(100_003, parts)) \
            == sieve_count(100_003)
    assert workloads.count_primes(97, 98) == 1 and workloads.count_primes(91, 97) == 0


def test_prime_ranges_and_shares_cover_everything():
    r = workloads.prime_ranges(10, 3)
    assert r == [(0, 4), (4, 7), (7, 10)]
    assert workloads.shares(10, 4) == [3, 3, 2, 2]
    with pytest.raises(ValueError):
        workloads.shares(10, 0)


def test_pi_samples_is_reproducible_per_stream():
    a = workloads.pi_samples(200_000, 7, 3)
    assert a == workloads.pi_samples(200_000, 7, 3)
    assert a != workloads.pi_samples(200_000, 7, 4)
    assert abs(4 * a / 200_000 - math.pi) < 0.02


def test_pi_on_the_engines_is_close_and_reproducible(engines):
    est = workloads.estimate_pi(engines.view(), samples=4_000_000)
    assert est.engines == 4 and abs(est.value - math.pi) < 0.005
    again = workloads.estimate_pi(engines.view(), samples=4_000_000)
    assert again.value == est.value  # same seeds, same shares: the same points
    expected = 4 * sum(workloads.pi_samples(n, workloads.DEFAULT_SEED, i)
                       for i, n in enumerate(workloads.shares(4_000_000, 4))) / 4_000_000
    assert est.value == expected


def test_primes_on_the_engines_both_ways(engines):
    ranges = workloads.prime_ranges(300_000, 12)
    for balanced in (False, True):
        report = engines.submit(workloads.count_primes, ranges, balanced=balanced).report(timeout=60)
        assert report.ok and sum(report.results) == sieve_count(300_000)
        assert sum(report.by_node.values()) == 12
    direct = engines.submit(workloads.count_primes, ranges, balanced=False).report(timeout=60)
    assert direct.by_node == {"pc0": 3, "pc1": 3, "pc2": 3, "pc3": 3}  # shares fixed up front


def test_scatter_gather_equals_one_process(engines):
    data = np.random.default_rng(5).random((1001, 37))
    norms = workloads.distributed_row_norms(engines.view(), data)
    assert norms.shape == (1001,)
    np.testing.assert_allclose(norms, np.linalg.norm(data, axis=1), rtol=1e-12)
    assert engines.view().apply_sync(ipp.interactive(lambda: [k for k in globals() if k.startswith("ck_")])) == [[]] * 4


def test_scaling_arithmetic_and_chart():
    s = Scaling(engines=(1, 2, 4), seconds=(4.0, 2.5, 2.0), label="π", cores=2)
    assert s.speedup == (1.0, 1.6, 2.0)
    assert s.efficiency == (1.0, 0.8, 0.5)
    assert "80%" in s.text()
    fig = s.figure()
    assert fig.select_one({"name": "ck-speedup-data"}).data["speedup"] == [1.0, 1.6, 2.0]


def test_measure_scaling_on_the_engines(engines):
    s = measure_scaling(engines, lambda v: workloads.estimate_pi(v, samples=200_000), counts=[1, 2], repeat=1)
    assert s.engines == (1, 2) and all(t > 0 for t in s.seconds)
    with pytest.raises(Exception, match="counts"):
        measure_scaling(engines, lambda v: None, counts=[9])
