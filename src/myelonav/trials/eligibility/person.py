"""Evaluators for who the patient is: age and performance status."""

from __future__ import annotations

from myelonav.logic import Truth
from myelonav.trials._facts import CURRENT_DAYS, PatientFacts
from myelonav.trials.criteria.models import (
    AgeAtom,
    PerformanceAtom,
)
from myelonav.trials.eligibility.values import Eval, _tri


def _age(f: PatientFacts, a: AgeAtom) -> Eval:
    if f.age is None:
        return Truth.unknown, "age not recorded"
    lo = f"{a.min_years:g}" if a.min_years is not None else ""
    hi = f"{a.max_years:g}" if a.max_years is not None else ""
    ok = (a.min_years is None or f.age >= a.min_years) and (
        a.max_years is None or f.age <= a.max_years
    )
    return _tri(ok), f"age {f.age} on {f.as_of} (allowed {lo}-{hi})"


# ECOG → Karnofsky ranges as commonly tabulated (e.g. Prasad KT et al., World J Clin Oncol
# 2018;9:140-7, doi:10.5306/wjco.v9.i7.140). The scales match only approximately, so a range
# that straddles the limit stays unknown.
_KPS_RANGE = {0: (90, 100), 1: (70, 80), 2: (50, 60), 3: (30, 40), 4: (10, 20), 5: (0, 0)}


def _performance(f: PatientFacts, a: PerformanceAtom) -> Eval:
    ecog = f.record.latest_ecog(f.as_of)
    if ecog is None:
        return Truth.unknown, "no ECOG performance status recorded"
    when = f" on {ecog.date}" if ecog.date else ""
    if ecog.date is not None and (f.as_of - ecog.date).days > CURRENT_DAYS:
        return Truth.unknown, f"last ECOG {ecog.score}{when} is more than {CURRENT_DAYS} days old"
    if a.max_ecog is not None:
        return _tri(ecog.score <= a.max_ecog), f"ECOG {ecog.score}{when} (max {a.max_ecog})"
    assert a.min_karnofsky is not None
    low, high = _KPS_RANGE[ecog.score]
    fact = f"ECOG {ecog.score}{when} ≈ Karnofsky {low}-{high} (min {a.min_karnofsky})"
    if low >= a.min_karnofsky:
        return Truth.true, fact
    if high < a.min_karnofsky:
        return Truth.false, fact
    return Truth.unknown, fact + "; the scales do not convert exactly"
