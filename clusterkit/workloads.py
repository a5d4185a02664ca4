"""Workloads to run on the engines: Monte Carlo π, primes in ranges, a distributed array.

The functions with no view in their signature run on an engine (or in this
process, for comparison); the others spread them over a view's engines. They
are numpy throughout, so an engine spends its time computing, not interpreting.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import ipyparallel as ipp
import numpy as np

#: Random points drawn per numpy call in :func:`pi_samples`: 4 MB of doubles stays in cache. With 1 000 000
#: (16 MB) two processes on this 2-core machine reached only 81 % of twice one process's rate (memory
#: bandwidth); with 250 000, 94 %, and one process was faster too. Changing it changes the points drawn.
BATCH = 250_000
#: The seed every estimate starts from unless told; a run is reproducible from it.
DEFAULT_SEED = 2024


# ------------------------------------------------------------ Monte Carlo π
def pi_samples(samples: int, seed: int = DEFAULT_SEED, stream: int = 0) -> int:
    """How many of ``samples`` random points in the unit square fall inside the quarter circle.

    The generator is seeded from ``(seed, stream)``, so share ``stream`` gives the
    same count on whichever engine runs it: a parallel run is reproducible.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, stream]))
    inside, left = 0, samples
    while left > 0:
        n = min(BATCH, left)
        xy = rng.random((2, n))
        inside += int(np.count_nonzero(xy[0] * xy[0] + xy[1] * xy[1] <= 1.0))
        left -= n
    return inside


def shares(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` whole shares that differ by at most one."""
    if parts < 1:
        raise ValueError(f"parts must be at least 1, not {parts}")
    q, r = divmod(total, parts)
    return [q + (1 if i < r else 0) for i in range(parts)]


@dataclass(frozen=True)
class PiEstimate:
    """An estimate of π: the value, how many points, on how many engines, how long it took."""

    value: float
    samples: int
    engines: int
    seconds: float

    @property
    def error(self) -> float:
        return abs(self.value - math.pi)

    @property
    def rate(self) -> float:
        """Points per second, all engines together."""
        return self.samples / self.seconds if self.seconds > 0 else float("inf")

    def __str__(self) -> str:
        return (f"π ≈ {self.value:.6f} (off by {self.error:.1e}) from {self.samples:,} points "
                f"on {self.engines} engine{'s' if self.engines != 1 else ''} in {self.seconds:.2f} s")


def estimate_pi(view, *, samples: int, seed: int = DEFAULT_SEED, timeout: float = 300.0) -> PiEstimate:
    """π from ``samples`` points, one share per engine of ``view`` (share ``i`` seeded with stream ``i``)."""
    n = len(view.targets) if view is not None else 1
    parts = shares(samples, n)
    t0 = time.perf_counter()
    if view is None:
        inside = pi_samples(samples, seed, 0)
    else:
        inside = sum(view.map_async(pi_samples, parts, [seed] * n, list(range(n))).get(timeout=timeout))
    return PiEstimate(4.0 * inside / samples, samples, n, time.perf_counter() - t0)


# ------------------------------------------------------------ primes in ranges (uneven costs)
def count_primes(lo: int, hi: int) -> int:
    """The number of primes ``p`` with ``lo <= p < hi``, by trial division over the whole range at once.

    Every odd number of the range is tried against every odd divisor up to
    √hi, with no early exit, so a task costs about ``(hi - lo) * √hi``: a range
    of large numbers costs more than one of small numbers, and a map over
    consecutive ranges has uneven, predictable costs, on purpose.
    """
    lo = max(lo, 2)
    if hi <= lo:
        return 0
    count = 1 if lo <= 2 < hi else 0
    cand = np.arange(lo | 1, hi, 2, dtype=np.int64)  # odd numbers only
    composite = cand < 2
    for d in range(3, math.isqrt(hi - 1) + 1, 2):
        composite |= (cand % d == 0) & (cand != d)
    return count + int(np.count_nonzero(~composite))


def prime_ranges(limit: int, parts: int) -> list[tuple[int, int]]:
    """``[0, limit)`` cut into ``parts`` consecutive ranges of (nearly) equal width."""
    edges = np.cumsum([0] + shares(limit, parts))
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


# ------------------------------------------------------------ a distributed array: scatter, compute, gather
def row_norms(block: np.ndarray) -> np.ndarray:
    """The Euclidean norm of every row of ``block`` (runs on each engine, on its rows)."""
    return np.sqrt(np.einsum("ij,ij->i", block, block))


def distributed_row_norms(view, data: np.ndarray, *, name: str = "ck_rows") -> np.ndarray:
    """Row norms of ``data`` computed where its rows are: scatter the rows, compute, gather the norms.

    ``view.scatter`` sends each engine a contiguous block of rows under ``name``;
    each engine computes the norms of its own block; ``view.gather`` puts the
    pieces back in order. The result equals ``row_norms(data)`` on one process.
    """
    view.scatter(name, data, block=True)
    try:
        view.apply_sync(_store, f"{name}_norms", row_norms, ipp.Reference(name))
        return np.asarray(view.gather(f"{name}_norms", block=True))
    finally:
        view.apply_sync(_forget, [name, f"{name}_norms"])


@ipp.interactive
def _store(key: str, fn, value) -> None:
    """On an engine: keep ``fn(value)`` in its namespace under ``key`` (``interactive``: the engine's globals)."""
    globals()[key] = fn(value)


@ipp.interactive
def _forget(keys: list[str]) -> None:
    for key in keys:
        globals().pop(key, None)


def noop() -> None:
    """Does nothing: a round trip to an engine measures only the machinery."""
    return None


__all__ = ["pi_samples", "shares", "PiEstimate", "estimate_pi", "count_primes", "prime_ranges",
           "row_norms", "distributed_row_norms", "noop", "DEFAULT_SEED"]
