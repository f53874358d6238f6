"""Small polars expression helpers shared by the baseline and classification stages."""

from __future__ import annotations

import polars as pl

from myelonav.clinical import thresholds as t
from myelonav.clinical.cohort._codes import EPS


def met(expr: pl.Expr) -> pl.Expr:
    """A condition where unknown (null) counts as not met, like the scalar engine's checks."""
    return expr.fill_null(False)


def at_least(x: pl.Expr, threshold: float) -> pl.Expr:
    return met(x >= threshold - EPS)


def reduction(base: str, value: pl.Expr) -> pl.Expr:
    return pl.when(pl.col(base) > 0).then((pl.col(base) - value) / pl.col(base))


def rise_ok(value: str, nadir: str, floor: float) -> pl.Expr:
    rise = pl.col(value) - pl.col(nadir)
    return met((rise >= floor - EPS) & (rise >= t.PD_RELATIVE_RISE * pl.col(nadir) - EPS))


def code_lit(code: int) -> pl.Expr:
    return pl.lit(code, dtype=pl.UInt8)
