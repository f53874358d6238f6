"""IMWG 2016 response engine for a registry, vectorised with polars.

The same rules as ``myelonav.clinical.imwg`` (Kumar et al., Lancet Oncol 2016;17:e328-46),
written as column expressions over a long table instead of a per-patient loop. Property tests
hold the two engines to the same answer on every generated case.

Input: a long table with columns ``patient``, ``date`` (Date), ``measure`` (one of
``MEASURES``; String, Categorical or Enum) and ``value`` (a number). Immunofixation, clonality
and new lesions are coded 1.0 = positive/present, 0.0 = negative/absent. Units as in
``imwg.Assessment``. A null value means "not measured", as ``None`` does in the scalar engine;
when one patient has the same measure twice on one date, the later row wins. Optionally a
``baselines`` table with ``patient``, ``baseline_date`` and (optionally) ``involved``
("kappa"/"lambda"); without it the first date of each patient is the baseline and the involved
light chain is the larger at baseline.

How it is fast (one core: about 10 million assessments in 6 s and 1.6 GiB beyond the input;
``benchmarks/bench_cohort.py``):

* The long table is sorted by patient and date once (skipped when it already is), so each
  patient and each assessment is a contiguous run. The long-to-wide reshape is a scatter of
  every value into a measure-major matrix whose rows become the columns: no pivot, no hashing,
  and the assessments after the baseline and those on or before it land in separate halves,
  so nothing is filtered or copied afterwards.
* Baseline facts reach the assessments by gathering on a dense patient index; the small ones
  travel packed in one integer.
* The nadirs (lowest value at baseline or any earlier assessment) are a segmented running
  minimum computed by doubling: ``ceil(log2(most assessments per patient))`` vectorised passes.
* Classification is one streaming pass of staged column expressions, so every intermediate
  (path, progression rule, response levels) is computed once per row, morsel by morsel.
* Per-patient summaries use run arithmetic over the sorted rows, in blocks of whole patients
  so temporaries stay small; categories, rules and paths stay small integer codes until the
  output, where they become ``pl.Enum`` columns.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from myelonav.clinical import thresholds as t
from myelonav.clinical.imwg import RULES, Missing
from myelonav.errors import InputError
from myelonav.patient.models import RESPONSE_ORDER, ResponseCategory

EPS: Final = t.EPS

MEASURES: Final = (
    "serum_m",
    "urine_m",
    "kappa",
    "lambda",
    "flc_ratio",
    "serum_ife",
    "urine_ife",
    "marrow_pc",
    "marrow_clonal",
    "plasmacytoma_spd",
    "new_lesion",
)
_BASE_MEASURES: Final = ("serum_m", "urine_m", "kappa", "lambda", "flc_ratio", "marrow_pc",
                         "plasmacytoma_spd")

R = {category.value: rank for category, rank in RESPONSE_ORDER.items()}
_PD, _SD, _MR, _PR = R["PD"], R["SD"], R["MR"], R["PR"]
_VGPR, _CR, _SCR, _NE = R["VGPR"], R["CR"], R["sCR"], R["NE"]
CATEGORY_BY_RANK: Final = {rank: category for category, rank in RESPONSE_ORDER.items()}

# Output vocabularies; computations use the index of a value as its code.
CATEGORY_ENUM: Final = pl.Enum([CATEGORY_BY_RANK[r].value for r in range(len(CATEGORY_BY_RANK))])
RULE_NAMES: Final = tuple(RULES)
RULE_ENUM: Final = pl.Enum(list(RULE_NAMES))
PATHS: Final = ("m_protein", "flc", "marrow", "none", "flc_fallback")
PATH_ENUM: Final = pl.Enum(list(PATHS))
_MEASURE_ENUM: Final = pl.Enum(list(MEASURES))
_P_M, _P_FLC, _P_MARROW, _P_NONE, _P_FB = range(len(PATHS))
_KAPPA, _LAMBDA = 0, 1
_RC = {name: code for code, name in enumerate(RULE_NAMES)}

_BLOCK: Final = 1 << 20  # assessments per block of index arithmetic


def _t(expr: pl.Expr) -> pl.Expr:
    """A condition where unknown (null) counts as not met, like the scalar engine's checks."""
    return expr.fill_null(False)


def _ge(x: pl.Expr, threshold: float) -> pl.Expr:
    return _t(x >= threshold - EPS)


def _reduction(base: str, value: pl.Expr) -> pl.Expr:
    return pl.when(pl.col(base) > 0).then((pl.col(base) - value) / pl.col(base))


def _rise_ok(value: str, nadir: str, floor: float) -> pl.Expr:
    rise = pl.col(value) - pl.col(nadir)
    return _t((rise >= floor - EPS) & (rise >= t.PD_RELATIVE_RISE * pl.col(nadir) - EPS))


def _lit(code: int) -> pl.Expr:
    return pl.lit(code, dtype=pl.UInt8)


# --------------------------------------------------------------------------- input


def _compact(long: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
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
    if measure.dtype != _MEASURE_ENUM:
        measure = measure.cast(pl.String).cast(_MEASURE_ENUM, strict=False)
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
    in_order = df.select(
        ((p > p.shift(1)) | ((p == p.shift(1)) & (d >= d.shift(1)))).all()
    ).item()
    if not in_order:
        df = _sorted(df)
    return df


def _sorted(df: pl.DataFrame) -> pl.DataFrame:
    """Stable sort by patient and date; by one packed integer key when the ranges allow it
    (a single-key sort is several times faster than a two-key one)."""
    patient = df.schema["patient"]
    if patient.is_integer() and patient != pl.UInt64 and df.schema["date"] in (pl.Date,
                                                                              pl.Datetime):
        p = pl.col("patient").cast(pl.Int64)
        d = pl.col("date").to_physical().cast(pl.Int64)
        p_lo, p_hi, d_lo, d_hi = df.select(
            p.min().alias("a"), p.max().alias("b"), d.min().alias("c"), d.max().alias("d")
        ).row(0)
        if p_hi - p_lo < 1 << 31 and d_hi - d_lo < 1 << 32:
            key = (p - p_lo).cast(pl.UInt64) * (1 << 32) + (d - d_lo).cast(pl.UInt64)
            return (
                df.with_columns(key.alias("_key"))
                .sort("_key", maintain_order=True)
                .drop("_key")
            )
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


class _Layout:
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


def _scatter(
    df: pl.DataFrame, lay: _Layout, after: pl.Series, before: pl.Series
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
    for lo in range(0, lay.n_groups, _BLOCK):
        hi = min(lo + _BLOCK, lay.n_groups)
        m_lo, m_hi = int(ends[lo - 1]) if lo else 0, int(ends[hi - 1])
        slot = np.repeat(dest[lo:hi], lay.g_size[lo:hi])
        slot += row_of[code[m_lo:m_hi]]
        flat[slot] = value[m_lo:m_hi]
    n_values = ends[-1] - lay.g_size[~(keep | pre)].sum() if lay.n_groups else 0
    cols = [pl.repeat(None, n_after + n_before, dtype=pl.Float64, eager=True).alias(name)
            for name in MEASURES]
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
        [lay.pid.filter(after).set_sorted(), lay.date.filter(after),
         *(col.slice(0, n_after) for col in cols)]
    )
    base_rows = pl.DataFrame(
        [lay.pid.filter(before).set_sorted(), lay.date.filter(before),
         *(col.slice(n_after, n_before) for col in cols)]
    )
    return rows, base_rows


# --------------------------------------------------------------------------- baseline


def _baseline_dates(lay: _Layout, baselines: pl.DataFrame | pl.LazyFrame | None) -> pl.DataFrame:
    """One row per reported patient: patient, pid (null if no assessments), baseline_date,
    involved code (null = infer)."""
    patients = lay.patients
    if baselines is None:
        return patients.select(
            "patient",
            "pid",
            lay.first_date.alias("baseline_date"),
            pl.lit(None, dtype=pl.UInt8).alias("involved"),
        )
    b = baselines.lazy()
    names = b.collect_schema().names()
    for col in ("patient", "baseline_date"):
        if col not in names:
            raise InputError(f"the baselines table needs a {col!r} column", location=col)
    involved = pl.col("involved").cast(pl.String) if "involved" in names else pl.lit(None,
                                                                                      pl.String)
    dates = b.select(
        pl.col("patient").cast(patients.schema["patient"]),
        "baseline_date",
        involved.alias("involved"),
    ).collect()
    odd = dates.filter(pl.col("involved").is_not_null() & ~pl.col("involved").is_in(
        ["kappa", "lambda"]))
    if odd.height:
        raise InputError(
            f"involved light chain {odd['involved'][0]!r} for patient {odd['patient'][0]!r} is "
            "not 'kappa' or 'lambda'",
            location="involved",
        )
    if dates["patient"].is_duplicated().any():
        twice = dates.filter(pl.col("patient").is_duplicated())["patient"][0]
        raise InputError(f"the baselines table lists patient {twice!r} twice", location="patient")
    dates = dates.with_columns(
        pl.col("involved").replace_strict(["kappa", "lambda"], [_KAPPA, _LAMBDA], default=None,
                                          return_dtype=pl.UInt8)
    )
    return dates.join(patients, on="patient", how="left", maintain_order="left").select(
        "patient", "pid", "baseline_date", "involved"
    )


def _baseline_frame(before: pl.DataFrame, dates: pl.DataFrame) -> pl.DataFrame:
    """Baseline values, measurability and path per reported patient (latest value on or
    before the baseline date; ``before`` holds those assessments, sorted)."""
    values = before.group_by("pid", maintain_order=True).agg(
        [pl.col(m).drop_nulls().last().alias(f"{m}0") for m in _BASE_MEASURES]
    )
    b = dates.join(values, on="pid", how="left", maintain_order="left")
    k0, l0 = pl.col("kappa0"), pl.col("lambda0")
    b = b.with_columns(
        pl.coalesce(
            pl.col("involved"),
            pl.when(k0.is_not_null() & l0.is_not_null())
            .then(pl.when(k0 >= l0).then(_lit(_KAPPA)).otherwise(_lit(_LAMBDA))),
        ).alias("involved"),
        pl.when(k0.is_not_null() & l0.is_not_null() & (l0 > 0))
        .then(k0 / l0)
        .otherwise(pl.col("flc_ratio0"))
        .alias("ratio0"),
    )
    inv0 = pl.when(pl.col("involved") == _KAPPA).then(k0).when(
        pl.col("involved") == _LAMBDA).then(l0)
    d0 = pl.when(pl.col("involved") == _KAPPA).then(k0 - l0).when(
        pl.col("involved") == _LAMBDA).then(l0 - k0)
    b = b.with_columns(inv0.alias("inv0"), d0.alias("dflc0"))
    ratio0 = pl.col("ratio0")
    b = b.with_columns(
        _ge(pl.col("serum_m0"), t.MEASURABLE_SERUM_M_G_DL).alias("s_meas"),
        _ge(pl.col("urine_m0"), t.MEASURABLE_URINE_M_MG_24H).alias("u_meas"),
        (
            _ge(pl.col("inv0"), t.MEASURABLE_INVOLVED_FLC_MG_L)
            & _t((ratio0 < t.FLC_RATIO_NORMAL_LOW) | (ratio0 > t.FLC_RATIO_NORMAL_HIGH))
            & _t(pl.col("dflc0") > 0)
        ).alias("flc_meas"),
        pl.any_horizontal(
            [pl.col(c).is_not_null() for c in ("serum_m0", "urine_m0", "dflc0", "marrow_pc0")]
        ).alias("has_any"),
    )
    return b.with_columns(
        pl.when(pl.col("s_meas") | pl.col("u_meas"))
        .then(_lit(_P_M))
        .when(pl.col("flc_meas"))
        .then(_lit(_P_FLC))
        .when(_ge(pl.col("marrow_pc0"), t.MARROW_PATH_MIN_BASELINE_PCT))
        .then(_lit(_P_MARROW))
        .otherwise(_lit(_P_NONE))
        .alias("path")
    )


# --------------------------------------------------------------------------- per-patient runs


def _positions(pid: npt.NDArray[np.uint32]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(index of each row's patient's first row, position of the row within its patient)."""
    n = len(pid)
    starts = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]]) if n else np.zeros(0, np.int64)
    lengths = np.diff(np.r_[starts, n])
    first = np.repeat(starts, lengths)
    return first, np.arange(n, dtype=np.int64) - first


def _nadirs(rows: pl.DataFrame, pos: npt.NDArray[np.int64]) -> pl.DataFrame:
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
            if not ((path == _P_MARROW) | (path == _P_NONE)).any():
                return False
        if name in ("nadir_marrow", "nadir_spd"):  # read only beside a value of the measure
            return rows[value].null_count() < n
        return rows[value].null_count() < n or rows[base].null_count() < n

    todo = [(value, base, name) for value, base, name in pairs if needed(value, base, name)]
    lows = {name: np.empty(n) for _, _, name in todo}
    pid = rows["pid"].to_numpy()
    blocks = _blocks(pid, _BLOCK)
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
            pl.Series(name, lows[name], nan_to_null=True) if name in lows
            else pl.repeat(None, n, dtype=pl.Float64, eager=True).alias(name)
            for _, _, name in pairs
        ]
    )


# --------------------------------------------------------------------------- classification


def _classify_stages() -> list[list[pl.Expr]]:
    """Elementwise stages: each names columns the later stages read (computed once per row).

    Ends with rank (Int8), ``_rule`` and ``_ep`` codes, missing bits and the relapse signal.
    """
    c = pl.col
    path = c("path")
    fallback = (
        (path == _P_M)
        & ~c("s_meas")
        & c("u_meas")
        & c("urine_m").is_null()
        & c("flc_meas")
        & c("dflc").is_not_null()
    )
    ratio = (
        pl.when(c("kappa").is_not_null() & c("lambda").is_not_null() & (c("lambda") > 0))
        .then(c("kappa") / c("lambda"))
        .otherwise(c("flc_ratio"))
    )
    has_pc = _t(c("plasmacytoma_spd0") > 0)
    spd = c("plasmacytoma_spd")
    stage_a = [
        fallback.alias("_fb"),
        pl.when(fallback).then(_lit(_P_FB)).otherwise(path).alias("_ep"),
        ((path == _P_FLC) | fallback).alias("_flc"),
        pl.when(ratio.is_null()).then(None).otherwise(
            (ratio >= t.FLC_RATIO_NORMAL_LOW) & (ratio <= t.FLC_RATIO_NORMAL_HIGH)
        ).alias("_ratio_ok"),
        has_pc.alias("_has_pc"),
    ]

    ep, is_flc, fb, ratio_ok, has_pc = c("_ep"), c("_flc"), c("_fb"), c("_ratio_ok"), c("_has_pc")
    d_rise = c("dflc") - c("nadir_dflc")
    s_rise = c("serum_m") - c("nadir_serum")
    nspd = c("nadir_spd")
    pd_rule = (
        pl.when(_rise_ok("serum_m", "nadir_serum", t.PD_SERUM_ABS_G_DL))
        .then(_lit(_RC["pd_serum"]))
        .when(
            _t(
                (c("nadir_serum") >= t.PD_SERUM_HIGH_NADIR_G_DL - EPS)
                & (s_rise >= t.PD_SERUM_HIGH_NADIR_ABS_G_DL - EPS)
            )
        )
        .then(_lit(_RC["pd_serum_high_nadir"]))
        .when(_rise_ok("urine_m", "nadir_urine", t.PD_URINE_ABS_MG_24H))
        .then(_lit(_RC["pd_urine"]))
        .when(
            is_flc
            & _t(
                (d_rise > t.PD_DFLC_ABS_MG_L + EPS)
                & (d_rise >= t.PD_RELATIVE_RISE * pl.max_horizontal(c("nadir_dflc"), 0.0) - EPS)
            )
        )
        .then(_lit(_RC["pd_dflc"]))
        .when(
            ((path == _P_MARROW) | (path == _P_NONE))
            & _rise_ok("marrow_pc", "nadir_marrow", t.PD_MARROW_ABS_PCT)
        )
        .then(_lit(_RC["pd_marrow"]))
        .when(
            _t(
                ((nspd > 0) & (spd >= (1 + t.PD_PLASMACYTOMA_RISE) * nspd - EPS))
                | ((nspd <= 0) & (spd > 0))
            )
        )
        .then(_lit(_RC["pd_plasmacytoma"]))
        .when(_t(c("new_lesion") == 1))
        .then(_lit(_RC["pd_new_lesion"]))
    )
    avail = (
        pl.when(path == _P_M)
        .then(
            pl.when(c("s_meas") & c("serum_m").is_null()).then(int(Missing.SERUM_M)).otherwise(0)
            | pl.when(c("u_meas") & c("urine_m").is_null() & ~fb)
            .then(
                pl.when(~c("s_meas") & c("flc_meas"))
                .then(int(Missing.URINE_M) | int(Missing.FLC))
                .otherwise(int(Missing.URINE_M))
            )
            .otherwise(0)
        )
        .when(path == _P_FLC)
        .then(pl.when(c("dflc").is_null()).then(int(Missing.FLC)).otherwise(0))
        .otherwise(pl.when(c("marrow_pc").is_null()).then(int(Missing.MARROW)).otherwise(0))
        | pl.when(has_pc & spd.is_null()).then(int(Missing.PLASMACYTOMA)).otherwise(0)
    )
    spd_red = pl.when(has_pc).then(_reduction("plasmacytoma_spd0", spd))
    stage_b = [
        pd_rule.alias("_pd"),
        avail.alias("_avail"),
        (~has_pc | _ge(spd_red, t.PR_PLASMACYTOMA_REDUCTION)).alias("_pc_pr"),
        (~has_pc | _ge(spd_red, t.MR_PLASMACYTOMA_REDUCTION)).alias("_pc_mr"),
        (~has_pc | _t(spd <= 0)).alias("_pc_cr"),
    ]

    pc_pr, pc_mr, pc_cr = c("_pc_pr"), c("_pc_mr"), c("_pc_cr")
    s, u = c("serum_m"), c("urine_m")
    rs = _reduction("serum_m0", s)
    ru = _reduction("urine_m0", u)
    m_pr = (
        (~c("s_meas") | _ge(rs, t.PR_SERUM_REDUCTION))
        & (
            ~c("u_meas")
            | _ge(ru, t.PR_URINE_REDUCTION)
            | _t(u < t.PR_URINE_ABSOLUTE_MG_24H - EPS)
        )
        & pc_pr
    )
    m_mr = (
        (~c("s_meas") | _ge(rs, t.MR_SERUM_REDUCTION))
        & (~c("u_meas") | _ge(ru, t.MR_URINE_REDUCTION))
        & pc_mr
    )
    vgpr_serum = _t(s <= 0) | _ge(rs, t.VGPR_SERUM_REDUCTION) | (s.is_null() & ~c("s_meas"))
    urine_not_followed = u.is_null() & c("urine_m0").is_null()
    urine_open = u.is_null() & c("urine_m0").is_not_null()
    m_vgpr_urine = _t(u < t.VGPR_URINE_MAX_MG_24H - EPS) | urine_not_followed
    m_extra = pl.when(
        (c("_m_pr_s") & urine_open) | (c("_m_pr_s") & m_vgpr_urine & urine_not_followed)
    ).then(int(Missing.URINE_M)).otherwise(0)

    rd = _reduction("dflc0", c("dflc"))
    f_pr = _ge(rd, t.PR_DFLC_REDUCTION) & pc_pr
    f_vgpr = f_pr & _ge(rd, t.VGPR_DFLC_REDUCTION)
    f_extra = pl.when(fb).then(int(Missing.URINE_M)).otherwise(0)

    rb = _reduction("marrow_pc0", c("marrow_pc"))
    b_pr = _ge(rb, t.PR_MARROW_REDUCTION) & pc_pr
    b_vgpr = b_pr & _t(c("marrow_pc") < t.CR_MARROW_MAX_PCT - EPS)

    is_m = ep == _P_M
    stage_c = [(m_pr & vgpr_serum).alias("_m_pr_s"), m_pr.alias("_m_pr")]
    stage_d = [
        pl.when(is_m).then(c("_m_pr")).when(is_flc).then(f_pr).otherwise(b_pr).alias("_lv_pr"),
        pl.when(is_m).then(c("_m_pr_s") & m_vgpr_urine).when(is_flc).then(f_vgpr)
        .otherwise(b_vgpr).alias("_lv_vgpr"),
        pl.when(is_m).then(m_mr).otherwise(False).alias("_lv_mr"),
        pl.when(is_m).then(m_extra).when(is_flc).then(f_extra).otherwise(0).alias("_lv_missing"),
    ]

    lv_vgpr = c("_lv_vgpr")
    needs = is_flc
    sife_pos, uife_pos = _t(c("serum_ife") == 1), _t(c("urine_ife") == 1)
    sife_neg, uife_neg = _t(c("serum_ife") == 0), _t(c("urine_ife") == 0)
    bm_low = _t(c("marrow_pc") < t.CR_MARROW_MAX_PCT - EPS)
    bm_high = _t(c("marrow_pc") >= t.CR_MARROW_MAX_PCT - EPS)
    ratio_true, ratio_false = _t(ratio_ok), _t(~ratio_ok)
    stage_e = [
        (sife_pos | uife_pos | bm_high | ~pc_cr | (needs & ratio_false)).alias("_blocked"),
        (lv_vgpr & sife_neg & uife_neg & bm_low & pc_cr & (~needs | ratio_true)).alias("_cr"),
        bm_high.alias("_bm_high"),
    ]

    is_cr, blockers = c("_cr"), c("_blocked")
    clonal_neg, clonal_pos = _t(c("marrow_clonal") == 0), _t(c("marrow_clonal") == 1)
    stage_f = [(is_cr & ratio_true & clonal_neg).alias("_scr")]

    is_scr = c("_scr")
    cr_missing = pl.when(lv_vgpr & ~is_cr & ~blockers).then(
        pl.when(c("serum_ife").is_null()).then(int(Missing.SERUM_IFE)).otherwise(0)
        | pl.when(c("urine_ife").is_null()).then(int(Missing.URINE_IFE)).otherwise(0)
        | pl.when(c("marrow_pc").is_null()).then(int(Missing.MARROW)).otherwise(0)
        | pl.when(needs & ratio_ok.is_null()).then(int(Missing.FLC)).otherwise(0)
    ).otherwise(0)
    scr_missing = pl.when(is_cr & ~is_scr & ~ratio_false & ~clonal_pos).then(
        pl.when(ratio_ok.is_null()).then(int(Missing.FLC)).otherwise(0)
        | pl.when(c("marrow_clonal").is_null()).then(int(Missing.CLONALITY)).otherwise(0)
    ).otherwise(0)
    lv_pr, lv_mr = c("_lv_pr"), c("_lv_mr")
    vgpr_level = lv_vgpr & (ep != _P_MARROW)
    level_rank = (
        pl.when(is_scr).then(_SCR)
        .when(is_cr).then(_CR)
        .when(vgpr_level).then(_VGPR)
        .when(lv_pr).then(_PR)
        .when(lv_mr).then(_MR)
        .otherwise(_SD)
    )
    level_rule = (
        pl.when(is_scr).then(_lit(_RC["scr"]))
        .when(is_cr).then(_lit(_RC["cr"]))
        .when(vgpr_level)
        .then(pl.when(is_flc).then(_lit(_RC["vgpr_flc"])).otherwise(_lit(_RC["vgpr"])))
        .when(lv_pr)
        .then(
            pl.when(is_flc).then(_lit(_RC["pr_flc"]))
            .when(ep == _P_MARROW).then(_lit(_RC["pr_marrow"]))
            .otherwise(_lit(_RC["pr"]))
        )
        .when(lv_mr).then(_lit(_RC["mr"]))
        .otherwise(_lit(_RC["sd"]))
    )
    no_base = ~c("has_any")
    not_meas = path == _P_NONE
    has_pd = c("_pd").is_not_null()
    has_avail_missing = c("_avail") != 0
    rank = (
        pl.when(has_pd).then(_PD)
        .when(no_base | not_meas | has_avail_missing).then(_NE)
        .otherwise(level_rank)
    )
    rule = (
        pl.when(has_pd).then(c("_pd"))
        .when(no_base).then(_lit(_RC["ne_no_baseline"]))
        .when(not_meas).then(_lit(_RC["ne_not_measurable"]))
        .when(has_avail_missing).then(_lit(_RC["ne_missing"]))
        .otherwise(level_rule)
    )
    missing = (
        pl.when(has_pd).then(0)
        .when(no_base).then(int(Missing.BASELINE))
        .when(not_meas).then(0)
        .when(has_avail_missing).then(c("_avail"))
        .otherwise(c("_lv_missing") | cr_missing | scr_missing)
    )
    signal = (
        has_pd
        | sife_pos
        | uife_pos
        | _t(c("serum_m") > 0)
        | _t(c("urine_m") > 0)
        | c("_bm_high")
        | _t(c("new_lesion") == 1)
    )
    stage_g = [
        rank.cast(pl.Int8).alias("rank"),
        rule.alias("_rule"),
        missing.cast(pl.UInt16).alias("missing"),
        signal.alias("_signal"),
    ]
    return [_unpack_kind(), stage_a, stage_b, stage_c, stage_d, stage_e, stage_f, stage_g]


def _classify(rows: pl.DataFrame, first: npt.NDArray[np.int64]) -> pl.DataFrame:
    staged = rows.lazy()
    for stage in _classify_stages():
        staged = staged.with_columns(stage)
    out = staged.select(
        "pid", "date", "rank", "_rule", "_ep", "missing", "_signal", "nadir_serum",
        "nadir_urine", "nadir_dflc", "serum_m", "urine_m", "dflc",
    ).collect(engine="streaming")
    # Relapse from CR: a signal after an earlier CR or sCR of the same patient.
    rank = out["rank"].to_numpy()
    is_cr = (rank == _CR) | (rank == _SCR)
    crs_before = np.cumsum(is_cr, dtype=np.int64) - is_cr
    prior_cr = crs_before > crs_before[first]
    return out.with_columns(
        (pl.Series(prior_cr) & pl.col("_signal")).alias("relapse_from_cr")
    ).drop("_signal")


# --------------------------------------------------------------------------- summaries


_NO_DATE: Final = np.iinfo(np.int64).max
_Ints = npt.NDArray[np.int64]


def _first_by_pid(out: npt.NDArray[np.generic], pid: _Ints, mask: npt.NDArray[np.bool_],
                  values: npt.NDArray[np.generic]) -> None:
    """Per patient, the value at its first row where ``mask`` holds (rows sorted by pid)."""
    sel = np.flatnonzero(mask)
    p = pid[sel]
    first = np.r_[True, p[1:] != p[:-1]] if len(p) else np.zeros(0, dtype=np.bool_)
    out[p[first]] = values[sel[first]]


def _reduce_by_pid(out: npt.NDArray[np.generic], ufunc: np.ufunc, pid: _Ints,
                   values: npt.NDArray[np.generic]) -> None:
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


def _blocks(pid: npt.NDArray[np.generic], size: int) -> list[tuple[int, int]]:
    """Row ranges of about ``size`` rows that never split a patient (``pid`` sorted)."""
    n = len(pid)
    cuts = {0, n}
    for target in range(size, n, size):
        cuts.add(int(np.searchsorted(pid, pid[target], side="left")))
    edges = sorted(cuts)
    return [(lo, hi) for lo, hi in itertools.pairwise(edges) if hi > lo]


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
        e = np.flatnonzero(rank != _NE)
        pe, de, re = pid[e], date[e], rank[e]
        more = _then(pe, -1) == pe
        pd_pair = (re == _PD) & (_then(re, _NE) == _PD) & more
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
        pair_min = np.where(more_b, np.minimum(rb, _then(rb, _NE)), np.int8(-1)).astype(np.int8)
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
        for value, nadir in (("serum_m", "nadir_serum"), ("urine_m", "nadir_urine"),
                             ("dflc", "nadir_dflc")):
            low = np.full(len(seen), np.nan)
            low[seen] = np.fmin(rows[nadir].gather(last_rows).to_numpy(),
                                rows[value].gather(last_rows).to_numpy())
            low[at_prog] = rows[nadir].gather(prog_rows).to_numpy()
            out[value] = low
        return out


def _summaries(rows: pl.DataFrame, base: pl.DataFrame, n_pids: int) -> pl.DataFrame:
    """Per patient: confirmed progression, confirmed best response, relapse from CR, nadirs."""
    date_type = rows.schema["date"]
    st = _PatientStats(n_pids)
    for lo, hi in _blocks(rows["pid"].to_numpy(), _BLOCK):
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
            pl.Series("_pending", (prog == _NO_DATE) & (last_rank == _PD)),
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


# --------------------------------------------------------------------------- entry point

_ROW_BASE = ("serum_m0", "urine_m0", "dflc0", "marrow_pc0", "plasmacytoma_spd0")
# The small per-patient baseline facts travel to the assessments packed in one UInt16.
_KIND_FLAGS = (("s_meas", 3), ("u_meas", 4), ("flc_meas", 5), ("has_any", 6))
_NO_INVOLVED = 2


def _pack_kind() -> pl.Expr:
    kind = pl.col("path").cast(pl.UInt16)
    for name, bit in _KIND_FLAGS:
        kind = kind | (pl.col(name).cast(pl.UInt16) * (1 << bit))
    involved = pl.col("involved").fill_null(_NO_INVOLVED).cast(pl.UInt16)
    return (kind | (involved * (1 << 7))).alias("kind")


def _unpack_kind() -> list[pl.Expr]:
    kind = pl.col("kind")
    return [
        (kind & 7).cast(pl.UInt8).alias("path"),
        *(((kind & (1 << bit)) != 0).alias(name) for name, bit in _KIND_FLAGS),
    ]


@contextlib.contextmanager
def _no_huge_page_advice() -> Iterator[None]:
    """Stop numpy asking for transparent huge pages while the engine runs (restored after).

    Where the kernel's THP defrag policy is "madvise", every fresh huge page numpy asks for is
    compacted synchronously; on the benchmark machine that was half the engine's time in the
    kernel. Private numpy switch, so absent means "leave as is".
    """
    switch = getattr(getattr(np, "_core", None), "multiarray", None)
    toggle = getattr(switch, "_set_madvise_hugepage", None)
    if toggle is None:
        yield
        return
    before = toggle(False)
    try:
        yield
    finally:
        toggle(before)


def evaluate_cohort(
    long: pl.DataFrame | pl.LazyFrame, baselines: pl.DataFrame | pl.LazyFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per-assessment results and per-patient summaries for a registry (IMWG 2016).

    Returns ``(assessments, patients)``. ``assessments`` has one row per patient and date after
    the baseline, sorted by patient and date, with ``rank`` (``RESPONSE_ORDER``; 0 = NE),
    ``category`` (``CATEGORY_ENUM``), ``rule`` (``RULE_ENUM``, codes of ``imwg.RULES``),
    ``eff_path`` (``PATH_ENUM``), ``missing`` (``imwg.Missing`` bits), the prior nadirs and
    ``relapse_from_cr``. ``patients`` has the baseline path, confirmed best response,
    progression date and nadirs, one row per patient (of ``baselines`` when given).
    """
    with _no_huge_page_advice():
        return _evaluate(long, baselines)


def _evaluate(
    long: pl.DataFrame | pl.LazyFrame, baselines: pl.DataFrame | pl.LazyFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    compact = _compact(long)
    lay = _Layout(compact)
    dates = _baseline_dates(lay, baselines)
    n_pids = lay.n_pids
    if baselines is None:
        bd = lay.first_date
    else:
        bd = pl.DataFrame({"pid": np.arange(n_pids, dtype=np.uint32)}).join(
            dates.filter(pl.col("pid").is_not_null()).select("pid", "baseline_date"),
            on="pid",
            how="left",
            maintain_order="left",
        )["baseline_date"]
    bd_of = bd.gather(lay.pid)
    rows, before = _scatter(
        compact, lay, (lay.date > bd_of).fill_null(False), (lay.date <= bd_of).fill_null(False)
    )
    del compact, bd_of
    base = _baseline_frame(before, dates)
    del before

    # Broadcast each patient's baseline to its assessments after the baseline date.
    by_pid = pl.DataFrame({"pid": np.arange(n_pids, dtype=np.uint32)}).join(
        base.filter(pl.col("pid").is_not_null()).select("pid", *_ROW_BASE, _pack_kind()),
        on="pid",
        how="left",
        maintain_order="left",
    )
    at = rows["pid"]
    rows = rows.with_columns(
        [
            by_pid[name].gather(at) if by_pid[name].null_count() < n_pids
            else pl.repeat(None, rows.height, dtype=pl.Float64, eager=True).alias(name)
            for name in _ROW_BASE
        ]
        + [by_pid["kind"].gather(at)]
    )
    inv = pl.col("kind") // (1 << 7)
    rows = rows.with_columns(
        pl.when(inv == _KAPPA).then(pl.col("kappa") - pl.col("lambda")).when(inv == _LAMBDA)
        .then(pl.col("lambda") - pl.col("kappa")).alias("dflc")
    )
    first, pos = _positions(rows["pid"].to_numpy())
    rows = rows.with_columns(_nadirs(rows, pos))
    rows = rows.with_columns(pl.col("pid").set_sorted())
    classified = _classify(rows, first)
    del rows
    summary = _summaries(classified, base, n_pids)

    categories = pl.Series(
        [CATEGORY_BY_RANK[r].value for r in range(len(CATEGORY_BY_RANK))], dtype=CATEGORY_ENUM)
    rules = pl.Series(list(RULE_NAMES), dtype=RULE_ENUM)
    paths = pl.Series(list(PATHS), dtype=PATH_ENUM)
    assessments = classified.select(
        lay.patients["patient"].gather(classified["pid"]).alias("patient"),
        "date",
        "rank",
        categories.gather(classified["rank"].cast(pl.UInt32)).alias("category"),
        rules.gather(classified["_rule"]).alias("rule"),
        paths.gather(classified["_ep"]).alias("eff_path"),
        "missing",
        "nadir_serum",
        "nadir_urine",
        "nadir_dflc",
        "relapse_from_cr",
    )
    return assessments, summary


def category_of(rank: int | None) -> ResponseCategory | None:
    return None if rank is None else CATEGORY_BY_RANK[rank]


__all__ = [
    "CATEGORY_BY_RANK",
    "CATEGORY_ENUM",
    "MEASURES",
    "PATHS",
    "PATH_ENUM",
    "RULE_ENUM",
    "RULE_NAMES",
    "category_of",
    "evaluate_cohort",
]
