"""Primary sources only: the CI check over every knowledge, support and visit data file."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from myelonav.knowledge.loader import bundled_options
from myelonav.knowledge.schema import Citation, Evidence, SafetyData, iter_leaves
from myelonav.knowledge.sources import (
    PUBLISHER_DOMAINS,
    SECONDARY_DOMAINS,
    check_url,
    host_of,
    iter_urls,
    source_kind,
)
from myelonav.knowledge.thresholds import IVIG_CITATION_DOI, IVIG_IGG_MG_DL

DATA_PACKAGES = ("myelonav.knowledge", "myelonav.support", "myelonav.visit")


def _data_files() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for package in DATA_PACKAGES:
        root = resources.files(package) / "data"
        stack = [root]
        while stack:
            node = stack.pop()
            for child in node.iterdir():
                if child.is_dir():
                    stack.append(child)
                elif child.name.endswith(".yaml"):
                    found.append((f"{package}/{child.name}", child))
    return sorted(found, key=lambda f: f[0])


DATA_FILES = _data_files()


def test_the_scan_sees_every_content_file() -> None:
    names = {name for name, _ in DATA_FILES}
    assert "myelonav.knowledge/teclistamab.yaml" in names
    assert "myelonav.support/resources.yaml" in names
    assert "myelonav.visit/questions.yaml" in names


@pytest.mark.parametrize("name,path", DATA_FILES, ids=[n for n, _ in DATA_FILES])
def test_no_secondary_or_unknown_domain_anywhere(name: str, path: Any) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems = [f"{field}: {why}" for field, url in iter_urls(data) if (why := check_url(url))]
    assert not problems, f"{name}: " + "; ".join(problems)


@pytest.mark.parametrize(
    "url",
    [
        "https://afnnews.qaasid.com/138493",
        "https://www.einpresswire.com/article/1",
        "https://ascopost.com/news/x",
        "http://ashpublications.net/blood/article/1",
        "https://www.mayoclinic.org/drugs-supplements/x",
        "https://example.com/paper",
        "https://nejm.org.evil.example/paper",
        "https://evilnejm.org/paper",
    ],
)
def test_secondary_mirror_and_unknown_domains_are_rejected(url: str) -> None:
    assert check_url(url) is not None
    with pytest.raises(ValidationError):
        Citation(source="x", year=2024, url=url)


@pytest.mark.parametrize(
    "url",
    [
        "https://ashpublications.org/blood/article/141/7/756/486978/x",
        "https://www.nejm.org/doi/full/10.1056/NEJMoa2203478",
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC10587778",
        "https://www.accessdata.fda.gov/drugsatfda_docs/label/2025/761400s000lbl.pdf",
        "https://clinicaltrials.gov/study/NCT04586426",
    ],
)
def test_publishers_regulators_and_registries_are_accepted(url: str) -> None:
    assert check_url(url) is None
    assert check_url(url, for_figure=True) is None


def test_an_organisation_page_is_a_pointer_never_a_figure_source() -> None:
    url = "https://www.lls.org/support-resources/financial-support"
    assert check_url(url) is None
    assert check_url(url, for_figure=True) is not None
    cite = Citation(source="LLS", year=2026, url=url)
    with pytest.raises(ValidationError, match="need a PMID, a DOI"):
        Evidence(
            study="x",
            design="phase_2",
            population="y",
            post_bcma_car_t="no",
            post_bispecific="no",
            orr_pct=50,
            citation=cite,
        )
    with pytest.raises(ValidationError, match="need a PMID, a DOI"):
        SafetyData(study="x", crs_pct=50, citation=cite)


def test_a_meeting_abstract_number_is_a_primary_identifier() -> None:
    cite = Citation(source="ASH 2021", year=2021, abstract="ASH 2021 abstract 84")
    entry = SafetyData(study="BELLINI", crs_pct=1, citation=cite)
    assert entry.citation is not None
    assert entry.citation.primary_identifier() == "ASH 2021 abstract 84"


def _figure_entries() -> list[tuple[str, Evidence | SafetyData]]:
    found: list[tuple[str, Evidence | SafetyData]] = []
    for option in bundled_options().values():
        entries: list[Evidence | SafetyData] = [*option.evidence, *option.safety.data]
        found += [
            (option.id, e)
            for e in entries
            if e.figures() or (isinstance(e, Evidence) and e.n is not None)
        ]
    return found


def test_every_shipped_figure_has_a_checkable_identifier() -> None:
    entries = _figure_entries()
    assert len(entries) > 40  # the scan really covers the shipped figures
    for option_id, entry in entries:
        assert entry.citation is not None, f"{option_id}: {entry.study}"
        assert entry.citation.checkable_identifier(), f"{option_id}: {entry.study}"


# The figures whose PMID/DOI could not be verified on 2026-12-04 were re-sourced to the FDA
# label that reports the same trial, with the label's arm-level n (issue 13).
LABEL_SOURCED = {
    ("selinexor_combinations", "STORM part 2"): ("XPOVIO", 83),
    ("selinexor_combinations", "BOSTON"): ("XPOVIO", 195),
    ("pomalidomide_combinations", "APOLLO"): ("DARZALEX FASPRO", 151),
    ("carfilzomib_combinations", "CANDOR"): ("KYPROLIS", 312),
}


def test_re_sourced_trials_cite_the_label_with_its_arm_level_n() -> None:
    found = {(oid, e.study): e for oid, e in _figure_entries() if isinstance(e, Evidence)}
    for key, (label, n) in LABEL_SOURCED.items():
        entry = found[key]
        assert entry.citation is not None and entry.citation.url is not None
        assert source_kind(entry.citation.url) == "regulator", key
        assert label in entry.citation.source and "section 14" in entry.citation.source, key
        assert entry.n == n, key


# Sources whose PMID/DOI the search tools could not verify (2026-12-04): their pages may name
# a study, but no figure may rest on them until the PMID/DOI is added.
UNVERIFIED_PAGES = (
    "https://ashpublications.org/bloodadvances/article/8/9/2207/515171",
    "https://ashpublications.org/blood/article/141/7/756/486978",
    "https://ashpublications.org/blood/article/130/22/2401/36573",
    "https://clinicaltrials.gov/study/NCT05455320",
)


def test_no_figure_rests_on_a_page_whose_identifier_was_not_verified() -> None:
    for option_id, entry in _figure_entries():
        url = (entry.citation.url if entry.citation else None) or ""
        if url.startswith(UNVERIFIED_PAGES):
            assert entry.citation is not None and entry.citation.has_pmid_or_doi(), (
                f"{option_id}: {entry.study}"
            )
    post_car_t = [
        e.study
        for o in bundled_options().values()
        for e in o.evidence
        if e.citation and (e.citation.url or "").startswith(UNVERIFIED_PAGES[:2])
    ]
    assert post_car_t  # the series are still listed, without figures


@pytest.mark.parametrize(
    "url",
    [
        "https://clinicaltrials.gov/study/NCT99999999",  # registry record
        "https://ashpublications.org/blood/article/1/1/1/1/Some-paper",  # publisher page
    ],
)
def test_a_publisher_or_registry_page_alone_is_refused(url: str) -> None:
    cite = Citation(source="Blood", year=2024, url=url)
    assert cite.primary_identifier() == url and cite.checkable_identifier() is None
    with pytest.raises(ValidationError, match=r"knowledge/identifiers\.py"):
        SafetyData(study="x", crs_pct=10, citation=cite)
    with_doi = Citation(source="Blood", year=2024, url=url, doi="10.1182/blood.2024000001")
    assert SafetyData(study="x", crs_pct=10, citation=with_doi).citation is not None


def test_a_label_or_guideline_page_identifies_a_figure() -> None:
    label = "https://www.accessdata.fda.gov/drugsatfda_docs/label/2025/761400s000lbl.pdf"
    assert Citation(source="FDA label", year=2025, url=label).checkable_identifier() == label
    guideline = "https://www.nccn.org/guidelines"
    assert Citation(source="NCCN", year=2026, url=guideline).checkable_identifier() == guideline


@given(st.text(max_size=60))
def test_check_url_never_crashes_and_only_allows_listed_hosts(text: str) -> None:
    url = f"https://{text}"
    try:
        host = host_of(url)
    except ValueError:
        return  # urlsplit refuses some hosts (e.g. bad IPv6); not a URL at all
    verdict = check_url(url)
    if verdict is None:
        assert host
        assert not any(host == d or host.endswith("." + d) for d in SECONDARY_DOMAINS)


def test_secondary_and_publisher_lists_do_not_overlap() -> None:
    assert not PUBLISHER_DOMAINS & SECONDARY_DOMAINS


# --------------------------------------------------------------------------- one IVIG rule


def test_one_ivig_threshold_everywhere() -> None:
    questions = yaml.safe_load(
        (resources.files("myelonav.visit") / "data" / "questions.yaml").read_text("utf-8")
    )
    ivig = next(q for q in questions["questions"] if q["id"] == "ivig")
    assert ivig["when"] == {"fact": "igg_mg_dl", "op": "lt", "value": IVIG_IGG_MG_DL}
    assert any(c.get("doi") == IVIG_CITATION_DOI for c in ivig["citations"])
    assert "400 mg/dL, or when" in ivig["why"]
    education = (resources.files("myelonav.support") / "data" / "education.yaml").read_text("utf-8")
    assert "below 400\n        mg/dL, or when bad infections" in education
    care = bundled_options()["supportive_palliative_care"]
    rule = next(r for r in care.rules if r.id == "low_igg_ivig")
    leaves = [leaf for leaf in iter_leaves(rule.when) if leaf.fact == "igg_mg_dl"]
    assert [leaf.value for leaf in leaves] == [IVIG_IGG_MG_DL]
    assert any(c.doi == IVIG_CITATION_DOI for c in rule.citations)
    assert "4 g/L" not in care.summary_clinician


def test_withheld_figures_are_flagged_and_really_absent() -> None:
    base: dict[str, Any] = dict(
        study="x",
        design="retrospective",
        population="y",
        post_bcma_car_t="yes",
        post_bispecific="partial",
        figures_withheld=True,
    )
    page = Citation(source="Blood", year=2023, url="https://ashpublications.org/blood/x")
    assert Evidence(**base, notes="PMID/DOI not verified", citation=page).figures() == {}
    with pytest.raises(ValidationError, match="figures_withheld"):
        Evidence(**base, citation=page)  # no note saying why
    with pytest.raises(ValidationError):
        Evidence(**base, notes="why", n=10, citation=page)
    withheld = [e for o in bundled_options().values() for e in o.evidence if e.figures_withheld]
    assert len(withheld) == 16 and all(not e.figures() and e.n is None for e in withheld)
