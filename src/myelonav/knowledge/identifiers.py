"""Which identifiers make a figure's source checkable.

A figure (a response rate, a survival time, a side-effect rate, a group size) must carry a
PMID, a DOI, the regulator's label or notice, a guideline, or the meeting's own abstract
number. A publisher's article page or a trial registry record names the study but is not
enough on its own: the curator must add the PMID or DOI, cite the label that reports the same
trial, or leave the figure out. There are no exemptions: a figure whose identifier cannot be
verified is not shipped.
"""

from __future__ import annotations

from myelonav.knowledge.sources import source_kind

# A label/notice (regulator) or a guideline page identifies the source on its own.
CHECKABLE_PAGE_KINDS = frozenset({"regulator", "guideline"})


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


__all__ = ["CHECKABLE_PAGE_KINDS", "checkable"]
