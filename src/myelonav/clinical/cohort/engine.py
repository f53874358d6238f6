"""``evaluate_cohort``: the stages of the cohort engine, in order."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Literal

import numpy as np
import polars as pl

from myelonav.clinical.cohort import _fast
from myelonav.clinical.cohort._baseline import ROW_BASE, baseline_dates, baseline_frame, pack_kind
from myelonav.clinical.cohort._classify import classify
from myelonav.clinical.cohort._codes import (
    CATEGORY_BY_RANK,
    CATEGORY_ENUM,
    KAPPA,
    LAMBDA,
    PATH_ENUM,
    PATHS,
    RULE_ENUM,
    RULE_NAMES,
)
from myelonav.clinical.cohort._nadir import prior_nadirs
from myelonav.clinical.cohort._reshape import Layout, compact_long, scatter
from myelonav.clinical.cohort._runs import positions
from myelonav.clinical.cohort._summaries import patient_summaries
from myelonav.errors import InputError


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


Engine = Literal["auto", "kernel", "polars"]


def evaluate_cohort(
    long: pl.DataFrame | pl.LazyFrame,
    baselines: pl.DataFrame | pl.LazyFrame | None = None,
    *,
    engine: Engine = "auto",
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per-assessment results and per-patient summaries for a registry (IMWG 2016).

    Returns ``(assessments, patients)``. ``assessments`` has one row per patient and date after
    the baseline, sorted by patient and date, with ``rank`` (``RESPONSE_ORDER``; 0 = NE),
    ``category`` (``CATEGORY_ENUM``), ``rule`` (``RULE_ENUM``, codes of ``imwg.RULES``),
    ``eff_path`` (``PATH_ENUM``), ``missing`` (``imwg.Missing`` bits), the prior nadirs and
    ``relapse_from_cr``. ``patients`` has the baseline path, confirmed best response,
    progression date and nadirs, one row per patient (of ``baselines`` when given).

    ``engine``: "kernel" is the compiled one-pass kernel (needs numba and a Date/Datetime
    ``date``), "polars" the staged column expressions; "auto" takes the kernel when it can.
    Both give identical frames.
    """
    use_kernel = engine == "kernel" or (engine == "auto" and _fast.usable(long))
    if use_kernel and not _fast.usable(long):
        raise InputError(
            "the compiled cohort kernel needs numba and a Date or Datetime 'date' column",
            location="date",
        )
    with _no_huge_page_advice():
        return _fast.evaluate(long, baselines) if use_kernel else _evaluate(long, baselines)


def _evaluate(
    long: pl.DataFrame | pl.LazyFrame, baselines: pl.DataFrame | pl.LazyFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    compact = compact_long(long)
    lay = Layout(compact)
    dates = baseline_dates(lay, baselines)
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
    rows, before = scatter(
        compact, lay, (lay.date > bd_of).fill_null(False), (lay.date <= bd_of).fill_null(False)
    )
    del compact, bd_of
    base = baseline_frame(before, dates)
    del before

    # Broadcast each patient's baseline to its assessments after the baseline date.
    by_pid = pl.DataFrame({"pid": np.arange(n_pids, dtype=np.uint32)}).join(
        base.filter(pl.col("pid").is_not_null()).select("pid", *ROW_BASE, pack_kind()),
        on="pid",
        how="left",
        maintain_order="left",
    )
    at = rows["pid"]
    rows = rows.with_columns(
        [
            by_pid[name].gather(at)
            if by_pid[name].null_count() < n_pids
            else pl.repeat(None, rows.height, dtype=pl.Float64, eager=True).alias(name)
            for name in ROW_BASE
        ]
        + [by_pid["kind"].gather(at)]
    )
    inv = pl.col("kind") // (1 << 7)
    rows = rows.with_columns(
        pl.when(inv == KAPPA)
        .then(pl.col("kappa") - pl.col("lambda"))
        .when(inv == LAMBDA)
        .then(pl.col("lambda") - pl.col("kappa"))
        .alias("dflc")
    )
    first, pos = positions(rows["pid"].to_numpy())
    rows = rows.with_columns(prior_nadirs(rows, pos))
    rows = rows.with_columns(pl.col("pid").set_sorted())
    classified = classify(rows, first)
    del rows
    summary = patient_summaries(classified, base, n_pids)

    categories = pl.Series(
        [CATEGORY_BY_RANK[r].value for r in range(len(CATEGORY_BY_RANK))], dtype=CATEGORY_ENUM
    )
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
