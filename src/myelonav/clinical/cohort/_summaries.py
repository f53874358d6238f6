"""Per-patient summaries by run arithmetic over the classified, sorted assessments."""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from myelonav.clinical.cohort import _runs as runs
from myelonav.clinical.cohort._codes import NE, PATH_ENUM, PATHS, PD

_NO_DATE: Final = np.iinfo(np.int64).max
_Ints = npt.NDArray[np.int64]


def _first_by_pid(
    out: npt.NDArray[np.generic],
    pid: _Ints,
    mask: npt.NDArray[np.bool_],
    values: npt.NDArray[np.generic],
) -> None:
    """Per patient, the value at its first row where ``mask`` holds (rows sorted by pid)."""
    sel = np.flatnonzero(mask)
    p = pid[sel]
    first = np.r_[True, p[1:] != p[:-1]] if len(p) else np.zeros(0, dtype=np.bool_)
    out[p[first]] = values[sel[first]]


def _reduce_by_pid(
    out: npt.NDArray[np.generic], ufunc: np.ufunc, pid: _Ints, values: npt.NDArray[np.generic]
) -> None:
    """Per patient, ``ufunc`` over its rows (rows sorted by pid); untouched when it has none."""
    if len(pid):
        starts = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]])
        out[pid[starts]] = ufunc.reduceat(values, starts)


def _then(a: npt.NDArray[np.generic], fill: object) -> npt.NDArray[np.generic]:
    """``a`` shifted one row up (the next row's value), ``fill`` after the last row."""
    out = np.empty_like(a)
    out[:-1] = a[1:]
    if len(a):
        out[-1] = fill
    return out


class _PatientStats:
    """Per-patient summary arrays, filled block by block (each block holds whole patients)."""

    def __init__(self, n_pids: int) -> None:
        self.prog = np.full(n_pids, _NO_DATE, dtype=np.int64)
        self.last_rank = np.full(n_pids, -1, dtype=np.int8)
        self.last_date = np.full(n_pids, _NO_DATE, dtype=np.int64)
        self.best = np.full(n_pids, -1, dtype=np.int8)
        self.best_date = np.full(n_pids, _NO_DATE, dtype=np.int64)
        self.best_unconfirmed = np.full(n_pids, -1, dtype=np.int8)
        self.relapse = np.full(n_pids, _NO_DATE, dtype=np.int64)
        self.prog_row = np.full(n_pids, -1, dtype=np.int64)  # row of the progression
        self.last_row = np.full(n_pids, -1, dtype=np.int64)  # last row of the patient

    def add(self, rows: pl.DataFrame, offset: int) -> None:
        pid = rows["pid"].to_numpy().astype(np.int64)
        date = rows["date"].to_physical().cast(pl.Int64).to_numpy()
        rank = rows["rank"].to_numpy()

        # Progression: the first of two consecutive evaluable (non-NE) assessments that are PD.
        e = np.flatnonzero(rank != NE)
        pe, de, re = pid[e], date[e], rank[e]
        more = _then(pe, -1) == pe
        pd_pair = (re == PD) & (_then(re, NE) == PD) & more
        _first_by_pid(self.prog, pe, pd_pair, de)
        _first_by_pid(self.prog_row, pe, pd_pair, e + offset)
        last = np.flatnonzero(~more)
        self.last_rank[pe[last]] = re[last]
        self.last_date[pe[last]] = de[last]

        # Confirmed best response: the best level held on two consecutive evaluable
        # assessments before progression.
        b = np.flatnonzero(de < self.prog[pe])
        pb, db, rb = pe[b], de[b], re[b]
        more_b = _then(pb, -1) == pb
        pair_min = np.where(more_b, np.minimum(rb, _then(rb, NE)), np.int8(-1)).astype(np.int8)
        _reduce_by_pid(self.best, np.maximum, pb, pair_min)
        _first_by_pid(self.best_date, pb, (pair_min == self.best[pb]) & (pair_min >= 0), db)
        _reduce_by_pid(self.best_unconfirmed, np.maximum, pb, rb)

        _first_by_pid(self.relapse, pid, rows["relapse_from_cr"].to_numpy(), date)
        ends = np.flatnonzero(_then(pid, -1) != pid)
        self.last_row[pid[ends]] = ends + offset

    def lows(self, rows: pl.DataFrame) -> dict[str, npt.NDArray[np.float64]]:
        """Lowest serum, urine and dFLC values before progression (or over all assessments).

        A row's prior nadir already covers the baseline and every earlier row, so this is the
        nadir at the progression row, or the lower of the last row's nadir and value.
        """
        seen = self.last_row >= 0
        at_prog = self.prog_row >= 0
        prog_rows = pl.Series(self.prog_row[at_prog])
        last_rows = pl.Series(self.last_row[seen])
        out = {}
        for value, nadir in (
            ("serum_m", "nadir_serum"),
            ("urine_m", "nadir_urine"),
            ("dflc", "nadir_dflc"),
        ):
            low = np.full(len(seen), np.nan)
            low[seen] = np.fmin(
                rows[nadir].gather(last_rows).to_numpy(), rows[value].gather(last_rows).to_numpy()
            )
            low[at_prog] = rows[nadir].gather(prog_rows).to_numpy()
            out[value] = low
        return out


def patient_summaries(rows: pl.DataFrame, base: pl.DataFrame, n_pids: int) -> pl.DataFrame:
    """Per patient: confirmed progression, confirmed best response, relapse from CR, nadirs."""
    date_type = rows.schema["date"]
    st = _PatientStats(n_pids)
    for lo, hi in runs.blocks(rows["pid"].to_numpy(), runs.BLOCK):
        st.add(rows.slice(lo, hi - lo), lo)
    prog, last_rank, last_date = st.prog, st.last_rank, st.last_date
    best, best_date, best_unconfirmed = st.best, st.best_date, st.best_unconfirmed
    relapse, lows = st.relapse, st.lows(rows)

    def dates(a: _Ints, name: str) -> pl.Series:
        s = pl.Series(name, a)
        return pl.select(pl.when(s != _NO_DATE).then(s)).to_series().cast(date_type)

    def ranks(a: npt.NDArray[np.generic], name: str) -> pl.Series:
        s = pl.Series(name, a.astype(np.int8))
        return pl.select(pl.when(s >= 0).then(s)).to_series()

    stats = pl.DataFrame(
        [
            dates(prog, "progression_date"),
            ranks(best, "best_rank"),
            dates(best_date, "best_response_date"),
            ranks(best_unconfirmed, "best_unconfirmed_rank"),
            dates(relapse, "relapse_from_cr_date"),
            pl.Series("_pending", (prog == _NO_DATE) & (last_rank == PD)),
            dates(last_date, "_last_date"),
            *(pl.Series(f"w_{name}", lows[name], nan_to_null=True) for name in lows),
        ]
    )
    idx = base["pid"]
    out = base.select("patient", "baseline_date", "path", "serum_m0", "urine_m0", "dflc0")
    out = out.with_columns([stats[name].gather(idx) for name in stats.columns])
    paths = pl.Series(list(PATHS), dtype=PATH_ENUM)
    c = pl.col
    out = out.select(
        "patient",
        "baseline_date",
        paths.gather(out["path"]).alias("path"),
        "best_rank",
        "best_response_date",
        "best_unconfirmed_rank",
        "progression_date",
        pl.when(c("_pending")).then(c("_last_date")).alias("pending_progression_date"),
        "relapse_from_cr_date",
        pl.min_horizontal("serum_m0", "w_serum_m").alias("nadir_serum"),
        pl.min_horizontal("urine_m0", "w_urine_m").alias("nadir_urine"),
        pl.min_horizontal("dflc0", "w_dflc").alias("nadir_dflc"),
    )
    return out if out["patient"].is_sorted() else out.sort("patient", maintain_order=True)
