"""Evaluators for treatment history: lines, exposure and refractoriness, time since an event,
transplants."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from myelonav.logic import Truth
from myelonav.patient.lines import imwg_lines
from myelonav.trials._facts import Exposure, PatientFacts
from myelonav.trials.criteria.models import (
    ExposureAtom,
    IntervalAtom,
    PriorLinesAtom,
    TimeSinceAtom,
    TransplantAtom,
)
from myelonav.trials.eligibility.values import Eval, _tri


def _lines(f: PatientFacts, a: PriorLinesAtom) -> Eval:
    n = f.line_count
    bound = " and ".join(
        x
        for x in (
            f">= {a.min_lines}" if a.min_lines is not None else "",
            f"<= {a.max_lines}" if a.max_lines is not None else "",
        )
        if x
    )
    fact = f"{n} prior lines (IMWG grouping; {f.regimen_count} regimens listed) {bound}"
    if not f.treated:
        fact = f"no prior therapy recorded {bound}"
    ok = (a.min_lines is None or n >= a.min_lines) and (a.max_lines is None or n <= a.max_lines)
    if a.regimens and ok != _within(f.regimen_count, a):
        # "at least 3 prior regimens": lines and single regimens give different answers
        return Truth.unknown, f"{fact}; regimens counted as lines or one by one? ask the study team"
    return _tri(ok), fact


def _within(n: int, a: PriorLinesAtom) -> bool:
    return (a.min_lines is None or n >= a.min_lines) and (a.max_lines is None or n <= a.max_lines)


def _matches(e: Exposure, groups: Iterable[tuple[str, ...]], drugs: Iterable[str]) -> bool:
    for g in groups:
        if len(g) == 1 and g[0].startswith("drug:"):
            if e.agent == g[0][5:]:
                return True
        elif set(g) <= e.classes:
            return True
    return e.agent in set(drugs)


_CLASS_LABEL = {
    "bcma_directed": "BCMA-directed",
    "gprc5d_directed": "GPRC5D-directed",
    "car_t": "CAR T",
    "bispecific": "bispecific",
    "adc": "antibody-drug conjugate",
    "fcrh5_directed": "FcRH5-directed",
    "proteasome_inhibitor": "PI",
    "imid": "IMiD",
    "anti_cd38": "anti-CD38",
    "celmod": "CELMoD",
    "bcl2_inhibitor": "BCL-2 inhibitor",
    "xpo1_inhibitor": "XPO1 inhibitor",
}


def target_label(groups: Sequence[tuple[str, ...]], drugs: Sequence[str]) -> str:
    parts = [
        " ".join(
            _CLASS_LABEL.get(c, c)
            for c in sorted(g, key=lambda c: c in {"car_t", "bispecific", "adc"})
        )
        for g in groups
    ]
    parts += list(drugs)
    return " or ".join(parts) or "therapy"


def _exposure(f: PatientFacts, a: ExposureAtom) -> Eval:
    if a.any_therapy:
        if f.treated:
            return Truth.true, f"{f.line_count} prior lines of anti-myeloma therapy"
        return Truth.false, "no prior anti-myeloma therapy recorded"
    label = target_label(a.groups, a.drugs)
    hits = [
        e
        for e in f.exposures
        if _matches(e, a.groups, a.drugs) and not _matches(e, a.except_groups, ())
    ]
    names = list(dict.fromkeys(e.agent for e in hits))
    if a.allowed:
        had = f"; you have had {', '.join(names)}" if names else ""
        return Truth.true, f"prior {label} therapy is allowed{had}"
    if a.refractory:
        refr = [e for e in hits if e.refractory]
        agents = list(dict.fromkeys(e.agent for e in refr))
        if len(agents) >= a.min_agents:
            return Truth.true, f"refractory to {label}: {', '.join(agents)}"
        if any(e.refractory is None for e in hits):
            return (
                Truth.unknown,
                f"received {label} ({', '.join(names)}) but refractoriness not recorded",
            )
        if not hits:
            return _unresolved_or_false(f, f"no prior {label} therapy")
        return Truth.false, f"not refractory to {label} ({', '.join(names)})"
    if len(names) >= a.min_agents:
        return Truth.true, f"prior {label}: {', '.join(names)}"
    if names:
        return (
            Truth.false,
            f"prior {label}: {', '.join(names)} ({len(names)} of {a.min_agents} needed)",
        )
    return _unresolved_or_false(f, f"no prior {label} therapy")


def _unresolved_or_false(f: PatientFacts, fact: str) -> Eval:
    unknown = sorted({e.agent for e in f.exposures if not e.known})
    if unknown:
        return Truth.unknown, f"{fact} among known agents; not recognised: {', '.join(unknown)}"
    gap = history_gap(f)
    if gap:
        return Truth.unknown, f"{fact} listed; {gap}"
    return Truth.false, fact


def history_gap(f: PatientFacts) -> str:
    """Why the listed treatment history may be incomplete ("" when it is read as complete):
    more lines before CAR T were reported (intake) than are listed, so a drug or transplant
    missing from the list may still have been given."""
    told = f.record.lines_before_car_t_reported
    if told is None:
        return ""
    lines = imwg_lines(f.record, f.as_of)
    first_car_t = next((i for i, ln in enumerate(lines) if ln.car_t), len(lines))
    if first_car_t >= told:
        return ""
    return (
        f"{told} lines before CAR T reported but {first_car_t} listed; "
        "the treatments are not all known (ask the study team)"
    )


def _event_date(f: PatientFacts, a: TimeSinceAtom) -> tuple[dt.date | None, str, bool]:
    """(date of the most recent event, label, known). (None, "", True) = never happened."""
    if a.event == "car_t_infusion":
        if not f.car_t:
            return None, "no CAR T", True
        c = f.car_t[-1]
        return c.infusion_date, f"CAR T infusion {c.infusion_date}", True
    if a.event == "last_therapy":
        end, label, known = f.last_therapy_end()
        if end is None and not label:
            return None, "no prior anti-myeloma therapy", True
        return end, f"last anti-myeloma therapy ({label}) ended {end}", known
    if a.event == "exposure":
        hits = [e for e in f.exposures if _matches(e, a.groups, a.drugs)]
        if not hits:
            return None, f"no prior {target_label(a.groups, a.drugs)}", True
        if any(e.ongoing for e in hits):
            return f.as_of, f"{hits[0].agent} ongoing", True
        if any(e.end is None for e in hits):
            return None, f"{hits[0].agent}: end date not recorded", False
        latest = max(hits, key=lambda e: e.end or dt.date.min)
        return latest.end, f"{latest.agent} last given {latest.end}", True
    if a.event == "radiotherapy":
        if not f.record.radiation:
            return None, "no radiotherapy recorded", True
        dates = [
            d for r in f.record.radiation if (d := r.end or r.start) is not None and d <= f.as_of
        ]
        if not dates:
            return None, "radiotherapy dates not recorded", False
        return max(dates), f"radiotherapy ended {max(dates)}", True
    kinds = {
        "autologous_transplant": {"autologous"},
        "allogeneic_transplant": {"allogeneic"},
        "any_transplant": {"autologous", "allogeneic"},
    }[a.event]
    found = [t for t in f.record.transplants if t.kind.value in kinds]
    if not found:
        return None, f"no {a.event.replace('_', ' ')} recorded", True
    dated = [t.date for t in found if t.date is not None and t.date <= f.as_of]
    if not dated:
        return None, f"{a.event.replace('_', ' ')} date not recorded", False
    return max(dated), f"{found[0].kind.value} transplant {max(dated)}", True


# Lymphodepleting chemotherapy ends 2 to 7 days before the CAR T infusion (cilta-cel and ide-cel
# labels: days -5 to -3; academic protocols vary); the record dates only the infusion.
_LD_BEFORE_INFUSION = (2, 7)


def _since_lymphodepletion(f: PatientFacts, a: TimeSinceAtom) -> Eval:
    if not f.car_t:
        return _tri(a.op == "ge"), f"no CAR T (window {a.days} days)"
    infusion = f.car_t[-1].infusion_date
    low = (f.as_of - infusion).days + _LD_BEFORE_INFUSION[0]
    high = (f.as_of - infusion).days + _LD_BEFORE_INFUSION[1]
    fact = (
        f"about {low}-{high} days since lymphodepletion (CAR T infusion {infusion}; "
        f"{'min' if a.op == 'ge' else 'within'} {a.days})"
    )
    if a.op == "ge":
        sure = Truth.true if low >= a.days else Truth.false if high < a.days else Truth.unknown
    else:
        sure = Truth.true if high < a.days else Truth.false if low >= a.days else Truth.unknown
    return sure, fact


def _time_since(f: PatientFacts, a: TimeSinceAtom) -> Eval:
    if a.event == "lymphodepletion":
        return _since_lymphodepletion(f, a)
    when, label, known = _event_date(f, a)
    if not known or (when is None and a.event == "last_therapy" and "ended" in label):
        return Truth.unknown, label
    if when is None:
        return _tri(a.op == "ge"), f"{label} (window {a.days} days)"
    days = (f.as_of - when).days
    bound = f"{'min' if a.op == 'ge' else 'within'} {a.days}"
    fact = f"{days} days since {label} (as of {f.as_of}; {bound})"
    return _tri(days >= a.days if a.op == "ge" else days < a.days), fact


def _transplant(f: PatientFacts, a: TransplantAtom) -> Eval:
    found = [t for t in f.record.transplants if a.kind == "any" or t.kind.value == a.kind]
    if found:
        dates = ", ".join(str(t.date) for t in found if t.date) or "date not recorded"
        return Truth.true, f"{found[0].kind.value} transplant ({dates})"
    fact = f"no {a.kind if a.kind != 'any' else ''} transplant recorded".replace("  ", " ")
    gap = history_gap(f)
    if gap:
        return Truth.unknown, f"{fact}; {gap}"
    return Truth.false, fact


def _interval(f: PatientFacts, a: IntervalAtom) -> Eval:
    """Progression after the most recent CAR T infusion, measured from the infusion."""
    episodes = f.car_t
    if a.target is not None:
        if any(c.target_antigen is None for c in episodes):
            return Truth.unknown, f"target of a CAR T not recorded ({a.target} CAR T asked)"
        episodes = [c for c in episodes if (c.target_antigen or "").upper() == a.target.upper()]
    if not episodes:
        return Truth.false, "no CAR T" if a.target is None else f"no {a.target} CAR T"
    c = episodes[-1]
    if c.progression_date is None:
        return Truth.unknown, f"CAR T infusion {c.infusion_date}; progression date not recorded"
    days = (c.progression_date - c.infusion_date).days
    bound = f"{'within' if a.op == 'lt' else 'at least'} {a.days} days"
    fact = (
        f"progression {days} days after CAR T infusion "
        f"({c.infusion_date} to {c.progression_date}; {bound})"
    )
    return _tri(days < a.days if a.op == "lt" else days >= a.days), fact
