"""One pass per patient over the sorted long table: baseline, classification, nadirs, summary.

The same rules as ``imwg.classify`` and ``imwg._summarise``, written as a loop over a patient's
rows so numba can compile it; it replaces the reshape, nadir, classification and summary stages
when numba is installed. Missing values are NaN (inputs are never NaN); the arithmetic is the
scalar engine's, operation for operation, so the floating-point results are identical.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from myelonav.clinical import thresholds as t
from myelonav.clinical.cohort._codes import (
    CR,
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
from myelonav.clinical.imwg import Missing

numba: Any
try:
    import numba

    HAVE_NUMBA = True
except ImportError:  # the polars stages run instead
    numba = None
    HAVE_NUMBA = False

NO_DATE: Final = np.iinfo(np.int64).min  # "no baseline date" (input) / "no date" (output)

# Plain module constants: numba freezes them into the compiled code.
_EPS = t.EPS
_MEAS_S = t.MEASURABLE_SERUM_M_G_DL
_MEAS_U = t.MEASURABLE_URINE_M_MG_24H
_MEAS_FLC = t.MEASURABLE_INVOLVED_FLC_MG_L
_R_LOW = t.FLC_RATIO_NORMAL_LOW
_R_HIGH = t.FLC_RATIO_NORMAL_HIGH
_BM_PATH = t.MARROW_PATH_MIN_BASELINE_PCT
_PR_S = t.PR_SERUM_REDUCTION
_PR_U = t.PR_URINE_REDUCTION
_PR_U_ABS = t.PR_URINE_ABSOLUTE_MG_24H
_PR_D = t.PR_DFLC_REDUCTION
_PR_BM = t.PR_MARROW_REDUCTION
_PR_PC = t.PR_PLASMACYTOMA_REDUCTION
_VGPR_S = t.VGPR_SERUM_REDUCTION
_VGPR_U_MAX = t.VGPR_URINE_MAX_MG_24H
_VGPR_D = t.VGPR_DFLC_REDUCTION
_MR_S = t.MR_SERUM_REDUCTION
_MR_U = t.MR_URINE_REDUCTION
_MR_PC = t.MR_PLASMACYTOMA_REDUCTION
_CR_BM = t.CR_MARROW_MAX_PCT
_PD_REL = t.PD_RELATIVE_RISE
_PD_S = t.PD_SERUM_ABS_G_DL
_PD_S_HIGH = t.PD_SERUM_HIGH_NADIR_G_DL
_PD_S_HIGH_ABS = t.PD_SERUM_HIGH_NADIR_ABS_G_DL
_PD_U = t.PD_URINE_ABS_MG_24H
_PD_D = t.PD_DFLC_ABS_MG_L
_PD_BM = t.PD_MARROW_ABS_PCT
_PD_PC = t.PD_PLASMACYTOMA_RISE

_M_SERUM = int(Missing.SERUM_M)
_M_URINE = int(Missing.URINE_M)
_M_FLC = int(Missing.FLC)
_M_SIFE = int(Missing.SERUM_IFE)
_M_UIFE = int(Missing.URINE_IFE)
_M_MARROW = int(Missing.MARROW)
_M_CLON = int(Missing.CLONALITY)
_M_PC = int(Missing.PLASMACYTOMA)
_M_BASE = int(Missing.BASELINE)

_R_PD_SERUM = RULE_CODE["pd_serum"]
_R_PD_SERUM_HIGH = RULE_CODE["pd_serum_high_nadir"]
_R_PD_URINE = RULE_CODE["pd_urine"]
_R_PD_DFLC = RULE_CODE["pd_dflc"]
_R_PD_MARROW = RULE_CODE["pd_marrow"]
_R_PD_PC = RULE_CODE["pd_plasmacytoma"]
_R_PD_LESION = RULE_CODE["pd_new_lesion"]
_R_SCR = RULE_CODE["scr"]
_R_CR = RULE_CODE["cr"]
_R_VGPR = RULE_CODE["vgpr"]
_R_VGPR_FLC = RULE_CODE["vgpr_flc"]
_R_PR = RULE_CODE["pr"]
_R_PR_FLC = RULE_CODE["pr_flc"]
_R_PR_MARROW = RULE_CODE["pr_marrow"]
_R_MR = RULE_CODE["mr"]
_R_SD = RULE_CODE["sd"]
_R_NE_MISSING = RULE_CODE["ne_missing"]
_R_NE_NOT_MEAS = RULE_CODE["ne_not_measurable"]
_R_NE_NO_BASE = RULE_CODE["ne_no_baseline"]

# Measure codes (index in ``MEASURES``).
_S, _U, _K, _L, _RATIO, _SIFE, _UIFE, _BM, _CLON, _SPD, _NEWL = range(11)


def _jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    if numba is None:
        return fn
    compiled: Callable[..., Any] = numba.njit(cache=True, nogil=True)(fn)
    return compiled


def _count_assessments(p_start: Any, date: Any, bd: Any) -> int:
    """Assessments (distinct dates) after each patient's baseline date, in total."""
    n = 0
    for p in range(len(p_start) - 1):
        b = bd[p]
        if b == NO_DATE:
            continue
        lo, hi = p_start[p], p_start[p + 1]
        for i in range(lo, hi):
            if date[i] > b and (i == lo or date[i] != date[i - 1]):
                n += 1
    return n


def _rise_ok(value: float, nadir: float, floor: float) -> bool:
    rise = value - nadir
    return rise >= floor - _EPS and rise >= _PD_REL * nadir - _EPS


def _reduction(base: float, value: float) -> float:
    if np.isnan(base) or np.isnan(value) or base <= 0:
        return np.nan
    return (base - value) / base


def _evaluate_block(
    p_start: Any,
    date: Any,
    code: Any,
    value: Any,
    bd: Any,
    involved_in: Any,
    o_pid: Any,
    o_date: Any,
    o_rank: Any,
    o_rule: Any,
    o_ep: Any,
    o_missing: Any,
    o_ns: Any,
    o_nu: Any,
    o_nd: Any,
    o_relapse: Any,
    s_path: Any,
    s_best: Any,
    s_best_date: Any,
    s_unconf: Any,
    s_prog: Any,
    s_pending: Any,
    s_relapse: Any,
    s_low: Any,
) -> None:
    a = np.empty(11)
    row = 0
    for p in range(len(p_start) - 1):
        lo, hi = p_start[p], p_start[p + 1]
        b = bd[p]
        s0 = u0 = k0 = l0 = rg0 = bm0 = spd0 = np.nan
        i = lo
        if b == NO_DATE:
            i = hi  # not reported: no baseline, no assessments
        while i < hi and date[i] <= b:
            c, v = code[i], value[i]
            if c == _S:
                s0 = v
            elif c == _U:
                u0 = v
            elif c == _K:
                k0 = v
            elif c == _L:
                l0 = v
            elif c == _RATIO:
                rg0 = v
            elif c == _BM:
                bm0 = v
            elif c == _SPD:
                spd0 = v
            i += 1
        both0 = not np.isnan(k0) and not np.isnan(l0)
        inv = involved_in[p]
        if inv < 0 and both0:
            inv = 0 if k0 >= l0 else 1
        ratio0 = k0 / l0 if (both0 and l0 > 0) else rg0
        d0 = np.nan
        inv0 = np.nan
        if inv >= 0 and both0:
            d0 = k0 - l0 if inv == 0 else l0 - k0
            inv0 = k0 if inv == 0 else l0
        s_meas = s0 >= _MEAS_S - _EPS
        u_meas = u0 >= _MEAS_U - _EPS
        flc_meas = inv0 >= _MEAS_FLC - _EPS and (ratio0 < _R_LOW or ratio0 > _R_HIGH) and d0 > 0
        if s_meas or u_meas:
            path = P_M
        elif flc_meas:
            path = P_FLC
        elif bm0 >= _BM_PATH - _EPS:
            path = P_MARROW
        else:
            path = P_NONE
        has_any = not (np.isnan(s0) and np.isnan(u0) and np.isnan(d0) and np.isnan(bm0))
        has_pc = spd0 > 0
        s_path[p] = path
        ns, nu, nd, nm, nspd = s0, u0, d0, bm0, spd0
        prior_cr = False
        r0 = row
        while i < hi:
            day = date[i]
            a[:] = np.nan
            while i < hi and date[i] == day:
                a[code[i]] = value[i]
                i += 1
            sv, uv, kv, lv = a[_S], a[_U], a[_K], a[_L]
            bmv, spdv = a[_BM], a[_SPD]
            sife, uife, clon, newl = a[_SIFE], a[_UIFE], a[_CLON], a[_NEWL]
            both = not np.isnan(kv) and not np.isnan(lv)
            dflc = np.nan
            if inv >= 0 and both:
                dflc = kv - lv if inv == 0 else lv - kv
            ratio = kv / lv if (both and lv > 0) else a[_RATIO]
            fallback = (
                path == P_M
                and not s_meas
                and u_meas
                and np.isnan(uv)
                and flc_meas
                and not np.isnan(dflc)
            )
            ep = P_FB if fallback else path
            is_flc = path == P_FLC or fallback

            pd = -1
            if not np.isnan(sv) and not np.isnan(ns):
                if _rise_ok(sv, ns, _PD_S):
                    pd = _R_PD_SERUM
                elif ns >= _PD_S_HIGH - _EPS and sv - ns >= _PD_S_HIGH_ABS - _EPS:
                    pd = _R_PD_SERUM_HIGH
            if pd < 0 and not np.isnan(uv) and not np.isnan(nu) and _rise_ok(uv, nu, _PD_U):
                pd = _R_PD_URINE
            if pd < 0 and is_flc and not np.isnan(dflc) and not np.isnan(nd):
                rise = dflc - nd
                if rise > _PD_D + _EPS and rise >= _PD_REL * max(nd, 0.0) - _EPS:
                    pd = _R_PD_DFLC
            if (
                pd < 0
                and (path == P_MARROW or path == P_NONE)  # noqa: SIM109 - plain compares for numba
                and not np.isnan(bmv)
                and not np.isnan(nm)
                and _rise_ok(bmv, nm, _PD_BM)
            ):
                pd = _R_PD_MARROW
            if (
                pd < 0
                and not np.isnan(spdv)
                and not np.isnan(nspd)
                and ((nspd > 0 and spdv >= (1 + _PD_PC) * nspd - _EPS) or (nspd <= 0 and spdv > 0))
            ):
                pd = _R_PD_PC
            if pd < 0 and newl == 1.0:
                pd = _R_PD_LESION

            missing = 0
            if pd >= 0:
                rank, rule = PD, pd
            elif not has_any:
                rank, rule, missing = NE, _R_NE_NO_BASE, _M_BASE
            elif path == P_NONE:
                rank, rule = NE, _R_NE_NOT_MEAS
            else:
                if path == P_M:
                    if s_meas and np.isnan(sv):
                        missing |= _M_SERUM
                    if u_meas and np.isnan(uv) and not fallback:
                        missing |= _M_URINE
                        if not s_meas and flc_meas:
                            missing |= _M_FLC
                elif path == P_FLC:
                    if np.isnan(dflc):
                        missing |= _M_FLC
                elif np.isnan(bmv):
                    missing |= _M_MARROW
                if has_pc and np.isnan(spdv):
                    missing |= _M_PC
                if missing:
                    rank, rule = NE, _R_NE_MISSING
                else:
                    spd_red = _reduction(spd0, spdv) if has_pc else np.nan
                    pc_pr = not has_pc or spd_red >= _PR_PC - _EPS
                    pc_mr = not has_pc or spd_red >= _MR_PC - _EPS
                    pc_cr = not has_pc or spdv <= 0
                    mr = False
                    needs_ratio = False
                    if ep == P_M:
                        rs = _reduction(s0, sv)
                        ru = _reduction(u0, uv)
                        pr = (
                            (not s_meas or rs >= _PR_S - _EPS)
                            and (not u_meas or ru >= _PR_U - _EPS or uv < _PR_U_ABS - _EPS)
                            and pc_pr
                        )
                        mr = (
                            (not s_meas or rs >= _MR_S - _EPS)
                            and (not u_meas or ru >= _MR_U - _EPS)
                            and pc_mr
                        )
                        vgpr_serum = (
                            sv <= 0 or rs >= _VGPR_S - _EPS or (np.isnan(sv) and not s_meas)
                        )
                        not_followed = np.isnan(uv) and np.isnan(u0)
                        urine_open = np.isnan(uv) and not np.isnan(u0)
                        vgpr = pr and vgpr_serum and (uv < _VGPR_U_MAX - _EPS or not_followed)
                        if pr and vgpr_serum and urine_open:
                            missing |= _M_URINE
                        if vgpr and not_followed:
                            missing |= _M_URINE
                    elif is_flc:
                        rd = _reduction(d0, dflc)
                        pr = rd >= _PR_D - _EPS and pc_pr
                        vgpr = pr and rd >= _VGPR_D - _EPS
                        needs_ratio = True
                        if fallback:
                            missing |= _M_URINE
                    else:
                        rb = _reduction(bm0, bmv)
                        pr = rb >= _PR_BM - _EPS and pc_pr
                        vgpr = pr and bmv < _CR_BM - _EPS
                    cr = False
                    scr = False
                    if vgpr:
                        ratio_ok = (
                            -1 if np.isnan(ratio) else (1 if _R_LOW <= ratio <= _R_HIGH else 0)
                        )
                        blocked = (
                            sife == 1.0
                            or uife == 1.0
                            or bmv >= _CR_BM - _EPS
                            or not pc_cr
                            or (needs_ratio and ratio_ok == 0)
                        )
                        cr = (
                            sife == 0.0
                            and uife == 0.0
                            and bmv < _CR_BM - _EPS
                            and pc_cr
                            and (not needs_ratio or ratio_ok == 1)
                        )
                        if not cr and not blocked:
                            if np.isnan(sife):
                                missing |= _M_SIFE
                            if np.isnan(uife):
                                missing |= _M_UIFE
                            if np.isnan(bmv):
                                missing |= _M_MARROW
                            if needs_ratio and ratio_ok < 0:
                                missing |= _M_FLC
                        if cr:
                            scr = ratio_ok == 1 and clon == 0.0
                            if not scr and ratio_ok != 0 and clon != 1.0:
                                if ratio_ok < 0:
                                    missing |= _M_FLC
                                if np.isnan(clon):
                                    missing |= _M_CLON
                    if scr:
                        rank, rule = SCR, _R_SCR
                    elif cr:
                        rank, rule = CR, _R_CR
                    elif vgpr and ep != P_MARROW:
                        rank, rule = VGPR, (_R_VGPR_FLC if is_flc else _R_VGPR)
                    elif pr:
                        rank = PR
                        if is_flc:
                            rule = _R_PR_FLC
                        elif ep == P_MARROW:
                            rule = _R_PR_MARROW
                        else:
                            rule = _R_PR
                    elif mr:
                        rank, rule = MR, _R_MR
                    else:
                        rank, rule = SD, _R_SD

            signal = (
                rank == PD
                or sife == 1.0
                or uife == 1.0
                or sv > 0
                or uv > 0
                or bmv >= _CR_BM - _EPS
                or newl == 1.0
            )
            o_pid[row] = p
            o_date[row] = day
            o_rank[row] = rank
            o_rule[row] = rule
            o_ep[row] = ep
            o_missing[row] = missing
            o_ns[row] = ns
            o_nu[row] = nu
            o_nd[row] = nd
            o_relapse[row] = prior_cr and signal
            if rank == CR or rank == SCR:  # noqa: SIM109 - plain compares for numba
                prior_cr = True
            ns = np.fmin(ns, sv)
            nu = np.fmin(nu, uv)
            nd = np.fmin(nd, dflc)
            nm = np.fmin(nm, bmv)
            nspd = np.fmin(nspd, spdv)
            row += 1

        # Summary: progression is the first of two consecutive evaluable PDs.
        prog_row = -1
        prev = -1
        last_e = -1
        for r in range(r0, row):
            if o_rank[r] == NE:
                continue
            if prog_row < 0 and prev >= 0 and o_rank[prev] == PD and o_rank[r] == PD:
                prog_row = prev
            prev = r
            last_e = r
        prog = o_date[prog_row] if prog_row >= 0 else NO_DATE
        s_prog[p] = prog
        s_pending[p] = (
            o_date[last_e] if prog_row < 0 and last_e >= 0 and o_rank[last_e] == PD else NO_DATE
        )
        best = -1
        best_date = NO_DATE
        unconf = -1
        prev = -1
        for r in range(r0, row):
            if o_rank[r] == NE or (prog_row >= 0 and o_date[r] >= prog):
                continue
            unconf = max(unconf, o_rank[r])
            if prev >= 0:
                level = min(o_rank[prev], o_rank[r])
                if level > best:
                    best = level
                    best_date = o_date[prev]
            prev = r
        s_best[p] = best
        s_best_date[p] = best_date
        s_unconf[p] = unconf
        relapse = NO_DATE
        for r in range(r0, row):
            if o_relapse[r]:
                relapse = o_date[r]
                break
        s_relapse[p] = relapse
        if prog_row >= 0:
            s_low[p, 0] = o_ns[prog_row]
            s_low[p, 1] = o_nu[prog_row]
            s_low[p, 2] = o_nd[prog_row]
        else:
            s_low[p, 0] = ns
            s_low[p, 1] = nu
            s_low[p, 2] = nd


count_assessments = _jit(_count_assessments)
_rise_ok = _jit(_rise_ok)
_reduction = _jit(_reduction)
evaluate_block = _jit(_evaluate_block)


class KernelOutput:
    """Per-assessment and per-patient arrays of one kernel run."""

    def __init__(self, n_rows: int, n_pids: int, date_dtype: npt.DTypeLike) -> None:
        self.pid = np.empty(n_rows, dtype=np.uint32)
        self.date = np.empty(n_rows, dtype=date_dtype)
        self.rank = np.empty(n_rows, dtype=np.int8)
        self.rule = np.empty(n_rows, dtype=np.uint8)
        self.ep = np.empty(n_rows, dtype=np.uint8)
        self.missing = np.empty(n_rows, dtype=np.uint16)
        self.nadir_serum = np.empty(n_rows)
        self.nadir_urine = np.empty(n_rows)
        self.nadir_dflc = np.empty(n_rows)
        self.relapse = np.empty(n_rows, dtype=np.bool_)
        self.path = np.empty(n_pids, dtype=np.uint8)
        self.best = np.empty(n_pids, dtype=np.int8)
        self.best_date = np.empty(n_pids, dtype=np.int64)
        self.unconfirmed = np.empty(n_pids, dtype=np.int8)
        self.progression = np.empty(n_pids, dtype=np.int64)
        self.pending = np.empty(n_pids, dtype=np.int64)
        self.relapse_date = np.empty(n_pids, dtype=np.int64)
        self.low = np.empty((n_pids, 3))


def run(
    p_start: npt.NDArray[np.int64],
    date: npt.NDArray[Any],
    code: npt.NDArray[np.uint8],
    value: npt.NDArray[np.float64],
    bd: npt.NDArray[np.int64],
    involved: npt.NDArray[np.int8],
) -> KernelOutput:
    """Evaluate every patient; ``p_start`` holds the first row of each patient and the end."""
    n_rows = int(count_assessments(p_start, date, bd))
    out = KernelOutput(n_rows, len(p_start) - 1, date.dtype)
    evaluate_block(
        p_start,
        date,
        code,
        value,
        bd,
        involved,
        out.pid,
        out.date,
        out.rank,
        out.rule,
        out.ep,
        out.missing,
        out.nadir_serum,
        out.nadir_urine,
        out.nadir_dflc,
        out.relapse,
        out.path,
        out.best,
        out.best_date,
        out.unconfirmed,
        out.progression,
        out.pending,
        out.relapse_date,
        out.low,
    )
    return out
