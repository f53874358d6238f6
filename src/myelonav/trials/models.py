"""A typed view of one ClinicalTrials.gov API v2 study record.

``Study.from_v2(record)`` reads the fields myelonav reasons over (identification, status and
dates, phases, conditions, interventions resolved through the drug vocabulary, arms,
eligibility, locations with ``geoPoint``, sponsor). Nothing is dropped: every part of the
record that has no typed field is kept in ``extra`` (per study, and per location,
intervention, arm and contact), and ``Study.to_v2()`` rebuilds the original record from the
typed fields plus ``extra``. Unknown fields and unknown enum values are kept, never fatal.

Field names follow the v2 data structure (https://clinicaltrials.gov/data-api/about-api/
study-data-structure); enum values such as ``RECRUITING`` or ``PHASE2`` are kept verbatim.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from myelonav.errors import TrialsDataError
from myelonav.patient.vocabulary import Vocabulary, vocabulary

# Overall / site statuses under which a person can still join.
OPEN_STATUSES: frozenset[str] = frozenset(
    {"RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION", "AVAILABLE"}
)
ALL_STATUSES: tuple[str, ...] = (
    "ACTIVE_NOT_RECRUITING",
    "COMPLETED",
    "ENROLLING_BY_INVITATION",
    "NOT_YET_RECRUITING",
    "RECRUITING",
    "SUSPENDED",
    "TERMINATED",
    "WITHDRAWN",
    "AVAILABLE",
    "NO_LONGER_AVAILABLE",
    "TEMPORARILY_NOT_AVAILABLE",
    "APPROVED_FOR_MARKETING",
    "WITHHELD",
    "UNKNOWN",
)
ALL_PHASES: tuple[str, ...] = ("NA", "EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4")

NCT_ID = re.compile(r"^NCT\d{8}$")

# A record that says, in its own text, that it is not a real study is flagged as a sample so
# no output ever presents it as one (the bundled samples and fictional test records do).
SAMPLE_TITLE_MARK = "SAMPLE — fictional study written for myelonav"
_FICTION_MARKS = (
    SAMPLE_TITLE_MARK.lower(),
    "does not describe a real study",
)

_AGE = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(year|years|month|months|week|weeks|day|days|hour|hours|minute|minutes)\s*$",
    re.IGNORECASE,
)
_YEARS_PER_UNIT = {
    "year": 1.0,
    "month": 1.0 / 12.0,
    "week": 7.0 / 365.25,
    "day": 1.0 / 365.25,
    "hour": 1.0 / (365.25 * 24),
    "minute": 1.0 / (365.25 * 24 * 60),
}


def parse_age_years(value: str | None) -> float | None:
    """``"18 Years"`` → 18.0, ``"6 Months"`` → 0.5; None when absent or not an age."""
    if value is None:
        return None
    match = _AGE.match(value)
    if match is None:
        return None
    unit = match.group(2).lower().rstrip("s")
    return round(float(match.group(1)) * _YEARS_PER_UNIT[unit], 4)


def parse_date(value: str | None) -> dt.date | None:
    """A v2 date (``2024-05-01``) or partial date (``2024-05`` → 1 May, ``2024`` → 1 Jan)."""
    if not value:
        return None
    parts = value.strip().split("-")
    try:
        year = int(parts[0])
        month = int(parts[1]) if len(parts) > 1 else 1
        day = int(parts[2]) if len(parts) > 2 else 1
        return dt.date(year, month, day)
    except (ValueError, IndexError):
        return None


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Contact(_Part):
    """A central or site contact (``Contact`` in the v2 schema)."""

    name: str | None = None
    role: str | None = None
    phone: str | None = None
    phone_ext: str | None = None
    email: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_v2(cls, data: dict[str, Any]) -> Contact:
        r = _Reader(data)
        return cls(
            name=r.text("name"),
            role=r.text("role"),
            phone=r.text("phone"),
            phone_ext=r.text("phoneExt"),
            email=r.text("email"),
            extra=r.rest(),
        )

    def to_v2(self) -> dict[str, Any]:
        out = _compact(
            {
                "name": self.name,
                "role": self.role,
                "phone": self.phone,
                "phoneExt": self.phone_ext,
                "email": self.email,
            }
        )
        return _merge(out, self.extra)


class Location(_Part):
    """One study site with its own recruitment status and (when given) coordinates."""

    facility: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    status: str | None = None
    contacts: list[Contact] = Field(default_factory=list)
    lat: float | None = None
    lon: float | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_recruiting(self) -> bool:
        return self.status == "RECRUITING"

    @property
    def label(self) -> str:
        place = ", ".join(p for p in (self.city, self.state, self.country) if p)
        return f"{self.facility or 'site'} ({place})" if place else (self.facility or "site")

    @classmethod
    def from_v2(cls, data: dict[str, Any]) -> Location:
        r = _Reader(data)
        geo = r.obj("geoPoint")
        lat = lon = None
        if geo is not None:
            g = _Reader(geo)
            lat, lon = g.number("lat"), g.number("lon")
            if g.rest():
                r.keep("geoPoint", g.rest())
        return cls(
            facility=r.text("facility"),
            city=r.text("city"),
            state=r.text("state"),
            zip=r.text("zip"),
            country=r.text("country"),
            status=r.text("status"),
            contacts=[Contact.from_v2(c) for c in r.objects("contacts")],
            lat=lat,
            lon=lon,
            extra=r.rest(),
        )

    def to_v2(self) -> dict[str, Any]:
        geo = _compact({"lat": self.lat, "lon": self.lon}) or None
        out = _compact(
            {
                "facility": self.facility,
                "status": self.status,
                "city": self.city,
                "state": self.state,
                "zip": self.zip,
                "country": self.country,
                "contacts": [c.to_v2() for c in self.contacts],
                "geoPoint": geo,
            }
        )
        return _merge(out, self.extra)


class Intervention(_Part):
    """An intervention, with the vocabulary drugs it names (``drug_ids``, classes, targets)."""

    type: str | None = None
    name: str
    description: str | None = None
    other_names: list[str] = Field(default_factory=list)
    arm_group_labels: list[str] = Field(default_factory=list)
    drug_ids: list[str] = Field(default_factory=list)
    drug_classes: list[str] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_v2(cls, data: dict[str, Any], vocab: Vocabulary | None = None) -> Intervention:
        r = _Reader(data)
        name = r.text("name") or ""
        other_names = r.strings("otherNames")
        ids, classes, targets = resolve_agents([name, *other_names], vocab)
        return cls(
            type=r.text("type"),
            name=name,
            description=r.text("description"),
            other_names=other_names,
            arm_group_labels=r.strings("armGroupLabels"),
            drug_ids=ids,
            drug_classes=classes,
            targets=targets,
            extra=r.rest(),
        )

    def to_v2(self) -> dict[str, Any]:
        out = _compact(
            {
                "type": self.type,
                "name": self.name or None,
                "description": self.description,
                "armGroupLabels": self.arm_group_labels,
                "otherNames": self.other_names,
            }
        )
        return _merge(out, self.extra)


# Antigens named outright in intervention names ("anti-BCMA CAR T cells") count as targets
# even when the agent itself is not in the vocabulary. CD3 (the T-cell arm) is not a target.
_TARGET_NAMES = ("BCMA", "GPRC5D", "FcRH5", "CD38", "SLAMF7", "CD19", "TACI", "CD70")
_TARGET_PATTERN = re.compile(
    r"(?<![A-Za-z0-9])(" + "|".join(_TARGET_NAMES) + r")(?![A-Za-z0-9])", re.IGNORECASE
)
_TARGET_CANON = {t.lower(): t for t in _TARGET_NAMES}


def resolve_agents(
    names: Iterable[str], vocab: Vocabulary | None = None
) -> tuple[list[str], list[str], list[str]]:
    """Vocabulary drug ids, classes and targets named by intervention names.

    An exact name match wins; otherwise drugs are searched in the text, so
    "Talquetamab + Teclistamab" yields both agents. Antigens written in a name
    ("BCMA×GPRC5D×CD3 trispecific antibody") are added to the targets.
    """
    voc = vocab or vocabulary()
    ids: dict[str, None] = {}
    classes: set[str] = set()
    targets: dict[str, None] = {}
    for name in names:
        if not name:
            continue
        exact = voc.resolve(name)
        found = [exact] if exact is not None else voc.find_in_text(name)
        for drug in found:
            ids[drug.id] = None
            classes |= drug.classes
            if drug.target:
                targets[drug.target] = None
        for match in _TARGET_PATTERN.finditer(name):
            targets[_TARGET_CANON[match.group(1).lower()]] = None
    return list(ids), sorted(classes), list(targets)


class Arm(_Part):
    """An arm group (``ArmGroup``)."""

    label: str | None = None
    type: str | None = None
    description: str | None = None
    intervention_names: list[str] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_v2(cls, data: dict[str, Any]) -> Arm:
        r = _Reader(data)
        return cls(
            label=r.text("label"),
            type=r.text("type"),
            description=r.text("description"),
            intervention_names=r.strings("interventionNames"),
            extra=r.rest(),
        )

    def to_v2(self) -> dict[str, Any]:
        out = _compact(
            {
                "label": self.label,
                "type": self.type,
                "description": self.description,
                "interventionNames": self.intervention_names,
            }
        )
        return _merge(out, self.extra)


class Eligibility(_Part):
    """The eligibility module: free-text criteria plus the structured age/sex fields."""

    criteria_text: str = ""
    minimum_age: str | None = None
    maximum_age: str | None = None
    minimum_age_years: float | None = None
    maximum_age_years: float | None = None
    sex: str | None = None
    healthy_volunteers: bool | None = None
    std_ages: list[str] = Field(default_factory=list)


class Sponsor(_Part):
    name: str | None = None
    agency_class: str | None = None

    @classmethod
    def from_v2(cls, data: dict[str, Any]) -> Sponsor:
        r = _Reader(data)
        sponsor = cls(name=r.text("name"), agency_class=r.text("class"))
        leftover = r.rest()
        if leftover:
            raise _Leftover(leftover)
        return sponsor

    def to_v2(self) -> dict[str, Any]:
        return _compact({"name": self.name, "class": self.agency_class})


class _Leftover(Exception):
    def __init__(self, rest: dict[str, Any]) -> None:
        self.rest = rest


class Study(BaseModel):
    """One study. ``extra`` holds every part of the v2 record without a typed field."""

    model_config = ConfigDict(extra="forbid")

    nct_id: str
    brief_title: str = ""
    official_title: str | None = None
    acronym: str | None = None
    org_study_id: str | None = None
    overall_status: str | None = None
    last_known_status: str | None = None
    why_stopped: str | None = None
    study_type: str | None = None
    phases: list[str] = Field(default_factory=list)
    conditions: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    interventions: list[Intervention] = Field(default_factory=list)
    arms: list[Arm] = Field(default_factory=list)
    eligibility: Eligibility = Field(default_factory=Eligibility)
    locations: list[Location] = Field(default_factory=list)
    central_contacts: list[Contact] = Field(default_factory=list)
    sponsor: Sponsor = Field(default_factory=Sponsor)
    collaborators: list[Sponsor] = Field(default_factory=list)
    start_date: str | None = None  # partial date as registered: "2025-03" or "2025-03-14"
    start_date_type: str | None = None
    primary_completion_date: str | None = None
    completion_date: str | None = None
    first_post_date: dt.date | None = None
    last_update_date: dt.date | None = None  # LastUpdatePostDate, the sync cursor
    last_update_submit_date: dt.date | None = None
    brief_summary: str | None = None
    detailed_description: str | None = None
    has_results: bool | None = None
    is_sample: bool = False
    extra: dict[str, Any] = Field(default_factory=dict)

    # ------------------------------------------------------------------ derived views
    @property
    def title(self) -> str:
        return self.brief_title or self.official_title or self.nct_id

    @property
    def drug_ids(self) -> list[str]:
        return list(dict.fromkeys(d for i in self.interventions for d in i.drug_ids))

    @property
    def drug_classes(self) -> list[str]:
        return sorted({c for i in self.interventions for c in i.drug_classes})

    @property
    def targets(self) -> list[str]:
        return list(dict.fromkeys(t for i in self.interventions for t in i.targets))

    @property
    def recruiting_locations(self) -> list[Location]:
        return [loc for loc in self.locations if loc.is_recruiting]

    @property
    def url(self) -> str:
        return f"https://clinicaltrials.gov/study/{self.nct_id}"

    # ------------------------------------------------------------------ v2 mapping
    @classmethod
    def from_v2(
        cls, record: dict[str, Any], *, is_sample: bool = False, vocab: Vocabulary | None = None
    ) -> Study:
        """Read a v2 study record (the object under ``studies[]`` or from ``/studies/{id}``).

        Raises ``TrialsDataError`` naming the JSON path when the record lacks the v2 shape.
        """
        if not isinstance(record, dict):
            raise TrialsDataError("a study must be a JSON object", location="$")
        data = copy.deepcopy(record)
        protocol = data.get("protocolSection")
        if not isinstance(protocol, dict):
            raise TrialsDataError("missing 'protocolSection' object", location="$.protocolSection")
        ident = protocol.get("identificationModule")
        if not isinstance(ident, dict):
            raise TrialsDataError(
                "missing 'identificationModule'", location="$.protocolSection.identificationModule"
            )
        nct_id = ident.get("nctId")
        if not isinstance(nct_id, str) or not NCT_ID.match(nct_id):
            raise TrialsDataError(
                f"nctId must look like NCT00000000, got {nct_id!r}",
                location="$.protocolSection.identificationModule.nctId",
            )
        try:
            return cls._read(data, protocol, is_sample=is_sample, vocab=vocab)
        except _ShapeError as exc:
            raise TrialsDataError(exc.message, location=f"{nct_id}: $.{exc.path}") from None

    @classmethod
    def _read(
        cls,
        data: dict[str, Any],
        protocol: dict[str, Any],
        *,
        is_sample: bool,
        vocab: Vocabulary | None,
    ) -> Study:
        root = _Reader(data, "")
        p = _Reader(protocol, "protocolSection")
        ident = p.sub("identificationModule")
        status = p.sub("statusModule")
        sponsors = p.sub("sponsorCollaboratorsModule")
        desc = p.sub("descriptionModule")
        cond = p.sub("conditionsModule")
        design = p.sub("designModule")
        arms = p.sub("armsInterventionsModule")
        elig = p.sub("eligibilityModule")
        contacts = p.sub("contactsLocationsModule")

        org = ident.sub("orgStudyIdInfo")
        start = status.sub("startDateStruct")
        primary = status.sub("primaryCompletionDateStruct")
        completion = status.sub("completionDateStruct")
        first_post = status.sub("studyFirstPostDateStruct")
        last_update = status.sub("lastUpdatePostDateStruct")

        lead = sponsors.obj("leadSponsor")
        sponsor = _sponsor(lead, sponsors, "leadSponsor")
        collaborators: list[Sponsor] = []
        raw_collabs = sponsors.peek("collaborators")
        if isinstance(raw_collabs, list) and all(isinstance(c, dict) for c in raw_collabs):
            try:
                collaborators = [Sponsor.from_v2(c) for c in raw_collabs]
                sponsors.take("collaborators")
            except _Leftover:
                collaborators = []  # unusual keys: keep the whole list verbatim in extra

        min_age, max_age = elig.text("minimumAge"), elig.text("maximumAge")
        eligibility = Eligibility(
            criteria_text=elig.text("eligibilityCriteria") or "",
            minimum_age=min_age,
            maximum_age=max_age,
            minimum_age_years=parse_age_years(min_age),
            maximum_age_years=parse_age_years(max_age),
            sex=elig.text("sex"),
            healthy_volunteers=elig.flag("healthyVolunteers"),
            std_ages=elig.strings("stdAges"),
        )
        brief_title = ident.text("briefTitle") or ""
        detailed = desc.text("detailedDescription")
        study = cls(
            nct_id=ident.text("nctId") or "",
            brief_title=brief_title,
            official_title=ident.text("officialTitle"),
            acronym=ident.text("acronym"),
            org_study_id=org.text("id"),
            overall_status=status.text("overallStatus"),
            last_known_status=status.text("lastKnownStatus"),
            why_stopped=status.text("whyStopped"),
            study_type=design.text("studyType"),
            phases=design.strings("phases"),
            conditions=cond.strings("conditions"),
            keywords=cond.strings("keywords"),
            interventions=[Intervention.from_v2(i, vocab) for i in arms.objects("interventions")],
            arms=[Arm.from_v2(a) for a in arms.objects("armGroups")],
            eligibility=eligibility,
            locations=[Location.from_v2(loc) for loc in contacts.objects("locations")],
            central_contacts=[Contact.from_v2(c) for c in contacts.objects("centralContacts")],
            sponsor=sponsor,
            collaborators=collaborators,
            start_date=start.text("date"),
            start_date_type=start.text("type"),
            primary_completion_date=primary.text("date"),
            completion_date=completion.text("date"),
            first_post_date=first_post.date("date"),
            last_update_date=last_update.date("date"),
            last_update_submit_date=status.date("lastUpdateSubmitDate"),
            brief_summary=desc.text("briefSummary"),
            detailed_description=detailed,
            has_results=root.flag("hasResults"),
            is_sample=is_sample,
        )
        for reader in (org, start, primary, completion, first_post, last_update):
            reader.close()
        for reader in (ident, status, sponsors, desc, cond, design, arms, elig, contacts):
            reader.close()
        p.close()
        study.extra = root.rest()
        if not study.is_sample:
            study.is_sample = looks_fictional(brief_title, detailed)
        return study

    def to_v2(self) -> dict[str, Any]:
        """The v2 record this study was read from (typed fields merged with ``extra``)."""

        def date_struct(value: str | dt.date | None, kind: str | None = None) -> dict[str, Any]:
            return _compact({"date": value.isoformat() if isinstance(value, dt.date) else value})

        e = self.eligibility
        protocol = {
            "identificationModule": _compact(
                {
                    "nctId": self.nct_id,
                    "orgStudyIdInfo": _compact({"id": self.org_study_id}),
                    "briefTitle": self.brief_title or None,
                    "officialTitle": self.official_title,
                    "acronym": self.acronym,
                }
            ),
            "statusModule": _compact(
                {
                    "overallStatus": self.overall_status,
                    "lastKnownStatus": self.last_known_status,
                    "whyStopped": self.why_stopped,
                    "startDateStruct": _compact(
                        {"date": self.start_date, "type": self.start_date_type}
                    ),
                    "primaryCompletionDateStruct": date_struct(self.primary_completion_date),
                    "completionDateStruct": date_struct(self.completion_date),
                    "studyFirstPostDateStruct": date_struct(self.first_post_date),
                    "lastUpdateSubmitDate": self.last_update_submit_date.isoformat()
                    if self.last_update_submit_date
                    else None,
                    "lastUpdatePostDateStruct": date_struct(self.last_update_date),
                }
            ),
            "sponsorCollaboratorsModule": _compact(
                {
                    "leadSponsor": self.sponsor.to_v2(),
                    "collaborators": [c.to_v2() for c in self.collaborators],
                }
            ),
            "descriptionModule": _compact(
                {
                    "briefSummary": self.brief_summary,
                    "detailedDescription": self.detailed_description,
                }
            ),
            "conditionsModule": _compact(
                {"conditions": self.conditions, "keywords": self.keywords}
            ),
            "designModule": _compact({"studyType": self.study_type, "phases": self.phases}),
            "armsInterventionsModule": _compact(
                {
                    "armGroups": [a.to_v2() for a in self.arms],
                    "interventions": [i.to_v2() for i in self.interventions],
                }
            ),
            "eligibilityModule": _compact(
                {
                    "eligibilityCriteria": e.criteria_text or None,
                    "healthyVolunteers": e.healthy_volunteers,
                    "sex": e.sex,
                    "minimumAge": e.minimum_age,
                    "maximumAge": e.maximum_age,
                    "stdAges": e.std_ages,
                }
            ),
            "contactsLocationsModule": _compact(
                {
                    "centralContacts": [c.to_v2() for c in self.central_contacts],
                    "locations": [loc.to_v2() for loc in self.locations],
                }
            ),
        }
        out = {"protocolSection": _compact(protocol), "hasResults": self.has_results}
        return _merge(_compact(out), self.extra)

    def search_text(self) -> dict[str, str]:
        """The text of each indexed field (weights are applied by the index)."""
        names = [n for i in self.interventions for n in (i.name, *i.other_names)]
        return {
            "title": " ".join(
                t for t in (self.brief_title, self.official_title or "", self.acronym or "") if t
            ),
            "conditions": " ".join([*self.conditions, *self.keywords]),
            "interventions": " ".join([*names, *self.drug_ids, *self.targets]),
            "summary": " ".join(
                t for t in (self.brief_summary or "", self.detailed_description or "") if t
            ),
            "criteria": self.eligibility.criteria_text,
        }


def looks_fictional(title: str | None, description: str | None) -> bool:
    """True when a record declares itself fictional in its title or description."""
    text = f"{title or ''}\n{description or ''}".lower()
    return any(mark in text for mark in _FICTION_MARKS)


# ---------------------------------------------------------------------- reading helpers


class _ShapeError(Exception):
    def __init__(self, message: str, path: str) -> None:
        self.message, self.path = message, path


class _Reader:
    """Pops typed values out of a dict; what is left over (``rest``) becomes ``extra``.

    Empty values (``[]``, ``""``, ``{}``) and wrongly typed values are *left in place*, so
    ``to_v2`` (which only writes non-empty typed values) plus the leftovers gives back
    exactly the original record.
    """

    def __init__(self, data: dict[str, Any], path: str = "", parent: _Reader | None = None) -> None:
        self.data = data
        self.path = path
        self.parent = parent
        self.key: str | None = None
        self.initial_size = len(data)

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def peek(self, key: str) -> Any:
        return self.data.get(key)

    def take(self, key: str) -> Any:
        return self.data.pop(key, None)

    def keep(self, key: str, value: Any) -> None:
        self.data[key] = value

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if isinstance(value, str) and value != "":
            return str(self.data.pop(key))
        if value is not None and not isinstance(value, str):
            raise _ShapeError(f"expected a string, got {type(value).__name__}", self._where(key))
        return None

    def number(self, key: str) -> float | None:
        value = self.data.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            self.data.pop(key)
            return float(value)
        if value is not None:
            raise _ShapeError(f"expected a number, got {type(value).__name__}", self._where(key))
        return None

    def flag(self, key: str) -> bool | None:
        value = self.data.get(key)
        if isinstance(value, bool):
            self.data.pop(key)
            return value
        if value is not None:
            raise _ShapeError(f"expected true/false, got {value!r}", self._where(key))
        return None

    def date(self, key: str) -> dt.date | None:
        value = self.data.get(key)
        if not isinstance(value, str):
            return None
        parsed = parse_date(value)
        # only full ISO dates are consumed, so a partial or odd date survives in extra verbatim
        if parsed is not None and parsed.isoformat() == value:
            self.data.pop(key)
            return parsed
        return None

    def strings(self, key: str) -> list[str]:
        value = self.data.get(key)
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return list(self.data.pop(key))
        if value is not None and not isinstance(value, list):
            raise _ShapeError(
                f"expected a list of strings, got {type(value).__name__}", self._where(key)
            )
        return []

    def objects(self, key: str) -> list[dict[str, Any]]:
        value = self.data.get(key)
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            return list(self.data.pop(key))
        if value is not None and not isinstance(value, list):
            raise _ShapeError(
                f"expected a list of objects, got {type(value).__name__}", self._where(key)
            )
        return []

    def obj(self, key: str) -> dict[str, Any] | None:
        value = self.data.get(key)
        if isinstance(value, dict) and value:
            return dict(self.data.pop(key))
        if value is not None and not isinstance(value, dict):
            raise _ShapeError(f"expected an object, got {type(value).__name__}", self._where(key))
        return None

    def sub(self, key: str) -> _Reader:
        """A reader over a nested object; ``close()`` puts its leftovers back."""
        value = self.data.get(key)
        if value is not None and not isinstance(value, dict):
            raise _ShapeError(f"expected an object, got {type(value).__name__}", self._where(key))
        reader = _Reader(value if isinstance(value, dict) else {}, self._where(key), self)
        reader.key = key
        reader.initial_size = len(reader.data)
        return reader

    def close(self) -> None:
        if self.parent is None or self.key is None:
            return
        if self.key in self.parent.data and not self.data and self.initial_size:
            # every field was consumed: the (now empty) object is rebuilt by to_v2
            self.parent.data.pop(self.key)

    def rest(self) -> dict[str, Any]:
        return self.data


def _sponsor(lead: dict[str, Any] | None, reader: _Reader, key: str) -> Sponsor:
    if lead is None:
        return Sponsor()
    try:
        return Sponsor.from_v2(lead)
    except _Leftover as exc:
        sponsor = Sponsor(name=lead.get("name"), agency_class=lead.get("class"))
        reader.keep(key, exc.rest)
        return sponsor


def _compact(mapping: dict[str, Any]) -> dict[str, Any]:
    """Drop None and empty values (the reader never consumes empty ones)."""
    return {k: v for k, v in mapping.items() if v is not None and v != [] and v != {} and v != ""}


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``extra`` into ``base`` (objects merge, anything else from ``extra`` wins)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


__all__ = [
    "ALL_PHASES",
    "ALL_STATUSES",
    "OPEN_STATUSES",
    "SAMPLE_TITLE_MARK",
    "Arm",
    "Contact",
    "Eligibility",
    "Intervention",
    "Location",
    "Sponsor",
    "Study",
    "looks_fictional",
    "parse_age_years",
    "parse_date",
    "resolve_agents",
]
