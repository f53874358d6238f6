"""Options as text or Markdown, in the patient's or the clinician's voice (same facts)."""

from __future__ import annotations

from typing import Any

from myelonav import DISCLAIMER
from myelonav.knowledge.cost import cost_help
from myelonav.options.engine import Audience, EvidenceView, Status
from myelonav.options.frequency import SMALL_GROUP, clinician_figures, patient_figures

PATIENT_STATUS = {
    Status.fits: "May fit you",
    Status.caution: "May fit, with care",
    Status.need_info: "More information needed",
    Status.unlikely: "Unlikely to fit you now",
}

_POST_RANK = {"yes": 0, "partial": 1, "not_reported": 2, "no": 3}

_EFFECT_LABEL = {
    "excludes": "against",
    "requires": "requirement",
    "caution": "caution",
    "disfavours": "less in favour",
    "favours": "in favour",
}


def _figures(e: EvidenceView, audience: Audience) -> str:
    if audience == "patient":
        return "; ".join(patient_figures(e.figures, e.n, e.design, survival=True))
    return "; ".join(clinician_figures(e.figures))


def _evidence_order(evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Post-BCMA CAR T evidence first (as the engine ranks it), larger series first within."""
    return sorted(
        evidence, key=lambda e: (_POST_RANK.get(e["post_bcma_car_t"], 2), -(e.get("n") or 0))
    )


def _record_basis(reason: dict[str, Any]) -> str:
    """What in the record a fired rule used (e.g. "refractory to pomalidomide, bortezomib")."""
    if reason["result"] == "met":
        return ""
    used = [f["source"] for f in reason["facts"] if f["known"] and f["source"]]
    return f" (from your record: {'; '.join(used)})" if used else ""


def _cost_lines(option_id: str, audience: Audience, bullet: str) -> list[str]:
    info = cost_help(option_id)
    if info is None:
        return []
    lines: list[str] = []
    if info.what_to_expect:
        lines.append(f"{bullet}{info.what_to_expect}")
    if info.list_price:
        lines.append(f"{bullet}{info.list_price}")
    for item in info.help:
        where = f" ({item.url})" if item.url else ""
        checked = (
            f", checked {item.last_reviewed.isoformat()}"
            if item.last_reviewed and audience == "clinician"
            else ""
        )
        lines.append(f"{bullet}{item.name}{where}{checked}")
    if not lines:
        return []
    head = "Cost and help paying:" if audience == "patient" else "Cost and assistance:"
    return [head, *lines]


def _evidence_line(e: EvidenceView, audience: Audience) -> str:
    who = e.study + (f" ({e.cohort})" if e.cohort else "")
    n = f", {e.n} people" if e.n else ""
    post = {
        "yes": "all had BCMA CAR T before",
        "partial": "some had BCMA CAR T before",
        "no": "no one had BCMA CAR T before",
    }.get(e.post_bcma_car_t, "prior CAR T not reported")
    figures = _figures(e, audience)
    return f"{who}{n} [{post}]" + (f": {figures}" if figures else "")


class _Refs:
    def __init__(self) -> None:
        self.items: list[str] = []

    def cite(self, citation: str | None) -> str:
        if not citation:
            return ""
        if citation not in self.items:
            self.items.append(citation)
        return f" [{self.items.index(citation) + 1}]"


def render(
    payload: dict[str, Any], audience: Audience, markdown: bool = False, max_evidence: int = 3
) -> str:
    refs = _Refs()
    h1 = "# " if markdown else ""
    h2 = "## " if markdown else ""
    h3 = "### " if markdown else ""
    bullet = "- " if markdown else "  - "
    out: list[str] = []
    title = f"{h1}Options after CAR T for {payload['patient_id']}, as of {payload['as_of']}"
    if payload.get("sample"):
        title += " (SAMPLE: a fictional patient)"
    out += [title, "", DISCLAIMER, ""]
    notes = payload.get("data_quality") or []
    if notes:
        out.append(f"{h2}Please check these values" if audience == "patient"
                   else f"{h2}Data quality")
        for note in notes:
            out.append(f"{bullet}{note['plain'] if audience == 'patient' else note['message']}")
        out.append("")

    failure = payload["car_t_failure"]
    out.append(
        f"{h2}Why your CAR T may not have held" if audience == "patient" else f"{h2}CAR T failure"
    )
    car_t = failure.get("car_t")
    if car_t and audience == "clinician":
        out.append(
            f"{car_t['product']} infused {car_t['infusion_date']}; best response "
            f"{car_t['best_response'] or 'unknown'} ({car_t['best_response_source']}); "
            f"progression {car_t['progression_date'] or 'not documented'} "
            f"({car_t['progression_source']}); class: {car_t['relapse_class'] or 'unknown'}."
        )
        for note in car_t["notes"]:
            out.append(f"{bullet}Note: {note}")
    for entry in failure["explanations"]:
        marks = "".join(refs.cite(c) for c in entry["citations"])
        title = entry["title"] if audience == "patient" else entry["id"].replace("_", " ")
        out.append(f"{bullet}{title}: {entry['text']}{marks}")
    out.append("")

    heading = "Your options, best fit first" if audience == "patient" else "Options, ranked"
    out += [f"{h2}{heading}", ""]
    for rank, option in enumerate(payload["options"], start=1):
        status = Status(option["status"])
        label = PATIENT_STATUS[status] if audience == "patient" else status.value
        out.append(f"{h3}{rank}. {option['name']} — {label}")
        out.append(option["summary"])
        fired = [r for r in option["reasons"] if r["result"] != "unknown"]
        if fired:
            out.append("Why:" if audience == "patient" else "Rules:")
            for reason in fired:
                marks = "".join(refs.cite(c) for c in reason["citations"])
                tag = (
                    ""
                    if audience == "patient"
                    else f" ({reason['rule']}, {_EFFECT_LABEL[reason['effect']]})"
                )
                basis = _record_basis(reason)
                out.append(f"{bullet}{reason['text']}{basis}{tag}{marks}")
        if option["missing_information"]:
            out.append("What we do not know yet:" if audience == "patient" else "Missing:")
            for item in option["missing_information"]:
                out.append(f"{bullet}{item}")
        shown = _evidence_order(option["evidence"])[:max_evidence]
        if shown:
            out.append("What studies found:" if audience == "patient" else "Evidence:")
            for e in shown:
                view = EvidenceView.model_validate(e)
                out.append(f"{bullet}{_evidence_line(view, audience)}{refs.cite(view.citation)}")
        out += _cost_lines(option["id"], audience, bullet)
        if audience == "clinician":
            out.append(f"Score {option['score']}: {', '.join(option['score_parts'])}")
        out.append("")

    out.append(f"{h2}References")
    for i, citation in enumerate(refs.items, start=1):
        out.append(
            f"{'' if markdown else '  '}{i}. {citation}" if markdown else f"  [{i}] {citation}"
        )
    out += ["", DISCLAIMER]
    return "\n".join(out)


__all__ = ["PATIENT_STATUS", "SMALL_GROUP", "render"]
