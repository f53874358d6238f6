"""Recogniser: a required response to earlier therapy ("responsive (≥ 25 % decrease) to at
least one line", "achieved MR or better to at least 1 prior therapy").

The record does not hold responses, so the requirement is an unknown part AND-ed to the rest
of an inclusion: a line count that fails still decides "not met", one that passes leaves the
criterion unknown (ask the study team) instead of "met".
"""

from __future__ import annotations

import re

from myelonav.trials.criteria.models import Group, Node, OtherAtom, Section

RESPONSE_NOTE = "a response to earlier therapy is required (responses are not in the record)"
RESPONSE = re.compile(
    r"\b(?:responsive|responded|responding)\b(?:\s*\([^()]{0,160}\))?\s+to\b|"
    r"\bachieved\s+(?:at\s+least\s+|>=\s*)?(?:an?\s+)?(?:minimal|partial)\s+response\b|"
    r"\bachieved\s+(?:at\s+least\s+|>=\s*)?(?:an?\s+)?(?:response\s+of\s+)?(?:MR|PR|VGPR)\b|"
    r"\bresponse\s+of\s+(?:MR|PR|VGPR)\s+or\s+better\b|"
    # "a very good partial response (VGPR) or better after induction therapy"
    r"\b(?:VGPR|CR|PR|MR|(?:very\s+good\s+)?partial\s+response|complete\s+response)"
    r"(?:\s*\([A-Za-z]{2,5}\))?\s+or\s+better\s+after\b|"
    r"\bdocumented\s+(?:major\s+)?response\b|"
    # "the best response should be at least PR" (to an earlier BCMA-directed therapy)
    r"\bbest\s+response\s+(?:should|must)\s+(?:be\s+)?(?:at\s+least\s+|>=\s*)?(?:an?\s+)?"
    r"(?:MR|PR|VGPR|CR|minimal|partial)\b",
    re.IGNORECASE,
)


def require_response(tree: Node, text: str, section: Section) -> Node:
    """``tree AND <response unknown>`` for an inclusion that asks for an earlier response."""
    if section is not Section.inclusion or not RESPONSE.search(text):
        return tree
    note = OtherAtom(text=RESPONSE_NOTE)
    if isinstance(tree, Group) and tree.op == "and":
        return tree.model_copy(update={"items": (*tree.items, note)})
    return Group(op="and", items=(tree, note))


__all__ = ["RESPONSE", "RESPONSE_NOTE", "require_response"]
