"""IMWG 2016 response engine for a registry, vectorised with polars.

The same rules as ``myelonav.clinical.imwg`` (Kumar et al., Lancet Oncol 2016;17:e328-46),
written as column expressions over a long table instead of a per-patient loop. Property tests
hold the two engines to the same answer on every generated case.

Input: a long table with columns ``patient``, ``date`` (Date), ``measure`` (one of
``MEASURES``) and ``value`` (Float64). Immunofixation, clonality and new lesions are coded
1.0 = positive/present, 0.0 = negative/absent. Units as in ``imwg.Assessment``. Optionally a
``baselines`` table with ``patient``, ``baseline_date`` and (optionally) ``involved``
("kappa"/"lambda"); without it the first date of each patient is the baseline and the involved
light chain is the larger at baseline.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from myelonav.clinical import thresholds as t
from myelonav.clinical.imwg import Missing
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


def _wide(long: pl.LazyFrame) -> pl.LazyFrame:
    aggs = [
        pl.col("value").filter(pl.col("measure") == m).last().alias(m) for m in MEASURES
    ]
    return long.group_by("patient", "date").agg(aggs).sort("patient", "date")


def _baseline_frame(wide: pl.LazyFrame, baselines: pl.LazyFrame | None) -> pl.LazyFrame:
    if baselines is None:
        dates = wide.group_by("patient").agg(pl.col("date").min().alias("baseline_date"))
        dates = dates.with_columns(pl.lit(None, dtype=pl.String).alias("involved"))
    else:
        dates = baselines
        if "involved" not in baselines.collect_schema().names():
            dates = dates.with_columns(pl.lit(None, dtype=pl.String).alias("involved"))
        dates = dates.select("patient", "baseline_date", pl.col("involved").cast(pl.String))
    before = wide.join(
        dates.select("patient", "baseline_date"), on="patient", maintain_order="left"
    ).filter(
        pl.col("date") <= pl.col("baseline_date")
    )
    values = before.group_by("patient").agg(
        [pl.col(m).drop_nulls().last().alias(f"{m}0") for m in _BASE_MEASURES]
    )
    b = dates.join(values, on="patient", how="left")
    k0, l0 = pl.col("kappa0"), pl.col("lambda0")
    b = b.with_columns(
        pl.coalesce(
            pl.col("involved"),
            pl.when(k0.is_not_null() & l0.is_not_null())
            .then(pl.when(k0 >= l0).then(pl.lit("kappa")).otherwise(pl.lit("lambda"))),
        ).alias("involved"),
        pl.when(k0.is_not_null() & l0.is_not_null() & (l0 > 0))
        .then(k0 / l0)
        .otherwise(pl.col("flc_ratio0"))
        .alias("ratio0"),
    )
    inv0 = pl.when(pl.col("involved") == "kappa").then(k0).when(
        pl.col("involved") == "lambda").then(l0)
    d0 = pl.when(pl.col("involved") == "kappa").then(k0 - l0).when(
        pl.col("involved") == "lambda").then(l0 - k0)
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
        .then(pl.lit("m_protein"))
        .when(pl.col("flc_meas"))
        .then(pl.lit("flc"))
        .when(_ge(pl.col("marrow_pc0"), t.MARROW_PATH_MIN_BASELINE_PCT))
        .then(pl.lit("marrow"))
        .otherwise(pl.lit("none"))
        .alias("path")
    )


# Rows are sorted by patient and date, so "the previous/next row of the same patient" is a
# global shift masked at patient boundaries, much cheaper than a window over each patient.
_FIRST_ROW = (pl.col("patient") != pl.col("patient").shift(1)).fill_null(True)
_LAST_ROW = (pl.col("patient") != pl.col("patient").shift(-1)).fill_null(True)


def _prev(expr: pl.Expr) -> pl.Expr:
    return pl.when(_FIRST_ROW).then(None).otherwise(expr.shift(1))


def _next(expr: pl.Expr) -> pl.Expr:
    return pl.when(_LAST_ROW).then(None).otherwise(expr.shift(-1))


def _nadir(value: str, base: str) -> pl.Expr:
    """Lowest of the baseline and every earlier assessment of the same patient (nulls skipped)."""
    running = pl.col(value).fill_null(float("inf")).cum_min().over("patient")
    prior = _prev(running)
    return pl.min_horizontal(pl.col(base), pl.when(prior < float("inf")).then(prior))


def _classify(rows: pl.LazyFrame) -> pl.LazyFrame:
    c = pl.col
    rows = rows.with_columns(
        pl.when(c("involved") == "kappa")
        .then(c("kappa") - c("lambda"))
        .when(c("involved") == "lambda")
        .then(c("lambda") - c("kappa"))
        .alias("dflc"),
        pl.when(c("kappa").is_not_null() & c("lambda").is_not_null() & (c("lambda") > 0))
        .then(c("kappa") / c("lambda"))
        .otherwise(c("flc_ratio"))
        .alias("ratio"),
    )
    rows = rows.with_columns(
        _nadir("serum_m", "serum_m0").alias("nadir_serum"),
        _nadir("urine_m", "urine_m0").alias("nadir_urine"),
        _nadir("dflc", "dflc0").alias("nadir_dflc"),
        _nadir("marrow_pc", "marrow_pc0").alias("nadir_marrow"),
        _nadir("plasmacytoma_spd", "plasmacytoma_spd0").alias("nadir_spd"),
    )
    fallback = (
        (c("path") == "m_protein")
        & ~c("s_meas")
        & c("u_meas")
        & c("urine_m").is_null()
        & c("flc_meas")
        & c("dflc").is_not_null()
    )
    rows = rows.with_columns(
        pl.when(fallback).then(pl.lit("flc_fallback")).otherwise(c("path")).alias("eff_path"),
        fallback.alias("fallback"),
    )
    is_flc = c("eff_path").is_in(["flc", "flc_fallback"])
    d_rise = c("dflc") - c("nadir_dflc")
    s_rise = c("serum_m") - c("nadir_serum")
    spd, nspd = c("plasmacytoma_spd"), c("nadir_spd")
    pd_rule = (
        pl.when(_rise_ok("serum_m", "nadir_serum", t.PD_SERUM_ABS_G_DL))
        .then(pl.lit("pd_serum"))
        .when(
            _t(
                (c("nadir_serum") >= t.PD_SERUM_HIGH_NADIR_G_DL - EPS)
                & (s_rise >= t.PD_SERUM_HIGH_NADIR_ABS_G_DL - EPS)
            )
        )
        .then(pl.lit("pd_serum_high_nadir"))
        .when(_rise_ok("urine_m", "nadir_urine", t.PD_URINE_ABS_MG_24H))
        .then(pl.lit("pd_urine"))
        .when(
            is_flc
            & _t(
                (d_rise > t.PD_DFLC_ABS_MG_L + EPS)
                & (d_rise >= t.PD_RELATIVE_RISE * pl.max_horizontal(c("nadir_dflc"), 0.0) - EPS)
            )
        )
        .then(pl.lit("pd_dflc"))
        .when(
            c("path").is_in(["marrow", "none"])
            & _rise_ok("marrow_pc", "nadir_marrow", t.PD_MARROW_ABS_PCT)
        )
        .then(pl.lit("pd_marrow"))
        .when(
            _t(
                ((nspd > 0) & (spd >= (1 + t.PD_PLASMACYTOMA_RISE) * nspd - EPS))
                | ((nspd <= 0) & (spd > 0))
            )
        )
        .then(pl.lit("pd_plasmacytoma"))
        .when(_t(c("new_lesion") == 1))
        .then(pl.lit("pd_new_lesion"))
    )
    rows = rows.with_columns(pd_rule.alias("pd_rule"))

    has_pc = _t(c("plasmacytoma_spd0") > 0)
    avail = (
        pl.when(c("path") == "m_protein")
        .then(
            pl.when(c("s_meas") & c("serum_m").is_null()).then(int(Missing.SERUM_M)).otherwise(0)
            | pl.when(c("u_meas") & c("urine_m").is_null() & ~c("fallback"))
            .then(
                pl.when(~c("s_meas") & c("flc_meas"))
                .then(int(Missing.URINE_M) | int(Missing.FLC))
                .otherwise(int(Missing.URINE_M))
            )
            .otherwise(0)
        )
        .when(c("path") == "flc")
        .then(pl.when(c("dflc").is_null()).then(int(Missing.FLC)).otherwise(0))
        .otherwise(pl.when(c("marrow_pc").is_null()).then(int(Missing.MARROW)).otherwise(0))
        | pl.when(has_pc & spd.is_null()).then(int(Missing.PLASMACYTOMA)).otherwise(0)
    )
    rows = rows.with_columns(avail.cast(pl.Int64).alias("avail_missing"))

    spd_red = pl.when(has_pc).then(_reduction("plasmacytoma_spd0", spd))
    pc_pr = ~has_pc | _ge(spd_red, t.PR_PLASMACYTOMA_REDUCTION)
    pc_mr = ~has_pc | _ge(spd_red, t.MR_PLASMACYTOMA_REDUCTION)
    pc_cr = ~has_pc | _t(spd <= 0)

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
    m_vgpr = m_pr & vgpr_serum & (_t(u < t.VGPR_URINE_MAX_MG_24H - EPS) | urine_not_followed)
    m_extra = pl.when((m_pr & vgpr_serum & urine_open) | (m_vgpr & urine_not_followed)).then(
        int(Missing.URINE_M)).otherwise(0)

    rd = _reduction("dflc0", c("dflc"))
    f_pr = _ge(rd, t.PR_DFLC_REDUCTION) & pc_pr
    f_vgpr = f_pr & _ge(rd, t.VGPR_DFLC_REDUCTION)
    f_extra = pl.when(c("fallback")).then(int(Missing.URINE_M)).otherwise(0)

    rb = _reduction("marrow_pc0", c("marrow_pc"))
    b_pr = _ge(rb, t.PR_MARROW_REDUCTION) & pc_pr
    b_vgpr = b_pr & _t(c("marrow_pc") < t.CR_MARROW_MAX_PCT - EPS)

    ep = c("eff_path")
    rows = rows.with_columns(
        pl.when(ep == "m_protein").then(m_pr).when(is_flc).then(f_pr).otherwise(b_pr)
        .alias("lv_pr"),
        pl.when(ep == "m_protein").then(m_vgpr).when(is_flc).then(f_vgpr).otherwise(b_vgpr)
        .alias("lv_vgpr"),
        pl.when(ep == "m_protein").then(m_mr).otherwise(False).alias("lv_mr"),
        pl.when(ep == "m_protein").then(m_extra).when(is_flc).then(f_extra).otherwise(0)
        .alias("lv_missing"),
        is_flc.alias("cr_needs_ratio"),
    )

    ratio_ok = pl.when(c("ratio").is_null()).then(None).otherwise(
        (c("ratio") >= t.FLC_RATIO_NORMAL_LOW) & (c("ratio") <= t.FLC_RATIO_NORMAL_HIGH)
    )
    rows = rows.with_columns(ratio_ok.alias("ratio_ok"))
    sife_pos, uife_pos = _t(c("serum_ife") == 1), _t(c("urine_ife") == 1)
    sife_neg, uife_neg = _t(c("serum_ife") == 0), _t(c("urine_ife") == 0)
    bm_low = _t(c("marrow_pc") < t.CR_MARROW_MAX_PCT - EPS)
    bm_high = _t(c("marrow_pc") >= t.CR_MARROW_MAX_PCT - EPS)
    needs = c("cr_needs_ratio")
    ratio_true, ratio_false = _t(c("ratio_ok")), _t(~c("ratio_ok"))
    blockers = sife_pos | uife_pos | bm_high | ~pc_cr | (needs & ratio_false)
    cr = c("lv_vgpr") & sife_neg & uife_neg & bm_low & pc_cr & (~needs | ratio_true)
    rows = rows.with_columns(cr.alias("is_cr"), blockers.alias("cr_blocked"))
    clonal_neg, clonal_pos = _t(c("marrow_clonal") == 0), _t(c("marrow_clonal") == 1)
    scr = c("is_cr") & ratio_true & clonal_neg
    cr_missing = pl.when(c("lv_vgpr") & ~c("is_cr") & ~c("cr_blocked")).then(
        pl.when(c("serum_ife").is_null()).then(int(Missing.SERUM_IFE)).otherwise(0)
        | pl.when(c("urine_ife").is_null()).then(int(Missing.URINE_IFE)).otherwise(0)
        | pl.when(c("marrow_pc").is_null()).then(int(Missing.MARROW)).otherwise(0)
        | pl.when(needs & c("ratio_ok").is_null()).then(int(Missing.FLC)).otherwise(0)
    ).otherwise(0)
    scr_missing = pl.when(c("is_cr") & ~scr & ~ratio_false & ~clonal_pos).then(
        pl.when(c("ratio_ok").is_null()).then(int(Missing.FLC)).otherwise(0)
        | pl.when(c("marrow_clonal").is_null()).then(int(Missing.CLONALITY)).otherwise(0)
    ).otherwise(0)
    rows = rows.with_columns(scr.alias("is_scr"), (cr_missing | scr_missing).alias("cr_missing"))

    level_rank = (
        pl.when(c("is_scr")).then(_SCR)
        .when(c("is_cr")).then(_CR)
        .when(c("lv_vgpr") & (ep != "marrow")).then(_VGPR)
        .when(c("lv_pr")).then(_PR)
        .when(c("lv_mr")).then(_MR)
        .otherwise(_SD)
    )
    level_rule = (
        pl.when(c("is_scr")).then(pl.lit("scr"))
        .when(c("is_cr")).then(pl.lit("cr"))
        .when(c("lv_vgpr") & (ep != "marrow"))
        .then(pl.when(is_flc).then(pl.lit("vgpr_flc")).otherwise(pl.lit("vgpr")))
        .when(c("lv_pr"))
        .then(
            pl.when(is_flc).then(pl.lit("pr_flc"))
            .when(ep == "marrow").then(pl.lit("pr_marrow"))
            .otherwise(pl.lit("pr"))
        )
        .when(c("lv_mr")).then(pl.lit("mr"))
        .otherwise(pl.lit("sd"))
    )
    no_base = ~c("has_any")
    not_meas = c("path") == "none"
    has_avail_missing = c("avail_missing") != 0
    rank = (
        pl.when(c("pd_rule").is_not_null()).then(_PD)
        .when(no_base | not_meas | has_avail_missing).then(_NE)
        .otherwise(level_rank)
    )
    rule = (
        pl.when(c("pd_rule").is_not_null()).then(c("pd_rule"))
        .when(no_base).then(pl.lit("ne_no_baseline"))
        .when(not_meas).then(pl.lit("ne_not_measurable"))
        .when(has_avail_missing).then(pl.lit("ne_missing"))
        .otherwise(level_rule)
    )
    missing = (
        pl.when(c("pd_rule").is_not_null()).then(0)
        .when(no_base).then(int(Missing.BASELINE))
        .when(not_meas).then(0)
        .when(has_avail_missing).then(c("avail_missing"))
        .otherwise(c("lv_missing") | c("cr_missing"))
    )
    rows = rows.with_columns(
        rank.cast(pl.Int8).alias("rank"),
        rule.alias("rule"),
        missing.cast(pl.Int64).alias("missing"),
    )
    signal = (
        (c("rank") == _PD)
        | sife_pos
        | uife_pos
        | _t(c("serum_m") > 0)
        | _t(c("urine_m") > 0)
        | bm_high
        | _t(c("new_lesion") == 1)
    )
    prior_cr = _prev(c("rank").is_in([_CR, _SCR]).cast(pl.Int8).cum_max().over("patient")) == 1
    prior_cr = prior_cr.fill_null(False)
    return rows.with_columns((prior_cr & signal).alias("relapse_from_cr"))


def _summaries(rows: pl.LazyFrame, base: pl.LazyFrame) -> pl.LazyFrame:
    c = pl.col
    ev = rows.filter(c("rank") != _NE).select("patient", "date", "rank")
    ev = ev.with_columns(_next(c("rank")).alias("next_rank"))
    prog = ev.group_by("patient").agg(
        c("date").filter((c("rank") == _PD) & (c("next_rank") == _PD)).min().alias(
            "progression_date"),
        c("rank").last().alias("last_rank"),
        c("date").last().alias("last_date"),
    )
    before = ev.join(
        prog.select("patient", "progression_date"), on="patient", maintain_order="left"
    ).filter(
        c("progression_date").is_null() | (c("date") < c("progression_date"))
    )
    before = before.with_columns(_next(c("rank")).alias("pair_next"))
    before = before.with_columns(
        pl.when(c("pair_next").is_not_null())
        .then(pl.min_horizontal("rank", "pair_next"))
        .alias("pair_min")
    )
    best = before.group_by("patient").agg(
        c("pair_min").max().alias("best_rank"),
        c("date").filter(c("pair_min") == c("pair_min").max()).min().alias("best_response_date"),
        c("rank").max().alias("best_unconfirmed_rank"),
    )
    relapse = rows.group_by("patient").agg(
        c("date").filter(c("relapse_from_cr")).min().alias("relapse_from_cr_date")
    )
    window = rows.join(
        prog.select("patient", "progression_date"), on="patient", how="left", maintain_order="left"
    )
    window = window.filter(c("progression_date").is_null() | (c("date") < c("progression_date")))
    nadirs = window.group_by("patient").agg(
        c("serum_m").min().alias("w_serum"),
        c("urine_m").min().alias("w_urine"),
        c("dflc").min().alias("w_dflc"),
    )
    out = (
        base.select("patient", "baseline_date", "path", "serum_m0", "urine_m0", "dflc0")
        .join(prog, on="patient", how="left")
        .join(best, on="patient", how="left")
        .join(relapse, on="patient", how="left")
        .join(nadirs, on="patient", how="left")
    )
    return out.select(
        "patient",
        "baseline_date",
        "path",
        c("best_rank"),
        "best_response_date",
        c("best_unconfirmed_rank"),
        "progression_date",
        pl.when(c("progression_date").is_null() & (c("last_rank") == _PD))
        .then(c("last_date"))
        .alias("pending_progression_date"),
        "relapse_from_cr_date",
        pl.min_horizontal("serum_m0", "w_serum").alias("nadir_serum"),
        pl.min_horizontal("urine_m0", "w_urine").alias("nadir_urine"),
        pl.min_horizontal("dflc0", "w_dflc").alias("nadir_dflc"),
    )


def evaluate_cohort(
    long: pl.DataFrame | pl.LazyFrame, baselines: pl.DataFrame | pl.LazyFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per-assessment results and per-patient summaries for a registry (IMWG 2016).

    Returns ``(assessments, patients)``. ``assessments`` has one row per patient and date after
    the baseline with ``rank`` (``RESPONSE_ORDER``; 0 = NE), ``category``, ``rule``, ``missing``
    (``imwg.Missing`` bits), the prior nadirs and ``relapse_from_cr``. ``patients`` has the
    baseline path, confirmed best response, progression date and nadirs.
    """
    lf = long.lazy()
    names = lf.collect_schema().names()
    for col in ("patient", "date", "measure", "value"):
        if col not in names:
            raise InputError(f"the long table needs a {col!r} column", location=col)
    lf = lf.with_columns(pl.col("value").cast(pl.Float64), pl.col("measure").cast(pl.String))
    # Materialising the stages keeps polars from re-planning shared subqueries.
    wide = _wide(lf).collect().lazy()
    base = _baseline_frame(wide, None if baselines is None else baselines.lazy()).collect().lazy()
    rows = wide.join(base, on="patient", maintain_order="left").filter(
        pl.col("date") > pl.col("baseline_date")
    )
    rows = _classify(rows).collect().lazy()
    categories = pl.Series([CATEGORY_BY_RANK[r].value for r in range(8)], dtype=pl.String)
    assessments = rows.select(
        "patient",
        "date",
        "rank",
        pl.col("rank")
        .replace_strict(list(range(8)), categories.to_list(), return_dtype=pl.String)
        .alias("category"),
        "rule",
        "eff_path",
        "missing",
        "nadir_serum",
        "nadir_urine",
        "nadir_dflc",
        "relapse_from_cr",
    )
    summary = _summaries(rows, base)
    assessments_df, summary_df = pl.collect_all([assessments, summary])
    return assessments_df, summary_df.sort("patient")


def category_of(rank: int | None) -> ResponseCategory | None:
    return None if rank is None else CATEGORY_BY_RANK[rank]


__all__ = ["CATEGORY_BY_RANK", "MEASURES", "category_of", "evaluate_cohort"]
