"""Recogniser support: a therapy list introduced by a colon ("including: a proteasome inhibitor;
an immunomodulatory agent; an anti-CD38 antibody", "refractory to all of the following:
lenalidomide; a proteasome inhibitor").

Registries write these as sub-bullets, which the section splitter folds into one item joined by
semicolons; split on the semicolons, each list entry loses the words that say what it is about
(received, refractory) and was left unread. Written back as one sentence ("including a
proteasome inhibitor, an immunomodulatory agent and an anti-CD38 antibody") the exposure
recognisers read every entry with the lead-in's meaning.
"""

from __future__ import annotations

import re

from myelonav.trials.criteria import lexicon as lx

# the lead-in: what the list is about, ending at the colon
_LEAD = re.compile(
    r"\b(?:including|includ\w+|following(?:\s+(?:classes|agents|drugs|therap\w+))?(?:\s+of\s+"
    r"(?:agents|drugs|therap\w+))?|each\s+of|all\s+of|any\s+of)\s*:\s*$",
    re.I,
)
_EITHER = re.compile(r"\b(?:any|either)\s+(?:one\s+)?of\b|\bone\s+of\s+the\s+following\b", re.I)
_ITEM = re.compile(r"^[\w\s()/,+'’-]{2,80}$")
_CLAUSE = re.compile(
    r"\b(?:must|should|has|have|had|is|are|was|were|with(?:in)?|defined|days?|weeks?|months?)\b",
    re.I,
)


# "exposed, relapsed, or intolerant to": each alternative implies having received the drug, so
# the disjunction is exposure (and "intolerant" is not an allergy item here)
_EXPOSED_OR = re.compile(
    r"\bexposed\s*(?:,\s*(?:relapsed|refractory|intolerant)\s*)*,?\s*(?:and\s*/\s*)?or\s+"
    r"(?:relapsed|refractory|intolerant)\s+to\b",
    re.I,
)


def join_class_list(text: str) -> str:
    """``text`` with a colon-introduced list of therapies written as one sentence, when the
    lead-in says how the therapies matter (received, exposed, refractory) and every entry is a
    bare name; otherwise ``text`` unchanged."""
    text = _EXPOSED_OR.sub("exposed to", text)
    head, colon, rest = text.partition(":")
    if not colon or not _LEAD.search(head + ":"):
        return text
    if not (lx.EXPOSURE_CONTEXT.search(head) or lx.REFRACTORY.search(head)):
        return text
    items = [i.strip(" .") for i in rest.split(";")]
    items = [i for i in items if i]
    if len(items) < 2 or not all(_ITEM.match(i) and not _CLAUSE.search(i) for i in items):
        return text
    joiner = " or " if _EITHER.search(head) and not re.search(r"\beach\b", head, re.I) else " and "
    lead = _LEAD.sub(lambda m: m.group(0).rstrip(" :"), head + ":")
    return f"{lead} {', '.join(items[:-1])}{joiner}{items[-1]}."


__all__ = ["join_class_list"]
