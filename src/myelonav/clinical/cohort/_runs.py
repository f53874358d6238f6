"""Row runs of sorted per-patient data: block ranges of whole patients, positions within one."""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

BLOCK = 1 << 20  # assessments per block of index arithmetic


def blocks(pid: npt.NDArray[np.generic], size: int) -> list[tuple[int, int]]:
    """Row ranges of about ``size`` rows that never split a patient (``pid`` sorted)."""
    n = len(pid)
    cuts = {0, n}
    for target in range(size, n, size):
        cuts.add(int(np.searchsorted(pid, pid[target], side="left")))
    edges = sorted(cuts)
    return [(lo, hi) for lo, hi in itertools.pairwise(edges) if hi > lo]


def positions(pid: npt.NDArray[np.uint32]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(index of each row's patient's first row, position of the row within its patient)."""
    n = len(pid)
    starts = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]]) if n else np.zeros(0, np.int64)
    lengths = np.diff(np.r_[starts, n])
    first = np.repeat(starts, lengths)
    return first, np.arange(n, dtype=np.int64) - first
