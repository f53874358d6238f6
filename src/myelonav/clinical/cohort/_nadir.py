"""Prior nadirs: per assessment, the lowest of the baseline and the patient's earlier values."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from myelonav.clinical.cohort import _runs as runs
from myelonav.clinical.cohort._codes import P_MARROW, P_NONE


def prior_nadirs(rows: pl.DataFrame, pos: npt.NDArray[np.int64]) -> pl.DataFrame:
    """For each row, the lowest of its patient's baseline and earlier rows, per measure.

    A segmented running minimum by doubling (Hillis-Steele): start from "the row before"
    (the baseline for a patient's first row), then ``ceil(log2(most visits))`` vectorised passes
    each fold in the value ``k`` rows back when it belongs to the same patient. Exact; nulls
    (not measured) are skipped as ``min_horizontal`` does.
    """
    pairs = (
        ("serum_m", "serum_m0", "nadir_serum"),
        ("urine_m", "urine_m0", "nadir_urine"),
        ("dflc", "dflc0", "nadir_dflc"),
        ("marrow_pc", "marrow_pc0", "nadir_marrow"),
        ("plasmacytoma_spd", "plasmacytoma_spd0", "nadir_spd"),
    )
    n = rows.height

    def needed(value: str, base: str, name: str) -> bool:
        if name == "nadir_marrow":  # only progression on the marrow path reads it
            path = rows["kind"] & 7
            if not ((path == P_MARROW) | (path == P_NONE)).any():
                return False
        if name in ("nadir_marrow", "nadir_spd"):  # read only beside a value of the measure
            return rows[value].null_count() < n
        return rows[value].null_count() < n or rows[base].null_count() < n

    todo = [(value, base, name) for value, base, name in pairs if needed(value, base, name)]
    lows = {name: np.empty(n) for _, _, name in todo}
    pid = rows["pid"].to_numpy()
    blocks = runs.blocks(pid, runs.BLOCK)
    work = np.empty(max((hi - lo for lo, hi in blocks), default=0))
    grid = np.empty(2 * len(work))
    for lo, hi in blocks:  # whole patients per block, so temporaries stay small
        at = pos[lo:hi]
        first = at == 0
        n_pat, longest = int(pid[hi - 1]) - int(pid[lo]) + 1, int(at.max()) + 1
        on_grid = n_pat * longest <= len(grid)
        passes: list[tuple[int, npt.NDArray[np.bool_]]] = []
        if on_grid:
            # Visit position x patient grid: one running minimum down the positions.
            cell = at * n_pat + (pid[lo:hi] - pid[lo])
        else:  # very uneven visit counts: doubling passes over the rows instead
            k = 1
            while k < longest:
                passes.append((k, at[k:] >= k))
                k *= 2
        block = rows.slice(lo, hi - lo)
        for value, base, name in todo:
            low = work[: hi - lo]
            # NaN stands for "not measured" here (inputs are never NaN); fmin skips NaN.
            low[1:] = block[value].head(hi - lo - 1).to_numpy()
            low[first] = block[base].to_numpy()[first]
            if not on_grid:
                for k, same in passes:
                    np.fmin(low[k:], low[:-k], out=low[k:], where=same)
            else:
                g = grid[: n_pat * longest]
                g.fill(np.nan)
                g[cell] = low
                square = g.reshape(longest, n_pat)
                np.fmin.accumulate(square, axis=0, out=square)
                low = g[cell]
            lows[name][lo:hi] = low
    return pl.DataFrame(
        [
            pl.Series(name, lows[name], nan_to_null=True)
            if name in lows
            else pl.repeat(None, n, dtype=pl.Float64, eager=True).alias(name)
            for _, _, name in pairs
        ]
    )
