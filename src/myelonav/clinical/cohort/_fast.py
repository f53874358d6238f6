"""The cohort engine on the compiled one-pass kernel (``_kernel``): arrays in, frames out.

Validation and sorting are the polars engine's (``_reshape.compact_long``) and so are the
output frames, column for column; only the work between them is one pass per patient.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from myelonav.clinical.cohort import _kernel
from myelonav.clinical.cohort._baseline import reported_patients
from myelonav.clinical.cohort._codes import (
    CATEGORY_BY_RANK,
    CATEGORY_ENUM,
    P_NONE,
    PATH_ENUM,
    PATHS,
    RULE_ENUM,
    RULE_NAMES,
)
from myelonav.clinical.cohort._reshape import compact_long


def usable(long: pl.DataFrame | pl.LazyFrame) -> bool:
    """Whether the kernel can take this table (numba installed, a Date or Datetime column)."""
    if not _kernel.HAVE_NUMBA:
        return False
    schema = long.collect_schema()
    return "date" in schema and (schema["date"] == pl.Date or schema["date"] == pl.Datetime)


def _patient_starts(df: pl.DataFrame) -> npt.NDArray[np.int64]:
    if df.schema["patient"].is_integer():
        p = df["patient"].to_numpy()
        new = np.empty(len(p), dtype=np.bool_)
        new[:1] = True
        np.not_equal(p[1:], p[:-1], out=new[1:])
    else:
        pc = pl.col("patient")
        new = df.select((pc != pc.shift(1)).fill_null(True))[:, 0].to_numpy()
    return np.flatnonzero(new).astype(np.int64)


def evaluate(
    long: pl.DataFrame | pl.LazyFrame, baselines: pl.DataFrame | pl.LazyFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    compact = compact_long(long)
    date_type = compact.schema["date"]
    first = _patient_starts(compact)
    n_pids = len(first)
    p_start = np.append(first, compact.height).astype(np.int64)
    firsts = pl.Series(first)
    patients = pl.DataFrame(
        [
            pl.Series("pid", np.arange(n_pids, dtype=np.uint32)).set_sorted(),
            compact["patient"].gather(firsts),
        ]
    )
    first_date = compact["date"].gather(firsts)
    dates = reported_patients(patients, first_date, baselines)
    by_pid = pl.DataFrame({"pid": np.arange(n_pids, dtype=np.uint32)}).join(
        dates.filter(pl.col("pid").is_not_null()).select(
            "pid", pl.col("baseline_date").cast(date_type), "involved"
        ),
        on="pid",
        how="left",
        maintain_order="left",
    )
    bd = by_pid["baseline_date"].to_physical().cast(pl.Int64).fill_null(_kernel.NO_DATE)
    involved = by_pid["involved"].cast(pl.Int8).fill_null(-1)
    out = _kernel.run(
        p_start,
        compact["date"].to_physical().to_numpy(),
        compact["code"].to_numpy(),
        compact["value"].to_numpy(),
        bd.to_numpy(),
        involved.to_numpy(),
    )
    del compact

    categories = pl.Series(
        [CATEGORY_BY_RANK[r].value for r in range(len(CATEGORY_BY_RANK))], dtype=CATEGORY_ENUM
    )
    rules = pl.Series(list(RULE_NAMES), dtype=RULE_ENUM)
    paths = pl.Series(list(PATHS), dtype=PATH_ENUM)
    rank = pl.Series("rank", out.rank)
    assessments = pl.DataFrame(
        [
            patients["patient"].gather(pl.Series(out.pid)),
            pl.Series("date", out.date).cast(date_type),
            rank,
            categories.gather(rank.cast(pl.UInt32)).alias("category"),
            rules.gather(pl.Series(out.rule)).alias("rule"),
            paths.gather(pl.Series(out.ep)).alias("eff_path"),
            pl.Series("missing", out.missing),
            pl.Series("nadir_serum", out.nadir_serum, nan_to_null=True),
            pl.Series("nadir_urine", out.nadir_urine, nan_to_null=True),
            pl.Series("nadir_dflc", out.nadir_dflc, nan_to_null=True),
            pl.Series("relapse_from_cr", out.relapse),
        ]
    )

    def day(a: npt.NDArray[np.int64], name: str) -> pl.Series:
        s = pl.Series(name, a)
        return pl.select(pl.when(s != _kernel.NO_DATE).then(s)).to_series().cast(date_type)

    def level(a: npt.NDArray[np.int8], name: str) -> pl.Series:
        s = pl.Series(name, a)
        return pl.select(pl.when(s >= 0).then(s)).to_series()

    stats = pl.DataFrame(
        [
            pl.Series("path", out.path),
            level(out.best, "best_rank"),
            day(out.best_date, "best_response_date"),
            level(out.unconfirmed, "best_unconfirmed_rank"),
            day(out.progression, "progression_date"),
            day(out.pending, "pending_progression_date"),
            day(out.relapse_date, "relapse_from_cr_date"),
            pl.Series("nadir_serum", out.low[:, 0], nan_to_null=True),
            pl.Series("nadir_urine", out.low[:, 1], nan_to_null=True),
            pl.Series("nadir_dflc", out.low[:, 2], nan_to_null=True),
        ]
    )
    idx = dates["pid"]
    summary = dates.select("patient", "baseline_date").with_columns(
        [stats[name].gather(idx) for name in stats.columns]
    )
    summary = summary.with_columns(
        paths.gather(summary["path"].fill_null(P_NONE).cast(pl.UInt32)).alias("path")
    )
    if not summary["patient"].is_sorted():
        summary = summary.sort("patient", maintain_order=True)
    return assessments, summary
