"""No number in the knowledge, support or visit text without a primary identifier (issue 13).

Every response rate, survival time, percentage, "N in 10" or group size in a summary, a rule
reason, an explanation or an education piece must be a figure of an evidence/safety entry
whose citation has a PMID, DOI, meeting abstract or label/guideline page and whose figures
are not withheld (see ``myelonav.knowledge.claims``). Non-figure numbers pass only through a named,
reasoned allow-list, and a sentence naming a withheld source carries no number at all.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from myelonav.knowledge.claims import (
    CITED_FIGURES,
    CLAIM,
    NON_FIGURES,
    WITHHELD_NAMES,
    Claim,
    all_withheld_numbers,
    by_source,
    document_claims,
    option_claims,
)
from myelonav.options.frequency import SMALL_GROUP, natural_frequency

PACKAGE = resources.files("myelonav")


def _load(path: Any) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


OPTIONS: dict[str, dict[str, Any]] = {
    p.name: _load(p)
    for p in sorted(PACKAGE.joinpath("knowledge/data/options").iterdir(), key=lambda p: p.name)
    if p.name.endswith(".yaml")
}
DOCUMENTS: dict[str, Any] = {
    "failure_explanations.yaml": _load(
        PACKAGE.joinpath("knowledge/data/failure_explanations.yaml")
    ),
    **{
        f"support/{p.name}": _load(p)
        for p in PACKAGE.joinpath("support/data").iterdir()
        if p.name.endswith(".yaml")
    },
    **{
        f"visit/{p.name}": _load(p)
        for p in PACKAGE.joinpath("visit/data").iterdir()
        if p.name.endswith(".yaml")
    },
}
INDEX = by_source(OPTIONS.values())


def _report(claims: list[Claim]) -> str:
    return "\n".join(str(c) for c in claims)


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_option_text_quotes_only_identified_figures(name: str) -> None:
    claims = option_claims(name, OPTIONS[name])
    assert not claims, (
        "numbers with no identified, non-withheld figure behind them (say it in words, "
        "quote the figure of an identified entry, or cite it in that entry):\n" + _report(claims)
    )


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_text_quotes_only_figures_of_its_cited_sources(name: str) -> None:
    claims = document_claims(name, DOCUMENTS[name], INDEX)
    assert not claims, (
        "numbers not traceable to an identified figure of a source the text cites:\n"
        + _report(claims)
    )


@pytest.mark.parametrize("name", sorted({**OPTIONS, **DOCUMENTS}))
def test_withheld_sources_supply_no_numbers(name: str) -> None:
    document = OPTIONS.get(name, DOCUMENTS.get(name))
    claims = all_withheld_numbers(name, document)
    assert not claims, "a sentence naming a withheld source carries numbers:\n" + _report(claims)


# ----------------------------------------------------------------- the check can fail


def _option(summary: str, evidence: list[dict[str, Any]]) -> dict[str, Any]:
    return {"summary_clinician": summary, "evidence": evidence, "safety": {}, "rules": []}


LABEL = {"source": "FDA label", "year": 2019, "url": "https://api.fda.gov/drug/label.json?x=1"}
REGISTRY = {"source": "NEJM", "year": 2019, "url": "https://clinicaltrials.gov/study/NCT02336815"}
STORM_LABEL = {"design": "phase_2", "n": 83, "orr_pct": 25.3, "citation": LABEL}


def test_the_old_selinexor_summary_fails() -> None:
    """The text that shipped before: STORM's N=122 and ORR 26% come from the paper whose
    PMID/DOI could not be verified; the label's subgroup (n=83, 25.3 %) is the figure."""
    old = "Selinexor-dexamethasone (STORM part 2, N=122): ORR 26%, median PFS 3.7 mo."
    found = {c.text for c in option_claims("old", _option(old, [STORM_LABEL]))}
    assert found == {"N=122", "26%", "3.7 mo"}
    new = "Selinexor-dexamethasone (STORM part 2, label subgroup n=83): ORR 25.3%."
    assert option_claims("new", _option(new, [STORM_LABEL])) == []


def test_a_withheld_or_unidentified_entry_supplies_no_number() -> None:
    withheld = {"design": "retrospective", "figures_withheld": True, "notes": "withheld"}
    unidentified = {"design": "phase_2", "n": 122, "orr_pct": 26, "citation": REGISTRY}
    text = "First salvage ORR 43.4% with median PFS 3.5 mo; ORR 26% (N=122)."
    found = {c.text for c in option_claims("x", _option(text, [withheld, unidentified]))}
    assert found == {"43.4%", "3.5 mo", "26%", "N=122"}
    # ...and its own notes may not carry numbers either
    noisy = {**withheld, "notes": "ORR 89% in 18 patients"}
    assert {c.text for c in option_claims("x", _option("None.", [noisy]))} == {
        "89%",
        "18 patients",
    }


def test_the_old_education_text_fails() -> None:
    old = {
        "citations": [{"label": "Van Oekelen", "source": "Blood", "year": 2023, **REGISTRY}],
        "body": [
            "One study followed 79 people whose myeloma came back after BCMA CAR T. Half "
            "of them were still alive about 18 months after the relapse."
        ],
        "clinician_notes": ["Van Oekelen 2023 (n=79): median OS 17.9 mo."],
    }
    found = {c.text for c in document_claims("old", old, INDEX)}
    assert {"79 people", "18 months", "n=79", "17.9 mo"} <= found
    assert {c.text for c in all_withheld_numbers("old", old)} == {"n=79", "17.9 mo"}


def test_a_small_group_is_not_said_in_tens() -> None:
    """Issue 13 item 4: "about 9 in 10" from 24 people is not how the page says it."""
    small = {"design": "phase_1", "n": 24, "orr_pct": 70.8, "citation": LABEL}
    said = "In one trial, about 7 in 10 people responded."
    assert [c.text for c in option_claims("x", _option(said, [small]))] == ["7 in 10"]
    counted = "In one trial, about 17 of 24 people responded (a small group)."
    assert option_claims("x", _option(counted, [small])) == []


@given(
    pct=st.floats(min_value=1, max_value=99, allow_nan=False).map(lambda v: round(v, 1)),
    n=st.integers(min_value=1, max_value=5_000),
    design=st.sampled_from(["phase_2", "phase_3", "retrospective"]),
)
def test_what_the_formatter_says_passes_and_another_rate_does_not(
    pct: float, n: int, design: str
) -> None:
    entry = {"design": design, "n": n, "orr_pct": pct, "citation": LABEL}
    words = natural_frequency(pct, n, design=design, what="responded")
    assert option_claims("x", _option(f"In one study {words}.", [entry])) == []
    # a different share than the figure's is caught, whichever way it is said
    other = pct + 30 if pct < 50 else pct - 30  # three tenths away, never 0 or 100
    if n >= SMALL_GROUP and design != "retrospective":
        wrong = natural_frequency(other, n, design=design)
        assert option_claims("x", _option(f"In one study {wrong}.", [entry])), wrong


# ----------------------------------------------------------------- the allow-lists earn their keep


def _all_text() -> list[str]:
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            out.append(node)

    for document in (*OPTIONS.values(), *DOCUMENTS.values()):
        walk(document)
    return out


TEXT = _all_text()


@pytest.mark.parametrize(("pattern", "reason"), NON_FIGURES, ids=[r for _, r in NON_FIGURES])
def test_every_non_figure_pattern_is_used(pattern: Any, reason: str) -> None:
    assert any(pattern.search(t) for t in TEXT), f"unused allow-list entry: {reason}"


@pytest.mark.parametrize(("pattern", "source", "reason"), CITED_FIGURES)
def test_every_cited_figure_is_used_and_identified(pattern: Any, source: str, reason: str) -> None:
    assert source.startswith(("pmid:", "doi:")), reason
    assert any(pattern.search(t) for t in TEXT), f"unused cited figure: {reason}"


def test_every_withheld_source_is_named_in_the_check() -> None:
    """A new withheld entry must be added to WITHHELD_NAMES, or its numbers could slip back
    into a summary under its name."""
    for name, option in OPTIONS.items():
        for entry in option["evidence"]:
            if entry.get("figures_withheld"):
                cite = entry.get("citation") or {}
                names = f"{entry['study']} {cite.get('authors', '')} {entry.get('notes', '')}"
                assert WITHHELD_NAMES.search(names), f"{name}: {entry['study']}"


def test_the_scan_reads_the_text() -> None:
    claims = sum(1 for t in TEXT for _ in CLAIM.finditer(t))
    assert claims > 200  # the knowledge does quote figures; the check sees them
    assert len(OPTIONS) >= 20 and "support/education.yaml" in DOCUMENTS


def test_paths_are_the_package_data() -> None:
    assert Path(str(PACKAGE.joinpath("knowledge/data/options"))).is_dir()


def test_a_sentence_naming_a_study_quotes_that_study() -> None:
    """A figure of one trial is not quoted under another trial's name."""
    boston = {"study": "BOSTON", "design": "phase_3", "n": 195, "orr_pct": 76.4, "citation": LABEL}
    storm = {"study": "STORM part 2", **STORM_LABEL}
    wrong = "In STORM part 2 the ORR was 76.4%. BOSTON: ORR 25.3%."
    assert {c.text for c in option_claims("x", _option(wrong, [boston, storm]))} == {
        "76.4%",
        "25.3%",
    }
    right = "In STORM part 2 the ORR was 25.3%. BOSTON: ORR 76.4%. Overall 76.4% and 25.3%."
    assert option_claims("x", _option(right, [boston, storm])) == []
