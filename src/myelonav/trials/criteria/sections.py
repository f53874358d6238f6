"""Split eligibility text into inclusion and exclusion items, numbered as written.

ClinicalTrials.gov text is markdown-ish: headings ("Inclusion Criteria:"), bullets ("*", "-",
"1.", "a)") and indented sub-bullets. A sub-bullet belongs to the item above it ("Adequate
organ function: * ANC ≥ 1.0 …"), so it is joined into that item's text rather than numbered
on its own. Text without headings is treated as inclusion and flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from myelonav.trials.criteria.models import Section

_HEADING = re.compile(
    r"^\s*(?:#+\s*)?(?:\*\*)?\s*(?:(?:key|main|major|general|other|additional|specific|"
    r"study|protocol|common|all|cohort\s+\w{1,3}|part\s+\w{1,3}|arm\s+\w{1,3})\s+){0,3}"
    r"(inclusion|exclusion|eligibility|ineligibility)(?:\s+criteria)?\b\s*(?:\([^)]*\))?\s*"
    r"(?:\*\*)?\s*:?\s*(?:\*\*)?\s*(.*)$",
    re.IGNORECASE,
)
_EXCLUDED_LEAD = re.compile(
    r"^\s*(?:patients|participants|subjects)\s+(?:who\s+meet|meeting|with)\s+any\s+of\s+the\s+"
    r"following\b.*\bexcluded\b.*:?\s*$",
    re.IGNORECASE,
)
# "… must include one of the following conditions:": the items below are alternatives
_ONE_OF_FOLLOWING = re.compile(
    r"\b(?:one|any|either)\s+(?:or\s+more\s+)?of\s+the\s+following\b[^:]{0,40}:\s*$", re.I
)
_BULLET = re.compile(
    r"^(\s*)(?:[*\-•·▪◦+]|\d{1,2}[.)](?!\d)|[a-zA-Z][.)]|\(?[ivxIVX]{1,4}\))\s+(.*)$"
)


@dataclass
class RawItem:
    section: Section
    number: int
    text: str
    children: list[str] = field(default_factory=list)

    @property
    def full_text(self) -> str:
        if not self.children:
            return self.text
        head = self.text.rstrip()
        joiner = " " if head.endswith(":") else ": "
        return head + joiner + "; ".join(c.strip().rstrip(";.") for c in self.children) + "."


@dataclass
class SplitText:
    items: list[RawItem]
    unsectioned: bool


def _heading(line: str) -> tuple[Section, str] | None:
    match = _HEADING.match(line)
    if match is None:
        return None
    word, rest = match.group(1).lower(), match.group(2).strip()
    # "Inclusion criteria" as a heading, not a sentence that starts with the word
    if rest and not line.rstrip().endswith(":") and ":" not in line[: match.start(2)]:
        return None
    section = Section.exclusion if word in {"exclusion", "ineligibility"} else Section.inclusion
    return section, rest


# Registry markdown escapes ("1\\.", "\\<", "10\\^9"): the backslash goes, the character stays.
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>^&~|=])")
# A list flattened onto one long line: breaks go back before "2. ", "* " and the headings.
# Each break is a whole run of whitespace (what follows it is not whitespace), so a match can
# only start where a run starts: "(?<!\s)" keeps a long run of spaces from being tried at
# every one of its positions (quadratic: 10,000 spaces took 5 s).
_RUN_ON_MARK = re.compile(
    r"(?<!\s)\s+(?=(?:\d{1,2}\.|[*•])\s+[A-Z(≥])|(?<!\s)\s+(?=(?:(?:key|general|main)\s+)?"
    r"(?:inclusion|exclusion)\s+criteria\s*:)",
    re.IGNORECASE,
)


def unescape(text: str) -> str:
    """Registry markdown escapes removed (linear; one pass)."""
    return _ESCAPE.sub(r"\1", text)


# A list flattened into one paragraph with no list marks at all ("Inclusion Criteria: Age 18
# years or above. Patients who have received … ECOG score: 0~1. Expected survival …"): each
# sentence is an item. The lookbehind is one character, so the scan stays linear.
_SENTENCE_BREAK = re.compile(r"(?<=[a-z0-9)\]%])\.\s+(?=[A-Z][a-z])")


def _unflatten(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    for line in lines:
        marks = len(_RUN_ON_MARK.findall(line)) if len(line) > 200 else 0
        if marks >= 3:
            out.extend(_RUN_ON_MARK.split(line))
        elif len(line) > 800 and len(_SENTENCE_BREAK.findall(line)) >= 4:
            out.extend(_RUN_ON_MARK.split(_SENTENCE_BREAK.sub(".\n", line)))
        else:
            out.append(line)
    return "\n".join(out)


def split_sections(text: str) -> SplitText:
    """Inclusion and exclusion items in order; sub-bullets folded into their parent."""
    text = _unflatten(unescape(text))
    items: list[RawItem] = []
    section: Section | None = None
    seen_heading = False
    top_indent: int | None = None
    counters = {Section.inclusion: 0, Section.exclusion: 0}
    current: RawItem | None = None
    numbered = False  # whether the current item opened with a number ("4.")

    def start(sec: Section, body: str) -> RawItem:
        counters[sec] += 1
        item = RawItem(sec, counters[sec], body.strip())
        items.append(item)
        return item

    for raw_line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw_line.replace("\t", "    ")
        if not line.strip():
            continue
        head = _heading(line) if not _BULLET.match(line) else None
        if head is None and _EXCLUDED_LEAD.match(line):
            head = (Section.exclusion, "")
        if head is not None:
            section, rest = head
            seen_heading = True
            top_indent = None
            current = start(section, rest) if rest else None
            continue
        sec = section or Section.inclusion
        bullet = _BULLET.match(line)
        if bullet is not None:
            indent = len(bullet.group(1))
            body = bullet.group(2)
            if top_indent is None or indent < top_indent:
                top_indent = indent
            is_numbered = line.lstrip()[:1].isdigit()
            # "4. … must include one of the following conditions:" then "- Serum M protein …"
            # at the same indent: dashes under it are its alternatives, not items of their own
            lead_in = (
                current is not None
                and numbered
                and line.lstrip()[:1] in "*-•·▪◦+"
                and (current.children or _ONE_OF_FOLLOWING.search(current.text) is not None)
            )
            if (indent > top_indent or lead_in) and current is not None:
                current.children.append(body)
            else:
                current = start(sec, body)
                numbered = is_numbered
            continue
        # plain line: a continuation of the current item, or a new item of its own
        stripped = line.strip()
        if (
            current is not None
            and current.section is sec
            and (current.children or not current.text.rstrip().endswith((".", ";")))
        ):
            if current.children:
                current.children[-1] += " " + stripped
            else:
                current.text += " " + stripped
        else:
            current = start(sec, stripped)
    # a lone heading-like item "…defined as:" with no children is kept as written
    return SplitText([i for i in items if i.full_text.strip()], unsectioned=not seen_heading)


__all__ = ["RawItem", "SplitText", "split_sections", "unescape"]
