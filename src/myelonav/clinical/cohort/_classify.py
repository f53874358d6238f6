"""IMWG classification of each assessment as staged column expressions, and relapse from CR."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from myelonav.clinical import thresholds as t
from myelonav.clinical.cohort._baseline import unpack_kind
from myelonav.clinical.cohort._codes import (
    CR,
    EPS,
    MR,
    NE,
    P_FB,
    P_FLC,
    P_M,
    P_MARROW,
    P_NONE,
    PD,
    PR,
    RULE_CODE,
    SCR,
    SD,
    VGPR,
)
from myelonav.clinical.cohort._exprs import at_least, code_lit, met, reduction, rise_ok
from myelonav.clinical.imwg import Missing


def _classify_stages() -> list[list[pl.Expr]]:
    """Elementwise stages: each names columns the later stages read (computed once per row).

    Ends with rank (Int8), ``_rule`` and ``_ep`` codes, missing bits and the relapse signal.
    """
    c = pl.col
    path = c("path")
    fallback = (
        (path == P_M)
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
    has_pc = met(c("plasmacytoma_spd0") > 0)
    spd = c("plasmacytoma_spd")
    stage_a = [
        fallback.alias("_fb"),
        pl.when(fallback).then(code_lit(P_FB)).otherwise(path).alias("_ep"),
        ((path == P_FLC) | fallback).alias("_flc"),
        pl.when(ratio.is_null())
        .then(None)
        .otherwise((ratio >= t.FLC_RATIO_NORMAL_LOW) & (ratio <= t.FLC_RATIO_NORMAL_HIGH))
        .alias("_ratio_ok"),
        has_pc.alias("_has_pc"),
    ]

    ep, is_flc, fb, ratio_ok, has_pc = c("_ep"), c("_flc"), c("_fb"), c("_ratio_ok"), c("_has_pc")
    d_rise = c("dflc") - c("nadir_dflc")
    s_rise = c("serum_m") - c("nadir_serum")
    nspd = c("nadir_spd")
    pd_rule = (
        pl.when(rise_ok("serum_m", "nadir_serum", t.PD_SERUM_ABS_G_DL))
        .then(code_lit(RULE_CODE["pd_serum"]))
        .when(
            met(
                (c("nadir_serum") >= t.PD_SERUM_HIGH_NADIR_G_DL - EPS)
                & (s_rise >= t.PD_SERUM_HIGH_NADIR_ABS_G_DL - EPS)
            )
        )
        .then(code_lit(RULE_CODE["pd_serum_high_nadir"]))
        .when(rise_ok("urine_m", "nadir_urine", t.PD_URINE_ABS_MG_24H))
        .then(code_lit(RULE_CODE["pd_urine"]))
        .when(
            is_flc
            & met(
                (d_rise > t.PD_DFLC_ABS_MG_L + EPS)
                & (d_rise >= t.PD_RELATIVE_RISE * pl.max_horizontal(c("nadir_dflc"), 0.0) - EPS)
            )
        )
        .then(code_lit(RULE_CODE["pd_dflc"]))
        .when(
            ((path == P_MARROW) | (path == P_NONE))
            & rise_ok("marrow_pc", "nadir_marrow", t.PD_MARROW_ABS_PCT)
        )
        .then(code_lit(RULE_CODE["pd_marrow"]))
        .when(
            met(
                ((nspd > 0) & (spd >= (1 + t.PD_PLASMACYTOMA_RISE) * nspd - EPS))
                | ((nspd <= 0) & (spd > 0))
            )
        )
        .then(code_lit(RULE_CODE["pd_plasmacytoma"]))
        .when(met(c("new_lesion") == 1))
        .then(code_lit(RULE_CODE["pd_new_lesion"]))
    )
    path_missing = (
        pl.when(path == P_M)
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
        .when(path == P_FLC)
        .then(pl.when(c("dflc").is_null()).then(int(Missing.FLC)).otherwise(0))
        .otherwise(pl.when(c("marrow_pc").is_null()).then(int(Missing.MARROW)).otherwise(0))
    )
    plasmacytoma_missing = (
        pl.when(has_pc & spd.is_null()).then(int(Missing.PLASMACYTOMA)).otherwise(0)
    )
    avail = path_missing | plasmacytoma_missing
    spd_red = pl.when(has_pc).then(reduction("plasmacytoma_spd0", spd))
    stage_b = [
        pd_rule.alias("_pd"),
        avail.alias("_avail"),
        (~has_pc | at_least(spd_red, t.PR_PLASMACYTOMA_REDUCTION)).alias("_pc_pr"),
        (~has_pc | at_least(spd_red, t.MR_PLASMACYTOMA_REDUCTION)).alias("_pc_mr"),
        (~has_pc | met(spd <= 0)).alias("_pc_cr"),
    ]

    pc_pr, pc_mr, pc_cr = c("_pc_pr"), c("_pc_mr"), c("_pc_cr")
    s, u = c("serum_m"), c("urine_m")
    rs = reduction("serum_m0", s)
    ru = reduction("urine_m0", u)
    m_pr = (
        (~c("s_meas") | at_least(rs, t.PR_SERUM_REDUCTION))
        & (
            ~c("u_meas")
            | at_least(ru, t.PR_URINE_REDUCTION)
            | met(u < t.PR_URINE_ABSOLUTE_MG_24H - EPS)
        )
        & pc_pr
    )
    m_mr = (
        (~c("s_meas") | at_least(rs, t.MR_SERUM_REDUCTION))
        & (~c("u_meas") | at_least(ru, t.MR_URINE_REDUCTION))
        & pc_mr
    )
    vgpr_serum = met(s <= 0) | at_least(rs, t.VGPR_SERUM_REDUCTION) | (s.is_null() & ~c("s_meas"))
    urine_not_followed = u.is_null() & c("urine_m0").is_null()
    urine_open = u.is_null() & c("urine_m0").is_not_null()
    m_vgpr_urine = met(u < t.VGPR_URINE_MAX_MG_24H - EPS) | urine_not_followed
    m_extra = (
        pl.when((c("_m_pr_s") & urine_open) | (c("_m_pr_s") & m_vgpr_urine & urine_not_followed))
        .then(int(Missing.URINE_M))
        .otherwise(0)
    )

    rd = reduction("dflc0", c("dflc"))
    f_pr = at_least(rd, t.PR_DFLC_REDUCTION) & pc_pr
    f_vgpr = f_pr & at_least(rd, t.VGPR_DFLC_REDUCTION)
    f_extra = pl.when(fb).then(int(Missing.URINE_M)).otherwise(0)

    rb = reduction("marrow_pc0", c("marrow_pc"))
    b_pr = at_least(rb, t.PR_MARROW_REDUCTION) & pc_pr
    b_vgpr = b_pr & met(c("marrow_pc") < t.CR_MARROW_MAX_PCT - EPS)

    is_m = ep == P_M
    stage_c = [(m_pr & vgpr_serum).alias("_m_pr_s"), m_pr.alias("_m_pr")]
    stage_d = [
        pl.when(is_m).then(c("_m_pr")).when(is_flc).then(f_pr).otherwise(b_pr).alias("_lv_pr"),
        pl.when(is_m)
        .then(c("_m_pr_s") & m_vgpr_urine)
        .when(is_flc)
        .then(f_vgpr)
        .otherwise(b_vgpr)
        .alias("_lv_vgpr"),
        pl.when(is_m).then(m_mr).otherwise(False).alias("_lv_mr"),
        pl.when(is_m).then(m_extra).when(is_flc).then(f_extra).otherwise(0).alias("_lv_missing"),
    ]

    lv_vgpr = c("_lv_vgpr")
    needs = is_flc
    sife_pos, uife_pos = met(c("serum_ife") == 1), met(c("urine_ife") == 1)
    sife_neg, uife_neg = met(c("serum_ife") == 0), met(c("urine_ife") == 0)
    bm_low = met(c("marrow_pc") < t.CR_MARROW_MAX_PCT - EPS)
    bm_high = met(c("marrow_pc") >= t.CR_MARROW_MAX_PCT - EPS)
    ratio_true, ratio_false = met(ratio_ok), met(~ratio_ok)
    stage_e = [
        (sife_pos | uife_pos | bm_high | ~pc_cr | (needs & ratio_false)).alias("_blocked"),
        (lv_vgpr & sife_neg & uife_neg & bm_low & pc_cr & (~needs | ratio_true)).alias("_cr"),
        bm_high.alias("_bm_high"),
    ]

    is_cr, blockers = c("_cr"), c("_blocked")
    clonal_neg, clonal_pos = met(c("marrow_clonal") == 0), met(c("marrow_clonal") == 1)
    stage_f = [(is_cr & ratio_true & clonal_neg).alias("_scr")]

    is_scr = c("_scr")
    cr_missing = (
        pl.when(lv_vgpr & ~is_cr & ~blockers)
        .then(
            pl.when(c("serum_ife").is_null()).then(int(Missing.SERUM_IFE)).otherwise(0)
            | pl.when(c("urine_ife").is_null()).then(int(Missing.URINE_IFE)).otherwise(0)
            | pl.when(c("marrow_pc").is_null()).then(int(Missing.MARROW)).otherwise(0)
            | pl.when(needs & ratio_ok.is_null()).then(int(Missing.FLC)).otherwise(0)
        )
        .otherwise(0)
    )
    scr_missing = (
        pl.when(is_cr & ~is_scr & ~ratio_false & ~clonal_pos)
        .then(
            pl.when(ratio_ok.is_null()).then(int(Missing.FLC)).otherwise(0)
            | pl.when(c("marrow_clonal").is_null()).then(int(Missing.CLONALITY)).otherwise(0)
        )
        .otherwise(0)
    )
    lv_pr, lv_mr = c("_lv_pr"), c("_lv_mr")
    vgpr_level = lv_vgpr & (ep != P_MARROW)
    level_rank = (
        pl.when(is_scr)
        .then(SCR)
        .when(is_cr)
        .then(CR)
        .when(vgpr_level)
        .then(VGPR)
        .when(lv_pr)
        .then(PR)
        .when(lv_mr)
        .then(MR)
        .otherwise(SD)
    )
    level_rule = (
        pl.when(is_scr)
        .then(code_lit(RULE_CODE["scr"]))
        .when(is_cr)
        .then(code_lit(RULE_CODE["cr"]))
        .when(vgpr_level)
        .then(
            pl.when(is_flc)
            .then(code_lit(RULE_CODE["vgpr_flc"]))
            .otherwise(code_lit(RULE_CODE["vgpr"]))
        )
        .when(lv_pr)
        .then(
            pl.when(is_flc)
            .then(code_lit(RULE_CODE["pr_flc"]))
            .when(ep == P_MARROW)
            .then(code_lit(RULE_CODE["pr_marrow"]))
            .otherwise(code_lit(RULE_CODE["pr"]))
        )
        .when(lv_mr)
        .then(code_lit(RULE_CODE["mr"]))
        .otherwise(code_lit(RULE_CODE["sd"]))
    )
    no_base = ~c("has_any")
    not_meas = path == P_NONE
    has_pd = c("_pd").is_not_null()
    has_avail_missing = c("_avail") != 0
    rank = (
        pl.when(has_pd)
        .then(PD)
        .when(no_base | not_meas | has_avail_missing)
        .then(NE)
        .otherwise(level_rank)
    )
    rule = (
        pl.when(has_pd)
        .then(c("_pd"))
        .when(no_base)
        .then(code_lit(RULE_CODE["ne_no_baseline"]))
        .when(not_meas)
        .then(code_lit(RULE_CODE["ne_not_measurable"]))
        .when(has_avail_missing)
        .then(code_lit(RULE_CODE["ne_missing"]))
        .otherwise(level_rule)
    )
    missing = (
        pl.when(has_pd)
        .then(0)
        .when(no_base)
        .then(int(Missing.BASELINE))
        .when(not_meas)
        .then(0)
        .when(has_avail_missing)
        .then(c("_avail"))
        .otherwise(c("_lv_missing") | cr_missing | scr_missing)
    )
    signal = (
        has_pd
        | sife_pos
        | uife_pos
        | met(c("serum_m") > 0)
        | met(c("urine_m") > 0)
        | c("_bm_high")
        | met(c("new_lesion") == 1)
    )
    stage_g = [
        rank.cast(pl.Int8).alias("rank"),
        rule.alias("_rule"),
        missing.cast(pl.UInt16).alias("missing"),
        signal.alias("_signal"),
    ]
    return [unpack_kind(), stage_a, stage_b, stage_c, stage_d, stage_e, stage_f, stage_g]


def classify(rows: pl.DataFrame, first: npt.NDArray[np.int64]) -> pl.DataFrame:
    staged = rows.lazy()
    for stage in _classify_stages():
        staged = staged.with_columns(stage)
    out = staged.select(
        "pid",
        "date",
        "rank",
        "_rule",
        "_ep",
        "missing",
        "_signal",
        "nadir_serum",
        "nadir_urine",
        "nadir_dflc",
        "serum_m",
        "urine_m",
        "dflc",
    ).collect(engine="streaming")
    # Relapse from CR: a signal after an earlier CR or sCR of the same patient.
    rank = out["rank"].to_numpy()
    is_cr = (rank == CR) | (rank == SCR)
    crs_before = np.cumsum(is_cr, dtype=np.int64) - is_cr
    prior_cr = crs_before > crs_before[first]
    return out.with_columns(
        (pl.Series(prior_cr) & pl.col("_signal")).alias("relapse_from_cr")
    ).drop("_signal")
