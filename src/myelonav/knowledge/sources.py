"""Which web sources content may cite: an allow-list of primary publishers and registries.

A figure (a response rate, a survival time, a side-effect rate, a price) must come from its
primary source: the peer-reviewed paper (PMID or DOI, or the publisher's own page), the
regulator's label or notice, a guideline, a trial registry or the meeting's own abstract.
News sites, press-release wires, mirrors, aggregators and unknown domains are never a source.
Non-figure pointers (a helpline, a co-pay foundation, a manufacturer's support programme) may
also use the organisation's own domain (``ORGANISATION_DOMAINS``).

A host is allowed when it equals an allowed domain or is a subdomain of one. Everything else is
rejected, with a hint when the domain is a known secondary source.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import urlsplit

SourceKind = Literal["publisher", "regulator", "registry", "guideline", "meeting", "organisation"]

# Peer-reviewed publishers and bibliographic databases (a journal's own article page).
PUBLISHER_DOMAINS: frozenset[str] = frozenset(
    {
        "ashpublications.org",
        "nejm.org",
        "thelancet.com",
        "nature.com",
        "ncbi.nlm.nih.gov",  # PubMed and PMC
        "doi.org",
        "ascopubs.org",
        "sciencedirect.com",
        "cell.com",
        "springer.com",
        "link.springer.com",
        "biomedcentral.com",
        "frontiersin.org",
        "wiley.com",
        "haematologica.org",
        "jamanetwork.com",
        "academic.oup.com",
        "tandfonline.com",
        "redjournal.org",
        "astctjournal.org",
        "journals.viamedica.pl",
        "aacrjournals.org",
        "bmj.com",
        "mdpi.com",
        "jhoonline.org",
        "jnccn.org",
    }
)
# Regulators and their label databases.
REGULATOR_DOMAINS: frozenset[str] = frozenset(
    {
        "fda.gov",  # www.fda.gov, accessdata.fda.gov, api.fda.gov
        "dailymed.nlm.nih.gov",
        "ema.europa.eu",
        "cms.gov",
        "medicare.gov",
        "medicaid.gov",
        "ssa.gov",
    }
)
REGISTRY_DOMAINS: frozenset[str] = frozenset(
    {"clinicaltrials.gov", "cancer.gov", "isrctn.com", "trialsearch.who.int"}
)
GUIDELINE_DOMAINS: frozenset[str] = frozenset(
    {"nccn.org", "esmo.org", "hematology.org", "ash-sap.org"}  # ash-sap: ASH's own programme
)
# The meetings' own abstract sites.
MEETING_DOMAINS: frozenset[str] = frozenset(
    {"ash.confex.com", "library.ehaweb.org", "eventscribe.net", "meetings.asco.org"}
)
# Organisations that run the help they describe: patient charities, co-pay foundations,
# helplines and the manufacturers' own patient-support programmes. Never a figure's source.
ORGANISATION_DOMAINS: frozenset[str] = frozenset(
    {
        "lls.org",
        "myeloma.org",
        "themmrf.org",
        "cancercare.org",
        "cancersupportcommunity.org",
        "988lifeline.org",
        "capc.org",
        "getpalliativecare.org",
        "healthwellfoundation.org",
        "panfoundation.org",
        "copays.org",
        "janssencarepath.com",
        "sanoficareassist.com",
        "bmsaccesssupport.com",
        "celltherapy360.com",  # BMS's CAR T patient-support programme
        "pfizeroncologytogether.com",
        "gskforyou.com",
        "amgenassist360.com",
        "regeneron.com",
        "karyopharm.com",
        "nmdp.org",
        "bethematch.org",
    }
)
_KIND_DOMAINS: tuple[tuple[SourceKind, frozenset[str]], ...] = (
    ("publisher", PUBLISHER_DOMAINS),
    ("regulator", REGULATOR_DOMAINS),
    ("registry", REGISTRY_DOMAINS),
    ("guideline", GUIDELINE_DOMAINS),
    ("meeting", MEETING_DOMAINS),
    ("organisation", ORGANISATION_DOMAINS),
)
# Known secondary sources, named so the error says why (the allow-list rejects them anyway).
SECONDARY_DOMAINS: frozenset[str] = frozenset(
    {
        "afnnews.qaasid.com",
        "scio-apps.com",
        "tlls.org",
        "d2in2m2.org",
        "mimsdev.com",
        "abcdocz.com",
        "x-mol.com",
        "einpresswire.com",
        "prnewswire.com",
        "ascopost.com",
        "physiciansweekly.com",
        "docwirenews.com",
        "ahdbonline.com",
        "multiplemyelomahub.com",
        "bloodcancerstoday.com",
        "jnccn360.org",
        "thelimbic.com",
        "researchwithnj.com",
        "maestrodatabase.com",
        "seekingalpha.com",
        "informa.com",
        "beckershospitalreview.com",
        "epocrates.com",
        "mayoclinic.org",
        "drugs.com",
        "prescriberpoint.com",
        "healthtree.org",
        "mskcc.org",
        "vumc.org",
        "ashpublications.net",
        "ashpublications.com",
        "blackboxrx.com",
        "rxreasoner.com",
        "skyscape.com",
        "tomesphere.com",
        "symptomatik.com",
        "hindawi.com",
        "mcphs.edu",
        "pamatters.com",
        "cancerconnect.com",
        "curetoday.com",
        "oncpracticemanagement.com",
        "precisionmedicineonline.com",
        "kyprolis-hcp.com",
        "blenrephcp.com",
        "jnjmedicalconnect.com",
        "jons-online.com",
        "synapse.mskcc.org",
    }
)
FIGURE_KINDS: frozenset[SourceKind] = frozenset(
    {"publisher", "regulator", "registry", "guideline", "meeting"}
)


def host_of(url: str) -> str:
    """The lower-case host of a URL, without ``www.`` and port."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _matches(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def source_kind(url: str) -> SourceKind | None:
    """What kind of allowed source a URL is, or None when it is not allowed."""
    host = host_of(url)
    if any(_matches(host, d) for d in SECONDARY_DOMAINS):
        return None
    for kind, domains in _KIND_DOMAINS:
        if any(_matches(host, d) for d in domains):
            return kind
    return None


def check_url(url: str, *, for_figure: bool = False) -> str | None:
    """Why a URL may not be cited (None when it may)."""
    host = host_of(url)
    if not host:
        return f"{url!r} has no host"
    if any(_matches(host, d) for d in SECONDARY_DOMAINS):
        return (
            f"{host} is a secondary source (news, press wire, mirror or aggregator); "
            "cite the paper (PMID/DOI), the label, the registry or the guideline instead"
        )
    kind = source_kind(url)
    if kind is None:
        return (
            f"{host} is not on the allow-list of primary publishers, regulators, registries, "
            "guidelines, meetings and organisations (knowledge/sources.py)"
        )
    if for_figure and kind not in FIGURE_KINDS:
        return f"{host} is an organisation's site; a figure needs its primary source"
    return None


def iter_urls(data: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every ``(field path, url)`` in parsed YAML: any string value that is a web address."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from iter_urls(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from iter_urls(value, f"{path}[{i}]")
    elif isinstance(data, str) and data.startswith(("http://", "https://")):
        yield path, data


__all__ = [
    "FIGURE_KINDS",
    "ORGANISATION_DOMAINS",
    "PUBLISHER_DOMAINS",
    "REGISTRY_DOMAINS",
    "REGULATOR_DOMAINS",
    "SECONDARY_DOMAINS",
    "check_url",
    "host_of",
    "iter_urls",
    "source_kind",
]
