"""Long table to measure-by-assessment columns: validate, sort, find runs, scatter."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from myelonav.clinical.cohort import _runs as runs
from myelonav.clinical.cohort._codes import MEASURE_ENUM, MEASURES
from myelonav.errors import InputError


def compact_long(long: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """patient, date, measure code (UInt8), value (Float64); null values dropped; validated;
    sorted by patient and date (stable, so a later row stays later)."""
    schema = long.collect_schema()
    for col in ("patient", "date", "measure", "value"):
        if col not in schema:
            raise InputError(f"the long table needs a {col!r} column", location=col)
    frame = long.select("patient", "date", "measure", "value")
    df = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    if df["value"].null_count():
        df = df.filter(pl.col("value").is_not_null())
    measure = df["measure"]
    if measure.dtype != MEASURE_ENUM:
        measure = measure.cast(pl.String).cast(MEASURE_ENUM, strict=False)
    if measure.null_count():
        shown = df["measure"].filter(measure.is_null()).cast(pl.String)[0]
        what = "a row without a measure" if shown is None else f"unknown measure {shown!r}"
        raise InputError(f"{what}; expected one of {', '.join(MEASURES)}", location="measure")
    df = df.select(
        "patient", "date", measure.to_physical().alias("code"), pl.col("value").cast(pl.Float64)
    )
    for col in ("patient", "date"):
        if df[col].null_count():
            raise InputError(f"the long table has a row without a {col}", location=col)
    if df["value"].is_nan().any():
        raise InputError("the long table has a NaN value", location="value")
    p, d = pl.col("patient"), pl.col("date")
    in_order = df.select(((p > p.shift(1)) | ((p == p.shift(1)) & (d >= d.shift(1)))).all()).item()
    if not in_order:
        df = _sorted(df)
    return df


def _sorted(df: pl.DataFrame) -> pl.DataFrame:
    """Stable sort by patient and date; by one packed integer key when the ranges allow it
    (a single-key sort is several times faster than a two-key one)."""
    patient = df.schema["patient"]
    if (
        patient.is_integer()
        and patient != pl.UInt64
        and df.schema["date"] in (pl.Date, pl.Datetime)
    ):
        p = pl.col("patient").cast(pl.Int64)
        d = pl.col("date").to_physical().cast(pl.Int64)
        p_lo, p_hi, d_lo, d_hi = df.select(
            p.min().alias("a"), p.max().alias("b"), d.min().alias("c"), d.max().alias("d")
        ).row(0)
        if p_hi - p_lo < 1 << 31 and d_hi - d_lo < 1 << 32:
            key = (p - p_lo).cast(pl.UInt64) * (1 << 32) + (d - d_lo).cast(pl.UInt64)
            return df.with_columns(key.alias("_key")).sort("_key", maintain_order=True).drop("_key")
    return df.sort("patient", "date", maintain_order=True)


def _run_starts(df: pl.DataFrame) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Rows that start a patient, and rows that start an assessment (patient, date)."""
    if df.schema["patient"].is_integer() and df.schema["date"] in (pl.Date, pl.Datetime):
        p = df["patient"].to_numpy()
        d = df["date"].to_physical().to_numpy()
        new_p = np.empty(len(p), dtype=np.bool_)
        new_p[:1] = True
        np.not_equal(p[1:], p[:-1], out=new_p[1:])
        new_g = np.empty(len(p), dtype=np.bool_)
        new_g[:1] = True
        np.not_equal(d[1:], d[:-1], out=new_g[1:])
        new_g |= new_p
        return new_p, new_g
    pc, dc = pl.col("patient"), pl.col("date")
    starts_p = (pc != pc.shift(1)).fill_null(True)
    starts_g = starts_p | (dc != dc.shift(1)).fill_null(True)
    runs = df.select(starts_p.alias("p"), starts_g.alias("g"))
    return runs["p"].to_numpy(), runs["g"].to_numpy()


class Layout:
    """Runs of the sorted compact table: each patient and each (patient, date) is contiguous."""

    def __init__(self, df: pl.DataFrame) -> None:
        new_p, new_g = _run_starts(df)
        g_start = np.flatnonzero(new_g)
        del new_g
        new_p_of_g = new_p[g_start]
        del new_p
        self.n_groups = len(g_start)
        self.g_size = np.diff(np.append(g_start, df.height))  # measurements per assessment
        self.pid = pl.Series("pid", np.cumsum(new_p_of_g, dtype=np.uint32) - np.uint32(1))
        p_start = pl.Series(g_start[new_p_of_g])
        self.n_pids = len(p_start)
        self.date = df["date"].gather(pl.Series(g_start))  # date of each assessment
        self.patients = pl.DataFrame(
            [
                pl.Series("pid", np.arange(self.n_pids, dtype=np.uint32)).set_sorted(),
                df["patient"].gather(p_start),
            ]
        )
        self.first_date = df["date"].gather(p_start)  # of each patient


def scatter(
    df: pl.DataFrame, lay: Layout, after: pl.Series, before: pl.Series
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(assessments after the baseline, assessments on or before it): pid, date and one column
    per measure, built without a pivot.

    Every value is scattered into a measure-major matrix at (measure, slot of its assessment):
    slots ``[0, n_after)`` hold the assessments after the baseline, then those on or before it,
    then one slot for assessments of patients without a baseline. The matrix rows are the
    columns, so both frames are views of it. When a measure repeats within an assessment the
    later row wins.
    """
    keep = after.to_numpy()
    pre = before.to_numpy()
    n_after = int(keep.sum())
    n_before = int(pre.sum())
    width = n_after + n_before + 1
    dest = np.full(lay.n_groups, width - 1, dtype=np.int64)
    dest[keep] = np.arange(n_after)
    dest[pre] = np.arange(n_after, n_after + n_before)
    code = df["code"].to_numpy()
    value = df["value"].to_numpy()
    present = np.flatnonzero(np.bincount(code, minlength=len(MEASURES)))
    row_of = np.zeros(len(MEASURES), dtype=np.int64)
    row_of[present] = np.arange(len(present)) * width
    matrix = np.full((len(present), width), np.nan)
    flat = matrix.reshape(-1)
    # In blocks of assessments, so the index temporaries stay small (and reused).
    ends = np.cumsum(lay.g_size)
    for lo in range(0, lay.n_groups, runs.BLOCK):
        hi = min(lo + runs.BLOCK, lay.n_groups)
        m_lo, m_hi = int(ends[lo - 1]) if lo else 0, int(ends[hi - 1])
        slot = np.repeat(dest[lo:hi], lay.g_size[lo:hi])
        slot += row_of[code[m_lo:m_hi]]
        flat[slot] = value[m_lo:m_hi]
    n_values = ends[-1] - lay.g_size[~(keep | pre)].sum() if lay.n_groups else 0
    cols = [
        pl.repeat(None, n_after + n_before, dtype=pl.Float64, eager=True).alias(name)
        for name in MEASURES
    ]
    for i, j in enumerate(present):
        cols[j] = pl.Series(MEASURES[j], matrix[i, : n_after + n_before], nan_to_null=True)
    if sum(len(col) - col.null_count() for col in cols) != n_values:
        # A measure repeats within an assessment (values are never NaN): write the later row.
        slot = np.repeat(dest, lay.g_size) + row_of[code]
        keep_last = len(slot) - 1 - np.unique(slot[::-1], return_index=True)[1]
        flat[slot[keep_last]] = value[keep_last]
        for i, j in enumerate(present):
            cols[j] = pl.Series(MEASURES[j], matrix[i, : n_after + n_before], nan_to_null=True)
    del flat, dest, code
    rows = pl.DataFrame(
        [
            lay.pid.filter(after).set_sorted(),
            lay.date.filter(after),
            *(col.slice(0, n_after) for col in cols),
        ]
    )
    base_rows = pl.DataFrame(
        [
            lay.pid.filter(before).set_sorted(),
            lay.date.filter(before),
            *(col.slice(n_after, n_before) for col in cols),
        ]
    )
    return rows, base_rows
