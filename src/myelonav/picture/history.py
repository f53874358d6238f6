"""Treatment history: what the patient received, what stopped working, how many lines.

Refractoriness follows IMWG (Rajkumar et al., Blood 2011;117:4691-5, doi:10.1182/blood-2010-
10-299487; Kumar et al., Lancet Oncol 2016;17:e328-46): disease that is non-responsive (less
than a minimal response) on therapy, or progresses on it or within 60 days of its last dose.
It is judged on each therapy's own course, never as days since today.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from myelonav.patient.lines import count_prior_lines
from myelonav.patient.models import (
    RESPONSE_ORDER,
    CarTEpisode,
    PatientRecord,
    ResponseCategory,
    StopReason,
    TherapyLine,
    TransplantKind,
)
from myelonav.patient.vocabulary import vocabulary
from myelonav.picture.model import Exposure
from myelonav.picture.sheet import FactSheet

REFRACTORY_WINDOW_DAYS = 60  # IMWG: progression on or within 60 days of the last dose
_TARGET_CLASS = {"BCMA": "bcma_directed", "GPRC5D": "gprc5d_directed", "FCRH5": "fcrh5_directed"}
_NO_RESPONSE = frozenset({ResponseCategory.SD, ResponseCategory.PD})
TRIPLE_CLASSES = ("imid", "proteasome_inhibitor", "anti_cd38")
_PENTA = {"imid": 2, "proteasome_inhibitor": 2, "anti_cd38": 1}


def line_refractory(line: TherapyLine, next_start: dt.date | None) -> tuple[bool | None, str]:
    """(refractory, why) for one course: True, False, or None when the record cannot say."""
    label = line.regimen or " + ".join(line.agents)
    if line.refractory is not None:
        return (
            line.refractory,
            f"{label}: {'refractory' if line.refractory else 'not refractory'} as recorded",
        )
    if line.best_response in _NO_RESPONSE:
        return True, f"{label}: best response {line.best_response.value} (less than MR)"
    if line.stop_reason is StopReason.progression:
        return True, f"{label}: stopped because the myeloma progressed"
    responded = (
        line.best_response is not None
        and line.best_response is not ResponseCategory.NE
        and RESPONSE_ORDER[line.best_response] >= RESPONSE_ORDER[ResponseCategory.MR]
    )
    if line.stop_reason is StopReason.ongoing and responded:
        return False, f"{label}: still given and responding ({line.best_response})"
    if (
        responded
        and line.end is not None
        and next_start is not None
        and (next_start - line.end).days > REFRACTORY_WINDOW_DAYS
    ):
        return False, (
            f"{label}: responded and no new therapy was needed within "
            f"{REFRACTORY_WINDOW_DAYS} days of the last dose"
        )
    return None, f"{label}: whether it stopped working is not in the record"


def _next_start(record: PatientRecord, after: dt.date | None, as_of: dt.date) -> dt.date | None:
    if after is None:
        return None
    starts = [ln.start for ln in record.therapy_lines if ln.start is not None and ln.start > after]
    starts += [c.infusion_date for c in record.car_t if c.infusion_date > after]
    starts = [s for s in starts if s <= as_of]
    return min(starts) if starts else None


def exposures(record: PatientRecord, as_of: dt.date) -> list[Exposure]:
    voc = vocabulary()
    out: list[Exposure] = []
    for ln in record.therapy_lines:
        if ln.start is not None and ln.start > as_of:
            continue
        refractory, why = line_refractory(ln, _next_start(record, ln.end or ln.start, as_of))
        label = ln.regimen or " + ".join(ln.agents)
        for agent in ln.agents:
            drug = voc.resolve(agent)
            out.append(
                Exposure(
                    agent=drug.id if drug else agent,
                    classes=drug.classes if drug else frozenset(),
                    known=drug is not None,
                    start=ln.start,
                    end=ln.end,
                    ongoing=ln.stop_reason is StopReason.ongoing and ln.end is None,
                    refractory=refractory,
                    refractory_why=why,
                    stopped_for_progression=ln.stop_reason is StopReason.progression,
                    source=label,
                    target=drug.target if drug else None,
                    stopped=ln.stop_reason not in (StopReason.ongoing, StopReason.unknown),
                )
            )
    for c in car_t_episodes(record, as_of):
        out.append(_car_t_exposure(c))
        for agent in c.bridging_agents:
            b = voc.resolve(agent)
            out.append(
                Exposure(
                    agent=b.id if b else agent,
                    classes=b.classes if b else frozenset(),
                    known=b is not None,
                    start=None,
                    end=c.infusion_date,
                    ongoing=False,
                    refractory=None,
                    refractory_why="bridging therapy: response not judged on its own",
                    stopped_for_progression=False,
                    source="bridging before CAR T",
                    target=b.target if b else None,
                )
            )
    return out


def _car_t_exposure(c: CarTEpisode) -> Exposure:
    drug = vocabulary().resolve(c.product)
    classes = set(drug.classes) if drug else {"car_t"}
    target = (c.target_antigen or (drug.target if drug else None) or "").upper() or None
    if target in _TARGET_CLASS:
        classes.add(_TARGET_CLASS[target])
    refractory: bool | None
    if c.best_response in _NO_RESPONSE:
        refractory, why = True, f"{c.product}: best response {c.best_response} (less than MR)"
    elif c.progression_date is not None:
        days = (c.progression_date - c.infusion_date).days
        # A one-time infusion whose cells persist has no "last dose": past 60 days the IMWG
        # definition does not decide, so a later progression leaves refractoriness unknown.
        refractory = True if days <= REFRACTORY_WINDOW_DAYS else None
        why = f"{c.product}: progression on {c.progression_date}, {days} days after the infusion"
    else:
        refractory, why = None, f"{c.product}: no progression recorded after the infusion"
    return Exposure(
        agent=drug.id if drug else c.product,
        classes=frozenset(classes),
        known=drug is not None or bool(c.target_antigen),
        start=c.infusion_date,
        end=c.infusion_date,
        ongoing=False,
        refractory=refractory,
        refractory_why=why,
        stopped_for_progression=c.progression_date is not None,
        source="CAR T",
        target=target,
    )


def car_t_episodes(record: PatientRecord, as_of: dt.date) -> list[CarTEpisode]:
    return [c for c in record.car_t if c.infusion_date <= as_of]


def _names(agents: Iterable[str]) -> str:
    return ", ".join(sorted(agents)) or "none"


def history_facts(
    record: PatientRecord, as_of: dt.date, exposed: Sequence[Exposure], sheet: FactSheet
) -> int:
    """Write the history facts; return the IMWG line count."""
    lines = [ln for ln in record.therapy_lines if ln.start is None or ln.start <= as_of]
    episodes = car_t_episodes(record, as_of)
    count = count_prior_lines(record, as_of)
    if not lines and not episodes:
        why = "no treatment history in the record"
        plain = "Your past treatments are not in your record yet."
        for name in (
            "prior_agents",
            "refractory_agents",
            "stopped_working_agents",
            "prior_classes",
            "refractory_classes",
            "exposed_to_target",
            "refractory_to_target",
            "lines_of_therapy",
            "triple_class_exposed",
            "triple_class_refractory",
            "penta_refractory",
            "prior_allo_transplant",
            "months_since_last_therapy",
            "current_agents",
        ):
            sheet.unknown(name, why, plain)
        sheet.set("prior_car_t_count", 0, "no CAR T infusion recorded", "No CAR T is recorded.")
        return count
    prior = {e.agent for e in exposed}
    refractory = {e.agent for e in exposed if e.refractory}
    stopped = {e.agent for e in exposed if e.stopped_for_progression}
    ref_sources = sorted({e.refractory_why for e in exposed if e.refractory})
    sheet.set(
        "prior_agents",
        frozenset(prior),
        f"{len(prior)} agents in the treatment history: {_names(prior)}",
        f"You have had {len(prior)} medicines for myeloma.",
    )
    sheet.set(
        "refractory_agents",
        frozenset(refractory),
        "refractory (IMWG) to "
        + _names(refractory)
        + (f" ({'; '.join(ref_sources)})" if ref_sources else ""),
        "Medicines that stopped working for you: " + _names(refractory) + ".",
    )
    sheet.set(
        "stopped_working_agents",
        frozenset(stopped),
        "stopped because of progression: " + _names(stopped),
        "Medicines stopped because the myeloma grew: " + _names(stopped) + ".",
    )
    prior_classes = frozenset(c for e in exposed for c in e.classes)
    refractory_classes = frozenset(c for e in exposed if e.refractory for c in e.classes)
    sheet.set("prior_classes", prior_classes, "classes received: " + _names(prior_classes))
    sheet.set(
        "refractory_classes",
        refractory_classes,
        "classes the disease is refractory to: " + _names(refractory_classes),
    )
    targets = frozenset(e.target for e in exposed if e.target)
    refractory_targets = frozenset(e.target for e in exposed if e.target and e.refractory)
    sheet.set(
        "exposed_to_target",
        targets,
        "targets treated before: "
        + _names(targets)
        + _by_target(exposed, targets, refractory_only=False),
    )
    sheet.set(
        "refractory_to_target",
        refractory_targets,
        "refractory to therapy against: "
        + _names(refractory_targets)
        + _by_target(exposed, refractory_targets, refractory_only=True),
    )
    told = record.lines_before_car_t_reported
    sheet.set(
        "lines_of_therapy",
        count,
        f"{count} prior lines (IMWG grouping"
        + (f"; at least {told} before CAR T as reported)" if told is not None else ")"),
        f"You have had {count} lines of treatment.",
    )
    _class_counts(exposed, sheet)
    allo = any(t.kind is TransplantKind.allogeneic for t in record.transplants)
    sheet.set(
        "prior_allo_transplant",
        allo,
        "allogeneic transplant recorded" if allo else "no allogeneic transplant recorded",
    )
    sheet.set(
        "prior_car_t_count",
        len(episodes),
        f"{len(episodes)} CAR T infusion(s) recorded",
        f"You have had CAR T {len(episodes)} time(s).",
    )
    current = frozenset(
        e.agent
        for e in exposed
        if e.source not in ("CAR T", "bridging before CAR T")
        and (e.end >= as_of if e.end is not None else not e.stopped)
    )
    sheet.set(
        "current_agents",
        current,
        "on treatment now: " + _names(current),
        "Medicines you are on now: " + _names(current) + ".",
    )
    _last_therapy(record, as_of, sheet)
    return count


def _by_target(
    exposed: Sequence[Exposure], targets: Iterable[str], *, refractory_only: bool
) -> str:
    parts = []
    for target in sorted(targets):
        used = sorted(
            {
                e.source if e.source not in ("CAR T",) else f"CAR T ({e.agent})"
                for e in exposed
                if e.target == target and (e.refractory or not refractory_only)
            }
        )
        parts.append(f"{target}: {', '.join(used)}")
    return f" ({'; '.join(parts)})" if parts else ""


def _class_counts(exposed: Sequence[Exposure], sheet: FactSheet) -> None:
    def agents(cls: str, refractory: bool) -> set[str]:
        return {e.agent for e in exposed if cls in e.classes and (e.refractory or not refractory)}

    exposed_ok = all(agents(c, False) for c in TRIPLE_CLASSES)
    sheet.set(
        "triple_class_exposed",
        exposed_ok,
        "triple-class exposed (IMiD, PI, anti-CD38)"
        if exposed_ok
        else "not exposed to all of IMiD, PI and anti-CD38 in the record",
    )
    refractory_ok = all(agents(c, True) for c in TRIPLE_CLASSES)
    unknown_left = any(
        e.refractory is None for e in exposed if set(e.classes) & set(TRIPLE_CLASSES)
    )
    if refractory_ok:
        sheet.set("triple_class_refractory", True, "refractory to an IMiD, a PI and an anti-CD38")
    elif unknown_left:
        sheet.unknown(
            "triple_class_refractory",
            "whether the disease is refractory to each of IMiD, PI and anti-CD38 is not recorded",
        )
    else:
        sheet.set("triple_class_refractory", False, "not refractory to all three classes")
    penta = all(len(agents(c, True)) >= n for c, n in _PENTA.items())
    if penta:
        sheet.set("penta_refractory", True, "refractory to 2 IMiDs, 2 PIs and an anti-CD38")
    elif unknown_left:
        sheet.unknown("penta_refractory", "refractoriness to every IMiD/PI/anti-CD38 not recorded")
    else:
        sheet.set("penta_refractory", False, "not penta-refractory in the record")


def _last_therapy(record: PatientRecord, as_of: dt.date, sheet: FactSheet) -> None:
    end, label, known = last_therapy_end(record, as_of)
    if end is None or not known:
        sheet.unknown(
            "months_since_last_therapy",
            f"when the last therapy ({label or 'unknown'}) ended is not recorded",
        )
        return
    months = round((as_of - end).days / 30.4375, 1)
    sheet.set(
        "months_since_last_therapy",
        months,
        f"last therapy {label} ended {end} ({months} months before {as_of})",
        f"Your last treatment ({label}) ended about {months:.0f} months ago.",
    )


def last_therapy_end(record: PatientRecord, as_of: dt.date) -> tuple[dt.date | None, str, bool]:
    """(date the most recent anti-myeloma therapy ended, its label, known).

    Ongoing therapy ends "today"; a regimen without an end date that is not marked ongoing
    makes the answer unknown when it is the most recent one.
    """
    best: tuple[dt.date | None, str, bool] = (None, "", True)
    best_key = dt.date.min
    for ln in record.therapy_lines:
        if ln.start is not None and ln.start > as_of:
            continue
        label = ln.regimen or " + ".join(ln.agents)
        end: dt.date | None
        if ln.end is not None:
            end, known = min(ln.end, as_of), True
        elif ln.stop_reason is StopReason.ongoing:
            end, known = as_of, True
        else:
            end, known = ln.start, False
        key = end or dt.date.min
        if key >= best_key:
            best, best_key = (end, label, known), key
    for c in car_t_episodes(record, as_of):
        if c.infusion_date >= best_key:
            best, best_key = (c.infusion_date, f"CAR T ({c.product})", True), c.infusion_date
    return best


__all__ = [
    "REFRACTORY_WINDOW_DAYS",
    "car_t_episodes",
    "exposures",
    "history_facts",
    "last_therapy_end",
    "line_refractory",
]
