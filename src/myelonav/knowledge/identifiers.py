"""Which identifiers make a figure's source checkable, and the named exemptions.

A figure (a response rate, a survival time, a side-effect rate) must carry a PMID, a DOI, the
regulator's label or notice, a guideline, or the meeting's own abstract number. A publisher's
article page or a trial registry record names the study but is not enough on its own: the
curator must add the PMID or DOI.

``UNVERIFIED`` names each source whose PMID/DOI could not be verified with the search tool on
its review date; its figures stay (the numbers match the article page) but the exemption is
explicit, reviewed and dated. The schema refuses a figure cited by any other page, so a new
figure without an identifier fails CI; a test refuses an exemption no figure uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from myelonav.knowledge.sources import source_kind

# A label/notice (regulator) or a guideline page identifies the source on its own.
CHECKABLE_PAGE_KINDS = frozenset({"regulator", "guideline"})


@dataclass(frozen=True)
class Exemption:
    source: str  # the publication, as a reader would cite it
    why: str
    last_reviewed: dt.date


_REVIEWED = dt.date(2026, 12, 4)
_NOT_FOUND = (
    "PMID/DOI not found by the search tool (article page, reviews' reference lists, public "
    "BibTeX and PubMed pages searched); figures checked against the article's abstract"
)
_REGISTRY = (
    "PMID/DOI of the results paper not found by the search tool; the registry record names "
    "the trial and the paper is named in the citation title"
)

UNVERIFIED: dict[str, Exemption] = {
    "https://ashpublications.org/bloodadvances/article/8/9/2207/515171": Exemption(
        "Reyes et al., Blood Adv 2024;8(9):2207", _NOT_FOUND, _REVIEWED
    ),
    "https://ashpublications.org/bloodadvances/article/8/9/2207/515171/"
    "Salvage-therapies-including-retreatment-with-BCMA": Exemption(
        "Reyes et al., Blood Adv 2024;8(9):2207", _NOT_FOUND, _REVIEWED
    ),
    "https://ashpublications.org/blood/article/141/7/756/486978/"
    "Interventions-and-outcomes-of-patients-with": Exemption(
        "Van Oekelen et al., Blood 2023;141(7):756", _NOT_FOUND, _REVIEWED
    ),
    "https://ashpublications.org/blood/article/130/22/2401/36573/"
    "Efficacy-of-venetoclax-as-targeted-therapy-for": Exemption(
        "Kumar et al., Blood 2017;130(22):2401", _NOT_FOUND, _REVIEWED
    ),
    "https://clinicaltrials.gov/study/NCT03158688": Exemption(
        "Usmani et al., CANDOR final analysis (2023)", _REGISTRY, _REVIEWED
    ),
    "https://clinicaltrials.gov/study/NCT03180736": Exemption(
        "Dimopoulos et al., Lancet Oncol 2021 (APOLLO)", _REGISTRY, _REVIEWED
    ),
    "https://clinicaltrials.gov/study/NCT02336815": Exemption(
        "Chari et al., N Engl J Med 2019 (STORM part 2)", _REGISTRY, _REVIEWED
    ),
    "https://clinicaltrials.gov/study/NCT03110562": Exemption(
        "Grosicki et al., Lancet 2020 (BOSTON)", _REGISTRY, _REVIEWED
    ),
    "https://clinicaltrials.gov/study/NCT05455320": Exemption(
        "MonumenTAL-3 Investigators, N Engl J Med 2026 (interim analysis)", _REGISTRY, _REVIEWED
    ),
}


def checkable(
    *, pmid: str | None, doi: str | None, abstract: str | None, url: str | None
) -> str | None:
    """The identifier a reader can check a figure against, or None."""
    if pmid:
        return f"PMID {pmid}"
    if doi:
        return f"doi:{doi}"
    if abstract:
        return abstract
    if url and source_kind(url) in CHECKABLE_PAGE_KINDS:
        return url
    return None


__all__ = ["CHECKABLE_PAGE_KINDS", "UNVERIFIED", "Exemption", "checkable"]
