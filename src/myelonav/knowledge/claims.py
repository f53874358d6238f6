"""Find numeric clinical claims in free text and check each against an identified figure.

A claim is a percentage, a number of months or years, "N in 10" / "N of 100", "N=123" or
"N people".
It is traceable when its number is a figure (or the figure as the options page shows it:
rounded, "about N in 10", "about N of M people") of an evidence or safety entry whose citation
carries a PMID, DOI, meeting abstract number or label/guideline page and whose figures are not
withheld, or when the text sits inside such an entry (its own notes are covered by its own
citation). Numbers that are not results (a cut-off in a rule, a time window, an IMWG
definition) are allowed only through ``NON_FIGURES``, each with its reason.

The scan works on the raw YAML tree, so it can be run on old text from git as well.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from myelonav.knowledge.identifiers import checkable
from myelonav.knowledge.schema import FIGURE_FIELDS
from myelonav.options.frequency import SELECTED_DESIGNS, SMALL_GROUP, in_ten

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
# One alternative per kind of claim; every part is bounded, so matching is linear.
CLAIM = re.compile(
    rf"(?P<pct>{_NUM})\s?%"
    rf"|(?P<mo>{_NUM})(?:\s?(?:-|to)\s?(?P<mo2>{_NUM}))?\s?(?:months?|mo)\b"
    rf"|\b(?P<k>\d{{1,3}})\s(?:in|of|out of)\s(?P<den>\d{{1,4}})\b(?!\.\d|,\d|\s?%)"
    rf"|\b(?P<yr>\d{{1,2}})\s?years?\b"
    rf"|\b[Nn]\s?=\s?(?P<n>{_NUM})"
    rf"|\b(?P<cnt>{_NUM})\s(?:of\s(?P<cntof>{_NUM})\s)?(?:[A-Za-z-]{{1,20}}\s){{0,3}}?"
    r"(?:people|patients|participants|recipients|adults)\b"
)

# Numbers that are not study results, allowed by the words around them. Each with its reason.
NON_FIGURES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"LVEF\s?(?:<|>=|>|≥|≤|<=)\s?\d{2}\s?%"),
        "heart-failure cut-off the rules use (LVEF < 40 %), not a result",
    ),
    (
        re.compile(
            r"(?:<|<=|>=|>|≥|≤|less than|more than|at least|under|over|after|before|until|"
            r"for|the first|up to)\s?\d{1,2}\s?months?\b",
            re.I,
        ),
        "a time window or cut-off (time since CAR T, early relapse), not a result",
    ),
    (
        re.compile(r"results within \d months"),
        "IMWG rapid-relapse definition: results at most 2 months apart (Rajkumar 2011)",
    ),
    (
        re.compile(
            r"\d{1,2}\s?months?\s(?:after|since|of|from)\s(?:the\s)?(?:CAR T|infusion)", re.I
        ),
        "a time since CAR T, the cut-off of the relapse classes, not a result",
    ),
    (
        re.compile(r"\d{1,2}\s?months?\sapart", re.I),
        "IMWG rapid-relapse definition: results at most 2 months apart (Rajkumar 2011)",
    ),
    (
        re.compile(r">=?\s?20 mg/dL and 25\s?% involved FLC"),
        "IMWG rapid-relapse definition (Rajkumar 2011), a threshold, not a result",
    ),
    (
        re.compile(r"in\s>=\s?\d{1,2}\s?%"),
        "a label's reporting threshold for common adverse reactions, not a result",
    ),
    (
        re.compile(r"at least \d{1,2} of every 100 people"),
        "a label's reporting threshold for common adverse reactions, not a result",
    ),
    (
        re.compile(r"\d of \d weeks"),
        "a dosing schedule (weeks of a cycle), not a result",
    ),
    (
        re.compile(r"oxygen reading under \d{2}\s?%"),
        "myelonav's home oxygen-saturation thresholds (triage.yaml header), not a result",
    ),
    (
        re.compile(r"scored (?:below|\d{1,2} or less) (?:\d{1,2} )?out of 10"),
        "the ICE score (0-10) of the ASTCT ICANS grading, a threshold, not a result",
    ),
    (
        re.compile(r"\b1 month after"),
        "the length of IVIG or prophylaxis after the last dose, not a result",
    ),
)

# Figures a document (failure explanations, education) quotes from a source that no option
# file carries as an evidence entry. Each is allowed only where the text's own citations
# include that identified source: (words, identifier, reason).
CITED_FIGURES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(
            r"MyCARe analysis \(136 European and 133 US patients after BCMA CAR T\), median "
            r"time to relapse was 5 months and relapse within 5 months carried 12-month OS of "
            r"30% and 14%"
        ),
        "pmid:38358946",
        "Gagelmann et al., J Clin Oncol 2024 (MyCARe), abstract: Europe n=136, US n=133, "
        "median time to relapse 5 months, 12-month OS after relapse within 5 months 30% / 14%",
    ),
    (
        re.compile(r"about half of relapses came within 5 months"),
        "pmid:38358946",
        "MyCARe (Gagelmann 2024): median time to relapse 5 months in both cohorts",
    ),
)

_TEXT_KEYS_SKIPPED = frozenset(
    {"url", "source", "title", "authors", "label", "pmid", "doi", "abstract", "id", "year"}
)
_ENTRY_TEXT_KEYS = ("notes", "population", "cohort")


@dataclass(frozen=True)
class Claim:
    where: str  # file and field path
    text: str  # the matched words

    def __str__(self) -> str:
        return f"{self.where}: {self.text!r}"


def _value(token: str) -> float:
    return float(token.replace(",", ""))


def _decimals(token: str) -> int:
    return len(token.split(".", 1)[1]) if "." in token else 0


def identified(entry: dict[str, Any]) -> bool:
    """Whether an evidence/safety entry may supply numbers: identified and not withheld."""
    if entry.get("figures_withheld"):
        return False
    cite = entry.get("citation")
    if not isinstance(cite, dict):
        return False
    return (
        checkable(
            pmid=cite.get("pmid"),
            doi=cite.get("doi"),
            abstract=cite.get("abstract"),
            url=cite.get("url"),
        )
        is not None
    )


@dataclass
class Figures:
    """The numbers identified entries let the text say, by kind."""

    pct: set[float]
    months: set[float]
    people: set[float]  # group sizes and counts of people
    in_ten: set[int]

    @classmethod
    def empty(cls) -> Figures:
        return cls(set(), set(), set(), set())

    def merge(self, other: Figures) -> None:
        self.pct |= other.pct
        self.months |= other.months
        self.people |= other.people
        self.in_ten |= other.in_ten

    def _add_pct(self, pct: float, n: object, design: object = None) -> None:
        self.pct.add(pct)
        if isinstance(n, int):
            count = math.floor(pct * n / 100 + 0.5)
            # the formatter says "fewer than 1 of n" for a positive rate that rounds to 0
            self.people.add(float(count if count or pct == 0 else 1))
        # "about N in 10" only for a group the page itself would put that way: not small, not
        # selected (options/frequency.py), so a small series is never "9 in 10" anywhere.
        if not (isinstance(n, int) and n < SMALL_GROUP) and design not in SELECTED_DESIGNS:
            self.in_ten.add(in_ten(min(pct, 100.0)))

    def add_entry(self, entry: dict[str, Any]) -> None:
        if not identified(entry):
            return
        n = entry.get("n")
        for key in FIGURE_FIELDS:
            v = entry.get(key)
            if not isinstance(v, int | float) or isinstance(v, bool):
                continue
            if key.endswith("_pct"):
                self._add_pct(float(v), n, entry.get("design"))
            elif key.endswith("_months"):
                self.months.add(float(v))
            else:
                self.people.add(float(v))
        for key in _ENTRY_TEXT_KEYS:
            text = entry.get(key)
            if isinstance(text, str):
                self.add_text(text)

    def add_text(self, text: str) -> None:
        """The claims an identified entry's own words make (covered by its citation)."""
        for m in CLAIM.finditer(text):
            if m.group("pct"):
                self.pct.add(_value(m.group("pct")))
            elif m.group("mo"):
                self.months.update(_value(t) for t in (m.group("mo"), m.group("mo2")) if t)
            elif m.group("k"):
                k, den = _value(m.group("k")), _value(m.group("den"))
                self.people.update((k, den))
                if den == 10:
                    self.in_ten.add(int(k))
            elif m.group("yr"):
                self.months.add(12 * _value(m.group("yr")))
            elif m.group("n"):
                self.people.add(_value(m.group("n")))
            else:
                self.people.update(_value(t) for t in (m.group("cnt"), m.group("cntof")) if t)

    @staticmethod
    def _in(token: str, values: set[float]) -> bool:
        v, places = _value(token), _decimals(token)
        return any(f == v or round(f, places) == v for f in values)


def option_figures(option: dict[str, Any]) -> Figures:
    figures = Figures.empty()
    for entry in option.get("evidence") or []:
        figures.add_entry(entry)
    for entry in (option.get("safety") or {}).get("data") or []:
        figures.add_entry(entry)
    return figures


def _strings(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in _TEXT_KEYS_SKIPPED:
                yield from _strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


def _allowed_by_words(text: str, start: int, end: int) -> bool:
    for pattern, _reason in NON_FIGURES:
        for m in pattern.finditer(text):
            if m.start() < end and start < m.end():  # the words overlap the claim
                return True
    return False


def _traceable(m: re.Match[str], f: Figures) -> bool:
    if m.group("pct"):
        return f._in(m.group("pct"), f.pct)
    if m.group("mo"):
        return all(f._in(t, f.months) for t in (m.group("mo"), m.group("mo2")) if t)
    if m.group("yr"):  # "about 3 years" for a median of 36.6 months
        return any(math.floor(mo / 12 + 0.5) == int(m.group("yr")) for mo in f.months)
    if m.group("k"):
        k, den = _value(m.group("k")), _value(m.group("den"))
        share = 100 * k / den if den else -1.0
        if den in f.people and (k in f.people or any(abs(p - share) <= 1 for p in f.pct)):
            return True  # "about 17 of 24 people": a count of a group the entry reports
        if den == 10:
            return int(k) in f.in_ten
        if den == 100:
            return f._in(m.group("k"), f.pct)
        return den <= 4 and any(abs(p - share) <= 5 for p in f.pct)
    if m.group("n"):
        return f._in(m.group("n"), f.people)
    return all(f._in(t, f.people) for t in (m.group("cnt"), m.group("cntof")) if t)


def untraceable(text: str, where: str, figures: Figures) -> Iterator[Claim]:
    for m in CLAIM.finditer(text):
        if _allowed_by_words(text, m.start(), m.end()):
            continue
        if not _traceable(m, figures):
            yield Claim(where, m.group(0))


def option_claims(name: str, option: dict[str, Any]) -> list[Claim]:
    """Untraceable claims in one option file's free text.

    Text inside an identified evidence/safety entry is covered by its own citation; text in a
    withheld or unidentified entry may carry no claim; text elsewhere (summaries, rule
    reasons, safety prose) must match a figure of the option's identified entries, and a
    sentence that names a study a figure of that study.
    """
    figures = option_figures(option)
    found: list[Claim] = []
    entries: list[tuple[str, dict[str, Any]]] = [
        (f".evidence[{i}]", e) for i, e in enumerate(option.get("evidence") or [])
    ]
    entries += [
        (f".safety.data[{i}]", e)
        for i, e in enumerate((option.get("safety") or {}).get("data") or [])
    ]
    for prefix, entry in entries:
        own = Figures.empty()
        own.add_entry(entry)
        for path, text in _strings(entry, prefix):
            found.extend(untraceable(text, f"{name}{path}", own))
    named = _named_studies([e for _, e in entries])
    rest = {k: v for k, v in option.items() if k not in ("evidence",)}
    if isinstance(rest.get("safety"), dict):
        rest["safety"] = {k: v for k, v in rest["safety"].items() if k != "data"}
    for path, text in _strings(rest, ""):
        for sentence in _SENTENCE.finditer(text):
            words = sentence.group(0)
            keys = [k for k in named if re.search(rf"(?<![\w-]){re.escape(k)}(?![\w-])", words)]
            # a sentence that names a study may quote only that study's figures
            scope = figures
            if keys:
                scope = Figures.empty()
                for key in keys:
                    scope.merge(named[key])
            found.extend(untraceable(words, f"{name}{path}", scope))
    return found


_NOT_STUDY_KEYS = frozenset({"IMWG", "US", "FDA", "ILROG", "CAR", "BCMA", "RRMM", "RT"})


def _study_key(study: str) -> str | None:
    """The name a sentence uses for a study: its first word with a digit and two capitals
    ("MajesTEC-1", "NMAM2000"), else its first word with two capitals ("BOSTON", "UCSF")."""
    words = [w.strip(",;()") for w in study.split(" ")]
    named = [w for w in words if sum(c.isupper() for c in w) >= 2 and w not in _NOT_STUDY_KEYS]
    return next((w for w in named if any(c.isdigit() for c in w)), named[0] if named else None)


def _named_studies(entries: list[dict[str, Any]]) -> dict[str, Figures]:
    """Figures by the trial name a sentence would use for them."""
    named: dict[str, Figures] = {}
    for entry in entries:
        key = _study_key(str(entry.get("study", "")))
        if key is None:
            continue
        one = Figures.empty()
        one.add_entry(entry)
        named.setdefault(key, Figures.empty()).merge(one)
    return named


def _keys(cite: dict[str, Any]) -> Iterator[str]:
    if cite.get("pmid"):
        yield f"pmid:{cite['pmid']}"
    if cite.get("doi"):
        yield f"doi:{str(cite['doi']).lower()}"
    if cite.get("url"):
        yield f"url:{str(cite['url']).rstrip('/')}"


def by_source(options: Iterable[dict[str, Any]]) -> dict[str, Figures]:
    """The figures of every identified evidence/safety entry, by its citation's identifiers."""
    index: dict[str, Figures] = {}
    for option in options:
        entries = [*(option.get("evidence") or [])]
        entries += (option.get("safety") or {}).get("data") or []
        for entry in entries:
            one = Figures.empty()
            one.add_entry(entry)
            for key in _keys(entry.get("citation") or {}):
                index.setdefault(key, Figures.empty()).merge(one)
    return index


def _cited_here(node: dict[str, Any]) -> list[dict[str, Any]]:
    cites = node.get("citations")
    found = [c for c in cites if isinstance(c, dict)] if isinstance(cites, list) else []
    if isinstance(node.get("citation"), dict):
        found.append(node["citation"])
    return found


def _document_strings(
    node: Any, path: str, cites: tuple[dict[str, Any], ...]
) -> Iterator[tuple[str, str, tuple[dict[str, Any], ...]]]:
    if isinstance(node, dict):
        cites = cites + tuple(_cited_here(node))
        for key, value in node.items():
            if key not in _TEXT_KEYS_SKIPPED and key not in ("citations", "citation"):
                yield from _document_strings(value, f"{path}.{key}", cites)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _document_strings(value, f"{path}[{i}]", cites)
    elif isinstance(node, str):
        yield path, node, cites


def _cited_figure(text: str, claim: Claim, keys: set[str]) -> bool:
    for pattern, source, _reason in CITED_FIGURES:
        if source in keys and (m := pattern.search(text)) and claim.text in m.group(0):
            return True
    return False


def document_claims(name: str, document: Any, index: dict[str, Figures]) -> list[Claim]:
    """Untraceable claims in a support/visit/explanations document.

    A number in a piece of text may only be a figure of an identified evidence/safety entry
    (in any option file) that cites the same source (PMID, DOI or URL) as the piece does, or
    one of ``CITED_FIGURES`` where the piece cites that source.
    """
    found: list[Claim] = []
    for path, text, cites in _document_strings(document, "", ()):
        figures = Figures.empty()
        keys = {key for cite in cites for key in _keys(cite)}
        for key in keys & index.keys():
            figures.merge(index[key])
        found.extend(
            c for c in untraceable(text, name + path, figures) if not _cited_figure(text, c, keys)
        )
    return found


# Sources whose figures were withheld (no verified PMID/DOI). A sentence that names one may
# not carry a number, nor "half" (a rate in words is still that source's rate).
WITHHELD_NAMES = re.compile(
    r"Reyes|UCSF|Van Oekelen|Mount Sinai|MSKCC|Kumar, Blood 2017|Kumar 2017|phase 1 monotherapy|"
    r"MonumenTAL-3"
)
_SENTENCE = re.compile(r"(?:[^.;]|\.(?=\d))+")  # a decimal point does not end it
_HALF = re.compile(r"\bhalf\b", re.I)


def withheld_numbers(where: str, text: str) -> Iterator[Claim]:
    """Numbers in a sentence that names a source whose figures were withheld."""
    for sentence in _SENTENCE.finditer(text):
        words = sentence.group(0)
        if not WITHHELD_NAMES.search(words):
            continue
        for m in CLAIM.finditer(words):
            if not _allowed_by_words(words, m.start(), m.end()):
                yield Claim(where, m.group(0))
        for m in _HALF.finditer(words):
            yield Claim(where, m.group(0))


def all_withheld_numbers(name: str, document: Any) -> list[Claim]:
    return [c for path, text in _strings(document, "") for c in withheld_numbers(name + path, text)]
