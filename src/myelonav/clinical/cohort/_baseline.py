"""Baseline dates, values, measurability and path per patient, and how they reach assessments."""

from __future__ import annotations

import polars as pl

from myelonav.clinical import thresholds as t
from myelonav.clinical.cohort._codes import (
    BASE_MEASURES,
    KAPPA,
    LAMBDA,
    P_FLC,
    P_M,
    P_MARROW,
    P_NONE,
)
from myelonav.clinical.cohort._exprs import at_least, code_lit, met
from myelonav.clinical.cohort._reshape import Layout
from myelonav.errors import InputError

ROW_BASE = ("serum_m0", "urine_m0", "dflc0", "marrow_pc0", "plasmacytoma_spd0")
# The small per-patient baseline facts travel to the assessments packed in one UInt16.
_KIND_FLAGS = (("s_meas", 3), ("u_meas", 4), ("flc_meas", 5), ("has_any", 6))
_NO_INVOLVED = 2


def pack_kind() -> pl.Expr:
    kind = pl.col("path").cast(pl.UInt16)
    for name, bit in _KIND_FLAGS:
        kind = kind | (pl.col(name).cast(pl.UInt16) * (1 << bit))
    involved = pl.col("involved").fill_null(_NO_INVOLVED).cast(pl.UInt16)
    return (kind | (involved * (1 << 7))).alias("kind")


def unpack_kind() -> list[pl.Expr]:
    kind = pl.col("kind")
    return [
        (kind & 7).cast(pl.UInt8).alias("path"),
        *(((kind & (1 << bit)) != 0).alias(name) for name, bit in _KIND_FLAGS),
    ]


def baseline_dates(lay: Layout, baselines: pl.DataFrame | pl.LazyFrame | None) -> pl.DataFrame:
    """One row per reported patient: patient, pid (null if no assessments), baseline_date,
    involved code (null = infer)."""
    return reported_patients(lay.patients, lay.first_date, baselines)


def reported_patients(
    patients: pl.DataFrame, first_date: pl.Series, baselines: pl.DataFrame | pl.LazyFrame | None
) -> pl.DataFrame:
    """``baseline_dates`` from the patients (pid, patient) and each one's first date."""
    if baselines is None:
        return patients.select(
            "patient",
            "pid",
            first_date.alias("baseline_date"),
            pl.lit(None, dtype=pl.UInt8).alias("involved"),
        )
    b = baselines.lazy()
    names = b.collect_schema().names()
    for col in ("patient", "baseline_date"):
        if col not in names:
            raise InputError(f"the baselines table needs a {col!r} column", location=col)
    involved = (
        pl.col("involved").cast(pl.String) if "involved" in names else pl.lit(None, pl.String)
    )
    dates = b.select(
        pl.col("patient").cast(patients.schema["patient"]),
        "baseline_date",
        involved.alias("involved"),
    ).collect()
    odd = dates.filter(
        pl.col("involved").is_not_null() & ~pl.col("involved").is_in(["kappa", "lambda"])
    )
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
        pl.col("involved").replace_strict(
            ["kappa", "lambda"], [KAPPA, LAMBDA], default=None, return_dtype=pl.UInt8
        )
    )
    return dates.join(patients, on="patient", how="left", maintain_order="left").select(
        "patient", "pid", "baseline_date", "involved"
    )


def baseline_frame(before: pl.DataFrame, dates: pl.DataFrame) -> pl.DataFrame:
    """Baseline values, measurability and path per reported patient (latest value on or
    before the baseline date; ``before`` holds those assessments, sorted)."""
    values = before.group_by("pid", maintain_order=True).agg(
        [pl.col(m).drop_nulls().last().alias(f"{m}0") for m in BASE_MEASURES]
    )
    b = dates.join(values, on="pid", how="left", maintain_order="left")
    k0, l0 = pl.col("kappa0"), pl.col("lambda0")
    b = b.with_columns(
        pl.coalesce(
            pl.col("involved"),
            pl.when(k0.is_not_null() & l0.is_not_null()).then(
                pl.when(k0 >= l0).then(code_lit(KAPPA)).otherwise(code_lit(LAMBDA))
            ),
        ).alias("involved"),
        pl.when(k0.is_not_null() & l0.is_not_null() & (l0 > 0))
        .then(k0 / l0)
        .otherwise(pl.col("flc_ratio0"))
        .alias("ratio0"),
    )
    inv0 = pl.when(pl.col("involved") == KAPPA).then(k0).when(pl.col("involved") == LAMBDA).then(l0)
    d0 = (
        pl.when(pl.col("involved") == KAPPA)
        .then(k0 - l0)
        .when(pl.col("involved") == LAMBDA)
        .then(l0 - k0)
    )
    b = b.with_columns(inv0.alias("inv0"), d0.alias("dflc0"))
    ratio0 = pl.col("ratio0")
    b = b.with_columns(
        at_least(pl.col("serum_m0"), t.MEASURABLE_SERUM_M_G_DL).alias("s_meas"),
        at_least(pl.col("urine_m0"), t.MEASURABLE_URINE_M_MG_24H).alias("u_meas"),
        (
            at_least(pl.col("inv0"), t.MEASURABLE_INVOLVED_FLC_MG_L)
            & met((ratio0 < t.FLC_RATIO_NORMAL_LOW) | (ratio0 > t.FLC_RATIO_NORMAL_HIGH))
            & met(pl.col("dflc0") > 0)
        ).alias("flc_meas"),
        pl.any_horizontal(
            [pl.col(c).is_not_null() for c in ("serum_m0", "urine_m0", "dflc0", "marrow_pc0")]
        ).alias("has_any"),
    )
    return b.with_columns(
        pl.when(pl.col("s_meas") | pl.col("u_meas"))
        .then(code_lit(P_M))
        .when(pl.col("flc_meas"))
        .then(code_lit(P_FLC))
        .when(at_least(pl.col("marrow_pc0"), t.MARROW_PATH_MIN_BASELINE_PCT))
        .then(code_lit(P_MARROW))
        .otherwise(code_lit(P_NONE))
        .alias("path")
    )
