"""Distress screening (PHQ-2, GAD-2, NCCN Distress Thermometer) and matched resources.

Screens are scored exactly as published; thresholds live in ``distress.yaml``. Resources
are matched by tags from positive screens and the problem areas a person picks. Any
report of thoughts of self-harm puts the 988 Lifeline first, always.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from myelonav import DISCLAIMER
from myelonav.errors import InputError
from myelonav.support.content import distress_spec, resource_list
from myelonav.support.schemas import Resource, Screen

SELF_HARM_MESSAGE = (
    "If you are having thoughts of harming yourself, call or text 988 now, or chat at "
    "988lifeline.org. If you are in immediate danger, call 911."
)
ALWAYS_TAGS = ("information",)


@dataclass(frozen=True)
class ScreenResult:
    screen: Screen
    score: int

    @property
    def positive(self) -> bool:
        return self.score >= self.screen.positive_at_least

    def to_dict(self) -> dict[str, Any]:
        s = self.screen
        top = s.item_max * max(len(s.items), 1)
        return {
            "id": s.id,
            "name": s.name,
            "score": self.score,
            "out_of": top,
            "positive_at_least": s.positive_at_least,
            "positive": self.positive,
            "meaning": s.positive_meaning if self.positive else "Below the screening cut-off.",
            "citations": [c.model_dump(exclude_none=True) for c in s.citations],
        }


@dataclass(frozen=True)
class DistressResult:
    screens: list[ScreenResult]
    problems: list[str]
    self_harm: bool
    caregiver: bool
    resources: list[Resource] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        messages: list[str] = []
        if self.self_harm:
            messages.append(SELF_HARM_MESSAGE)
        if any(s.positive for s in self.screens):
            messages.append(
                "A positive screen is not a diagnosis. It means this is worth talking about "
                "with your care team, who can refer you for support."
            )
        messages.append(
            "Feeling shaken after CAR T stops working is common. Support is part of good care."
        )
        return {
            "messages": messages,
            "self_harm_reported": self.self_harm,
            "screens": [s.to_dict() for s in self.screens],
            "problems": self.problems,
            "resources": [resource_dict(r) for r in self.resources],
            "disclaimer": DISCLAIMER,
        }


def resource_dict(r: Resource) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "organization": r.organization,
        "offers": r.offers,
        "phone": r.contact.phone,
        "text": r.contact.text,
        "url": r.contact.url,
        "how": r.contact.how,
        "tags": r.tags,
        "citations": [c.model_dump(exclude_none=True) for c in r.citations],
        "last_reviewed": r.last_reviewed.isoformat(),
    }


def _screen(screen_id: str) -> Screen:
    for s in distress_spec().screens:
        if s.id == screen_id:
            return s
    raise KeyError(screen_id)


def score_items(screen_id: str, answers: Sequence[int]) -> ScreenResult:
    screen = _screen(screen_id)
    n = max(len(screen.items), 1)
    if len(answers) != n:
        raise InputError(f"expects {n} answer(s), got {len(answers)}", location=screen_id)
    for i, a in enumerate(answers):
        if not screen.item_min <= a <= screen.item_max:
            raise InputError(
                f"answer {i + 1} must be {screen.item_min} to {screen.item_max}, got {a}",
                location=screen_id,
            )
    return ScreenResult(screen=screen, score=sum(answers))


def match_resources(tags: set[str], *, crisis: bool) -> list[Resource]:
    """Crisis line first when needed; then resources by how many wanted tags they cover."""
    everything = list(resource_list().resources)
    always = set(ALWAYS_TAGS)
    scored = [
        (len(tags & set(r.tags)), len(always & set(r.tags)), i, r)
        for i, r in enumerate(everything)
        if not r.crisis and (tags | always) & set(r.tags)
    ]
    scored.sort(key=lambda t: (-t[0], -t[1], t[2]))
    chosen = [r for *_, r in scored]
    if crisis:
        chosen = [r for r in everything if r.crisis] + chosen
    return chosen


def assess(
    *,
    thermometer: int | None = None,
    phq2: Sequence[int] | None = None,
    gad2: Sequence[int] | None = None,
    problems: Sequence[str] = (),
    self_harm: bool = False,
    caregiver: bool = False,
) -> DistressResult:
    spec = distress_spec()
    areas = {a.id: a for a in spec.problem_areas}
    unknown = [p for p in problems if p not in areas]
    if unknown:
        raise InputError(
            f"unknown problem area(s): {', '.join(unknown)}; choose from {', '.join(areas)}",
            location="problem",
        )
    results: list[ScreenResult] = []
    if phq2 is not None:
        results.append(score_items("phq2", phq2))
    if gad2 is not None:
        results.append(score_items("gad2", gad2))
    if thermometer is not None:
        results.append(score_items("distress_thermometer", [thermometer]))
    tags: set[str] = set()
    for r in results:
        if r.positive:
            tags.update(r.screen.resource_tags)
    for p in problems:
        tags.update(areas[p].resource_tags)
    if caregiver:
        tags.add("caregiver")
    if self_harm:
        tags.update({"crisis", "counseling"})
    return DistressResult(
        screens=results,
        problems=list(problems),
        self_harm=self_harm,
        caregiver=caregiver,
        resources=match_resources(tags, crisis=self_harm),
    )


__all__ = [
    "SELF_HARM_MESSAGE",
    "DistressResult",
    "ScreenResult",
    "assess",
    "match_resources",
    "resource_dict",
    "score_items",
]
