"""Import a FHIR R4 Bundle (mCODE / US Core) into a ``PatientRecord``.

What the importer understands:

- ``Patient``: birth date, sex, postal code, country.
- ``Condition``: multiple myeloma (SNOMED 109989006, ICD-10 C90.0x, text), isotype from its
  text; plasma-cell leukaemia, extramedullary / paraskeletal plasmacytoma, CNS disease and bone
  lesions become disease sites.
- ``MedicationAdministration`` / ``MedicationStatement`` / ``MedicationRequest`` (and a
  referenced ``Medication``): resolved through the drug vocabulary by RxNorm code first, then by
  name; grouped into regimens (by the line note where there is one, else by start date);
  lymphodepletion before a CAR T infusion is recognised and not counted as a line.
- ``Procedure``: CAR T infusion, autologous / allogeneic transplant, radiation course.
- ``Observation``: labs by LOINC (or text) with UCUM units normalised, ECOG, FISH findings,
  CRS / ICANS maximum grade, antigen (BCMA, GPRC5D) status at relapse.

What it cannot map is listed in ``ImportReport.unmapped``; never dropped silently. Wrong shapes,
impossible dates, unknown units and records without myeloma raise an ``ImportError_`` (or
``NotMyelomaError``) naming the JSON path, and nothing is written.

It never breaks: JSON is read within size, depth and integer-digit limits (``_safe_json``);
every number is bounded before conversion (a lab value too large to be real leaves that lab
unmapped, elsewhere it is an error at its path); every resource is built inside an error
boundary that names it; text a profile cannot hold is kept as escaped text; and every text
pattern is linear in the length of the text (no ``a.*b``, no two adjacent whitespace runs), which
``tests/patient/test_linear_text.py`` checks on 100 KB hostile strings.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from myelonav.errors import ImportError_, MyelonavError, NotMyelomaError, UnitError
from myelonav.patient import comorbidity_terms
from myelonav.patient import terminology as term
from myelonav.patient._fhir_read import (
    as_dict,
    as_list,
    as_number,
    as_str,
    codings,
    concept_text,
    effective_period,
    fail,
    notes,
    parse_date,
    references,
    too_large,
)
from myelonav.patient._m_protein import absent_m_protein
from myelonav.patient._med_regimens import MedicationUse, build_regimens
from myelonav.patient._notes import (
    first_match,
    interpretation_code,
    parse_line_note,
    qualitative_from_text,
)
from myelonav.patient._safe_json import loads_limited, sanitize
from myelonav.patient.models import (
    QUALITATIVE_ANALYTES,
    AntigenStatus,
    CarTEpisode,
    CytogeneticFinding,
    Demographics,
    Diagnosis,
    DiseaseSite,
    DiseaseSiteKind,
    EcogAssessment,
    HeavyChain,
    Isotype,
    LabResult,
    LightChain,
    PatientRecord,
    Qualitative,
    RadiationCourse,
    ResponseCategory,
    Sex,
    Transplant,
    TransplantKind,
    UnmappedItem,
)
from myelonav.patient.profile_io import first_error
from myelonav.patient.units import to_canonical
from myelonav.patient.vocabulary import Drug, vocabulary

# the message of the last-resort boundary; the fuzzer counts it as a bug, like a traceback
INTERNAL_ERROR = "the importer failed on this record"
_SKIP_STATUS = frozenset({"entered-in-error", "cancelled", "not-done", "preliminary"})
_IGNORED_TYPES = frozenset(
    {
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Location",
        "Encounter",
        "Provenance",
        "Device",
        "Claim",
        "ExplanationOfBenefit",
        "CareTeam",
        "Coverage",
        "ImagingStudy",
        "DocumentReference",
        "DiagnosticReport",
        "Immunization",
        "AllergyIntolerance",
        "CarePlan",
        "Goal",
        "SupplyDelivery",
        "Media",
        "Specimen",
    }
)
_EARLIEST = dt.date(1900, 1, 1)
# A number is matched only from its first digit ((?<!\d)): starting inside a long run of digits
# would make every search quadratic. At most 3 whole digits: no real size, dose or count has more.
_SIZE_CM = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s*cm\b")
_DOSE_GY = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s*Gy")
_FRACTIONS = re.compile(r"(?<![\d.])(\d{1,3})\s*(?:fractions|fx)", re.I)
_CYTOGENETIC_CODE = re.compile(r"\bfish\b|cytogenetic|karyotype|chromosom")
_CYTOGENETIC_VALUE = re.compile(r"fish|cytogen", re.I)
_LINES_BEFORE = re.compile(r"lines? of therapy before car[- ]?t")
_CRS = re.compile(r"cytokine release|\bcrs\b")
_ICANS = re.compile(r"neurotoxicity|\bicans\b")
_ANTIGEN = re.compile(r"\b(bcma|gprc5d|fcrh5|cd38)\b")
_ANTIGEN_WORD = re.compile(r"expression|status|antigen|loss")
_BRIDGING = re.compile(r"bridging\s*(?:therapy\s*)?[:=]\s*([^;|]+)", re.I)


@dataclass
class _Infusion:
    """A CAR T infusion found in the bundle, before it becomes a ``CarTEpisode``."""

    path: str
    date: dt.date
    product: Drug | None
    line_number: int | None
    bridging: list[str]
    best_response: ResponseCategory | None
    progression_date: dt.date | None


class _Boundary:
    """Turns a model validation error while building one resource into an error at its path."""

    __slots__ = ("path", "source")

    def __init__(self, source: str, path: str) -> None:
        self.source = source
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if isinstance(exc, ValidationError):
            err = exc.errors()[0]
            field_path = ".".join(str(p) for p in err["loc"])
            message = f"{field_path}: {err['msg']}" if field_path else err["msg"]
            raise fail(f"{self.source}: {self.path}", message) from None


@dataclass
class ImportReport:
    """The imported record and an account of what was and was not mapped."""

    record: PatientRecord
    resource_counts: dict[str, int]
    mapped: int
    unmapped: list[UnmappedItem] = field(default_factory=list)

    def summary(self) -> str:
        total = sum(self.resource_counts.values())
        return (
            f"{total} resources read, {self.mapped} mapped, {len(self.unmapped)} not mapped "
            f"({', '.join(f'{k} {v}' for k, v in sorted(self.resource_counts.items()))})"
        )


def load_json(text: str | bytes, source: str) -> Any:
    """Parse JSON within the size, depth and integer-digit limits (``_safe_json``)."""
    return loads_limited(text, source)


def import_bundle_file(
    path: str | Path, *, as_of: dt.date | None = None, record_id: str | None = None
) -> ImportReport:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ImportError_(f"cannot read file: {exc.strerror}", location=str(p)) from None
    return import_bundle(load_json(raw, str(p)), source=str(p), as_of=as_of, record_id=record_id)


def import_bundle(
    data: Any,
    *,
    source: str = "bundle",
    as_of: dt.date | None = None,
    record_id: str | None = None,
) -> ImportReport:
    """Import a parsed FHIR Bundle. Raises ``ImportError_`` with a path on any problem.

    Strings in ``data`` that a profile cannot hold are replaced in place by their escaped text.
    """
    try:
        data = sanitize(data, source)
        return _Importer(source, as_of or dt.date.today(), record_id).run(data)
    except MyelonavError:
        raise
    except RecursionError:
        raise ImportError_("the bundle is nested too deeply to read", location=source) from None
    except Exception as exc:  # the last boundary: a user never sees a traceback
        raise ImportError_(
            f"{INTERNAL_ERROR} ({type(exc).__name__}); please report it", location=source
        ) from exc


class _Importer:
    def __init__(self, source: str, as_of: dt.date, record_id: str | None) -> None:
        self.source = source
        self.as_of = as_of
        self.record_id = record_id
        self.vocab = vocabulary()
        self.unmapped: list[UnmappedItem] = []
        self.comorbidities: list[comorbidity_terms.ComorbidityFinding] = []
        self.lvef: tuple[float, dt.date | None] | None = None
        self.counts: Counter[str] = Counter()
        self.mapped = 0
        self.by_ref: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ helpers
    def _where(self, path: str) -> str:
        return f"{self.source}: {path}"

    def _date(self, value: Any, path: str) -> dt.date | None:
        date = parse_date(value, self._where(path))
        if date is None:
            return None
        self._check_date(date, path)
        return date

    def _check_date(self, date: dt.date, path: str) -> None:
        """The bounds ``_date`` checks, for a date already parsed."""
        if date < _EARLIEST:
            raise fail(self._where(path), f"date {date} is before 1900")
        if date > self.as_of + dt.timedelta(days=1):
            raise fail(self._where(path), f"date {date} is in the future (as of {self.as_of})")

    def _skip(self, path: str, rtype: str, reason: str, text: str | None = None) -> None:
        self.unmapped.append(
            UnmappedItem(path=path, resource_type=rtype, reason=reason, text=(text or None))
        )

    def _resource(self, path: str) -> _Boundary:
        """Build what one resource says; a value the record cannot hold is an error at its path."""
        return _Boundary(self.source, path)

    # ------------------------------------------------------------------ main
    def run(self, data: Any) -> ImportReport:
        bundle = as_dict(data, self._where("(root)"))
        rtype = bundle.get("resourceType")
        if rtype != "Bundle":
            raise fail(self._where("resourceType"), f"expected 'Bundle', found {rtype!r}")
        entries = as_list(bundle.get("entry"), self._where("entry"))
        if not entries:
            raise fail(self._where("entry"), "the bundle has no entries")

        resources: list[tuple[str, dict[str, Any]]] = []
        for i, entry in enumerate(entries):
            path = f"entry[{i}]"
            entry = as_dict(entry, self._where(path))
            resource = entry.get("resource")
            if resource is None:
                self._skip(path, "?", "entry without a resource")
                continue
            resource = as_dict(resource, self._where(f"{path}.resource"))
            kind = resource.get("resourceType")
            if not isinstance(kind, str):
                raise fail(self._where(f"{path}.resource.resourceType"), "missing resourceType")
            self.counts[kind] += 1
            resources.append((f"{path}.resource", resource))
            full_url = entry.get("fullUrl")
            if isinstance(full_url, str):
                self.by_ref[full_url] = resource
            rid = as_str(resource.get("id"), self._where(f"{path}.resource.id"))
            if rid is not None:
                self.by_ref[f"{kind}/{rid}"] = resource
                self.by_ref[f"urn:uuid:{rid}"] = resource

        def of_type(name: str) -> list[tuple[str, dict[str, Any]]]:
            return [(p, r) for p, r in resources if r["resourceType"] == name]

        with self._resource("entry (Patient)"):
            demographics, patient_key, sample = self._patient(of_type("Patient"))
        diagnosis, sites = self._conditions(of_type("Condition"), demographics)
        procedures = self._procedures(of_type("Procedure"))
        meds = self._medications(resources)
        obs = self._observations(of_type("Observation"))

        for path, resource in resources:
            kind = resource["resourceType"]
            if kind in _IGNORED_TYPES:
                self._skip(path, kind, "resource type not used by myelonav")
            elif kind not in {
                "Patient",
                "Condition",
                "Procedure",
                "Observation",
                "Medication",
                "MedicationAdministration",
                "MedicationStatement",
                "MedicationRequest",
                "Bundle",
            }:
                self._skip(path, kind, "resource type not understood")

        car_t = self._car_t_episodes(procedures["car_t"], meds, obs)
        infusions = [c.infusion_date for c in car_t]
        lines, lymphodepletion = build_regimens(meds, infusions)
        self.mapped += lymphodepletion
        for episode in car_t:
            episode_lines = [ln for ln in lines if ln.start and ln.start >= episode.infusion_date]
            for ln in episode_lines:
                ln.after_car_t = True

        sites.extend(obs["sites"])
        record_data: dict[str, Any] = {
            "id": self.record_id or _safe_id(patient_key),
            "demographics": demographics,
            "diagnosis": diagnosis,
            "cytogenetics": obs["cytogenetics"],
            "therapy_lines": lines,
            "car_t": car_t,
            "transplants": procedures["transplants"],
            "radiation": procedures["radiation"],
            "labs": obs["labs"],
            "ecog": obs["ecog"],
            "disease_sites": sites,
            "unmapped": self.unmapped,
            "sample": sample,
            "lines_before_car_t_reported": obs["lines_reported"],
            "comorbidities": comorbidity_terms.apply(self.comorbidities, self.lvef),
        }
        try:
            record = PatientRecord.model_validate(record_data, from_attributes=True)
        except ValidationError as exc:
            raise ImportError_(str(first_error(exc, "record")), location=self.source) from None
        self._check_chronology(record)
        return ImportReport(record, dict(self.counts), self.mapped, list(self.unmapped))

    # ------------------------------------------------------------------ Patient
    def _patient(
        self, patients: list[tuple[str, dict[str, Any]]]
    ) -> tuple[Demographics, str, bool]:
        if not patients:
            raise fail(self._where("entry"), "the bundle has no Patient resource")
        keys = {r.get("id") for _, r in patients}
        if len(keys) > 1:
            raise fail(self._where("entry"), f"the bundle holds {len(keys)} different patients")
        path, patient = patients[0]
        birth = self._date(patient.get("birthDate"), f"{path}.birthDate")
        if birth is None:
            raise fail(
                self._where(f"{path}.birthDate"),
                "birth date is missing; age is needed to reason about options and trials",
            )
        gender = as_str(patient.get("gender"), self._where(f"{path}.gender"))
        sex = {"female": Sex.female, "male": Sex.male, "other": Sex.other}.get(
            gender or "", Sex.unknown
        )
        postal, country = None, None
        for i, address in enumerate(
            as_list(patient.get("address"), self._where(f"{path}.address"))
        ):
            address = as_dict(address, self._where(f"{path}.address[{i}]"))
            # an empty or blank string says nothing: the same as an absent field
            postal = (
                postal
                or (
                    as_str(
                        address.get("postalCode"), self._where(f"{path}.address[{i}].postalCode")
                    )
                    or ""
                ).strip()
            )
            country = (
                country
                or (
                    as_str(address.get("country"), self._where(f"{path}.address[{i}].country"))
                    or ""
                ).strip()
            )
        if country and not country.isascii():
            self._skip(f"{path}.address", "Patient", "country is not an ISO 3166 code", country)
            country = None
        if country:
            country = {"USA": "US", "UNITED STATES": "US"}.get(country.upper(), country.upper())
            if not re.fullmatch(r"[A-Z]{2}", country):
                self._skip(f"{path}.address", "Patient", "country is not an ISO 3166 code", country)
                country = None
        if postal and len(postal) > 16:
            postal = postal[:16]
        postal, country = postal or None, country or None
        self.mapped += 1
        key = str(patient.get("id") or "patient")
        for ident in as_list(patient.get("identifier"), self._where(f"{path}.identifier")):
            if isinstance(ident, dict) and isinstance(ident.get("value"), str):
                key = ident["value"]
                break
        meta = patient.get("meta")
        tags = meta.get("tag") if isinstance(meta, dict) else None
        sample = isinstance(tags, list) and any(
            isinstance(t, dict)
            and t.get("system") == "urn:myelonav:tag"
            and t.get("code") == "sample"
            for t in tags
        )
        demographics = Demographics(birth_date=birth, sex=sex, postal_code=postal, country=country)
        return demographics, key, sample

    # ------------------------------------------------------------------ Condition
    def _conditions(
        self, conditions: list[tuple[str, dict[str, Any]]], demographics: Demographics
    ) -> tuple[Diagnosis, list[DiseaseSite]]:
        diagnosis: Diagnosis | None = None
        sites: list[DiseaseSite] = []
        others: list[str] = []
        for path, cond in conditions:
            with self._resource(path):
                verification = _status_code(
                    cond.get("verificationStatus"), self._where(f"{path}.verificationStatus")
                )
                if verification == "entered-in-error" or (
                    verification == "refuted" and not self._comorbidity(path, cond, refuted=True)
                ):
                    self._skip(path, "Condition", "refuted or entered in error")
                    continue
                if verification == "refuted":
                    continue
                code_path = self._where(f"{path}.code")
                pairs = codings(cond.get("code"), code_path)
                text = concept_text(cond.get("code"), code_path)
                note_text = notes(cond, self._where(path))
                kind = term.condition_kind(pairs, text)
                onset = self._date(
                    cond.get("onsetDateTime"), f"{path}.onsetDateTime"
                ) or self._date(cond.get("recordedDate"), f"{path}.recordedDate")
                if onset and demographics.birth_date and onset < demographics.birth_date:
                    raise fail(
                        self._where(f"{path}.onsetDateTime"),
                        f"onset {onset} is before birth {demographics.birth_date}",
                    )
                body = (
                    ", ".join(
                        concept_text(b, self._where(f"{path}.bodySite[{i}]"))
                        for i, b in enumerate(
                            as_list(cond.get("bodySite"), self._where(f"{path}.bodySite"))
                        )
                    )
                    or None
                )
                if kind in {"myeloma", "pcl"} and (diagnosis is None or kind == "myeloma"):
                    if kind == "myeloma" or diagnosis is None:
                        isotype = _isotype(f"{text} {note_text}")
                        if diagnosis is None or (diagnosis.date is None and onset is not None):
                            diagnosis = Diagnosis(date=onset, isotype=isotype)
                        elif isotype.heavy_chain or isotype.light_chain or isotype.non_secretory:
                            diagnosis = Diagnosis(date=diagnosis.date, isotype=isotype)
                    if kind == "pcl":
                        sites.append(
                            DiseaseSite(
                                kind=DiseaseSiteKind.plasma_cell_leukemia, location=body, date=onset
                            )
                        )
                    self.mapped += 1
                elif kind == "pcl":
                    sites.append(
                        DiseaseSite(
                            kind=DiseaseSiteKind.plasma_cell_leukemia, location=body, date=onset
                        )
                    )
                    self.mapped += 1
                elif kind in {"emd", "paraskeletal", "cns", "bone_lesion"}:
                    site_kind = {
                        "emd": DiseaseSiteKind.extramedullary_plasmacytoma,
                        "paraskeletal": DiseaseSiteKind.paraskeletal_plasmacytoma,
                        "cns": DiseaseSiteKind.cns,
                        "bone_lesion": DiseaseSiteKind.bone_lesion,
                    }[kind]
                    status = _status_code(
                        cond.get("clinicalStatus"), self._where(f"{path}.clinicalStatus")
                    )
                    painful = True if re.search(r"\bpain", f"{text} {note_text}", re.I) else None
                    size = _SIZE_CM.search(f"{text} {note_text}")
                    sites.append(
                        DiseaseSite(
                            kind=site_kind,
                            location=body,
                            date=onset,
                            painful=painful,
                            size_cm=float(size.group(1)) if size else None,
                            active=None
                            if status is None
                            else status in {"active", "recurrence", "relapse"},
                        )
                    )
                    self.mapped += 1
                elif kind == "solitary":
                    self._skip(
                        path, "Condition", "solitary plasmacytoma is not multiple myeloma", text
                    )
                elif self._comorbidity(path, cond, refuted=False):
                    continue
                else:
                    others.append(text or ",".join(c for _, c in pairs) or "unnamed condition")
                    self._skip(path, "Condition", "condition not used by myelonav", text)
        if diagnosis is None:
            found = "; ".join(others[:3]) or "no conditions"
            raise NotMyelomaError(
                f"no multiple myeloma diagnosis in the bundle (found: {found})",
                location=self.source,
            )
        return diagnosis, sites

    def _comorbidity(self, path: str, cond: dict[str, Any], *, refuted: bool) -> bool:
        """Record a comorbidity the condition states (present, or absent when refuted)."""
        code_path = self._where(f"{path}.code")
        onset = self._date(cond.get("onsetDateTime"), f"{path}.onsetDateTime") or self._date(
            cond.get("recordedDate"), f"{path}.recordedDate"
        )
        found = comorbidity_terms.recognise(
            codings(cond.get("code"), code_path),
            concept_text(cond.get("code"), code_path),
            refuted=refuted,
            clinical_status=_status_code(
                cond.get("clinicalStatus"), self._where(f"{path}.clinicalStatus")
            ),
            date=onset,
        )
        if found is None:
            return False
        self.comorbidities.append(found)
        self.mapped += 1
        return True

    # ------------------------------------------------------------------ Procedure
    def _procedures(self, procedures: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
        out: dict[str, Any] = {"car_t": [], "transplants": [], "radiation": []}
        for path, proc in procedures:
            with self._resource(path):
                status = as_str(proc.get("status"), self._where(f"{path}.status"))
                if status in _SKIP_STATUS:
                    self._skip(path, "Procedure", f"status {status}")
                    continue
                pairs = codings(proc.get("code"), self._where(f"{path}.code"))
                text = concept_text(proc.get("code"), self._where(f"{path}.code"))
                note_text = notes(proc, self._where(path))
                kind = term.procedure_kind(pairs, f"{text} {note_text}")
                start, end = effective_period(proc, self._where(path), "performed")
                if start:
                    self._check_date(start, f"{path}.performed")
                note = parse_line_note(note_text)
                if kind == "car_t":
                    if start is None:
                        raise fail(self._where(f"{path}.performed"), "CAR T infusion has no date")
                    out["car_t"].append((path, proc, start, f"{text} {note_text}", note))
                elif kind in {"auto_sct", "allo_sct", "sct"}:
                    if kind == "sct":
                        self._skip(
                            path,
                            "Procedure",
                            "transplant type (auto/allo) not stated; recorded as autologous",
                            text,
                        )
                    out["transplants"].append(
                        Transplant(
                            kind=TransplantKind.allogeneic
                            if kind == "allo_sct"
                            else TransplantKind.autologous,
                            date=start,
                            line_number=note.line_number,
                            best_response=note.best_response,
                        )
                    )
                elif kind == "radiation":
                    dose = _DOSE_GY.search(f"{text} {note_text}")
                    fractions = _FRACTIONS.search(f"{text} {note_text}")
                    site = (
                        ", ".join(
                            concept_text(b, self._where(f"{path}.bodySite"))
                            for b in as_list(proc.get("bodySite"), self._where(f"{path}.bodySite"))
                        )
                        or None
                    )
                    out["radiation"].append(
                        RadiationCourse(
                            site=site,
                            start=start,
                            end=end,
                            dose_gy=float(dose.group(1))
                            if dose and float(dose.group(1)) <= 100
                            else None,
                            fractions=int(fractions.group(1))
                            if fractions and 1 <= int(fractions.group(1)) <= 60
                            else None,
                        )
                    )
                else:
                    self._skip(path, "Procedure", "procedure not used by myelonav", text)
                    continue
                self.mapped += 1
        return out

    # ------------------------------------------------------------------ Medication*
    def _medications(self, resources: list[tuple[str, dict[str, Any]]]) -> list[MedicationUse]:
        uses: list[MedicationUse] = []
        for path, res in resources:
            with self._resource(path):
                kind = res["resourceType"]
                if kind not in {
                    "MedicationAdministration",
                    "MedicationStatement",
                    "MedicationRequest",
                }:
                    continue
                status = as_str(res.get("status"), self._where(f"{path}.status"))
                if status in {"entered-in-error", "cancelled", "not-done", "not-taken", "draft"}:
                    self._skip(path, kind, f"status {status}")
                    continue
                drug, shown = self._drug(res, path)
                if drug is None:
                    self._skip(path, kind, "medication not in the myeloma drug vocabulary", shown)
                    continue
                if kind == "MedicationRequest":
                    start = self._date(res.get("authoredOn"), f"{path}.authoredOn")
                    end = None
                else:
                    start, end = effective_period(res, self._where(path), "effective")
                    for label, value in (("start", start), ("end", end)):
                        if value is not None:
                            self._check_date(value, f"{path}.effective {label}")
                if start is None:
                    self._skip(path, kind, "medication without a date", shown)
                    continue
                note_text = notes(res, self._where(path))
                reason_text = " ".join(
                    concept_text(r, self._where(f"{path}.statusReason[{i}]"))
                    for i, r in enumerate(
                        as_list(res.get("statusReason"), self._where(f"{path}.statusReason"))
                    )
                )
                part_of = references(res.get("partOf"), self._where(f"{path}.partOf"))
                uses.append(
                    MedicationUse(
                        path=path,
                        drug=drug,
                        start=start,
                        end=end,
                        status=status or "unknown",
                        note=parse_line_note(note_text),
                        reason_text=reason_text,
                        part_of=part_of,
                    )
                )
                self.mapped += 1
        return uses

    def _drug(self, res: dict[str, Any], path: str) -> tuple[Drug | None, str]:
        concept = res.get("medicationCodeableConcept")
        concept_path = f"{path}.medicationCodeableConcept"
        if concept is None and "medicationReference" in res:
            ref = references(
                [res["medicationReference"]], self._where(f"{path}.medicationReference")
            )
            medication = self.by_ref.get(ref[0]) if ref else None
            if medication is not None:
                concept = medication.get("code")
                concept_path = f"{path}.medicationReference->Medication.code"
            else:
                ref_obj = res["medicationReference"]
                display = ref_obj.get("display") if isinstance(ref_obj, dict) else None
                concept = {"text": display} if isinstance(display, str) else None
        if concept is None:
            return None, ""
        pairs = codings(concept, self._where(concept_path))
        text = concept_text(concept, self._where(concept_path))
        for system, code in pairs:
            if system == term.RXNORM or "rxnorm" in system.lower():
                drug = self.vocab.by_rxnorm(code)
                if drug is not None:
                    return drug, text
        drug = self.vocab.resolve(text)
        if drug is None and text:
            found = self.vocab.find_in_text(text)
            drug = found[0] if len(found) == 1 else None
        return drug, text

    # ------------------------------------------------------------------ Observation
    def _observations(self, observations: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "labs": [],
            "ecog": [],
            "cytogenetics": [],
            "grades": [],
            "antigen": [],
            "sites": [],
            "lines_reported": None,
        }
        for path, obs in observations:
            with self._resource(path):
                status = as_str(obs.get("status"), self._where(f"{path}.status"))
                if status in _SKIP_STATUS:
                    self._skip(path, "Observation", f"status {status}")
                    continue
                code_path = self._where(f"{path}.code")
                pairs = codings(obs.get("code"), code_path)
                text = concept_text(obs.get("code"), code_path)
                date, _ = effective_period(obs, self._where(path), "effective")
                if date is None:
                    date = self._date(obs.get("issued"), f"{path}.issued")
                else:
                    self._check_date(date, f"{path}.effective")
                loincs = [c for s, c in pairs if s == term.LOINC]
                lowered = text.lower()
                value_text = self._value_text(obs, path)
                if term.ECOG_LOINC in loincs or "ecog" in lowered:
                    score = self._value_number(obs, path)
                    if score is None or score not in range(6):
                        raise fail(self._where(f"{path}.value[x]"), "ECOG must be an integer 0-5")
                    out["ecog"].append(EcogAssessment(date=date, score=int(score)))
                elif _CYTOGENETIC_CODE.search(lowered) or (
                    not loincs
                    and term.cytogenetics_from_text(value_text)
                    and _CYTOGENETIC_VALUE.search(f"{lowered} {value_text}")
                ):
                    found = term.cytogenetics_from_text(value_text or text)
                    if not found:
                        self._skip(
                            path,
                            "Observation",
                            "cytogenetic result not understood",
                            value_text or text,
                        )
                        continue
                    method = (
                        "FISH"
                        if "fish" in lowered
                        else ("karyotype" if "karyotype" in lowered else None)
                    )
                    for abnormality, detected in found:
                        out["cytogenetics"].append(
                            CytogeneticFinding(
                                abnormality=abnormality, detected=detected, date=date, method=method
                            )
                        )
                elif _LINES_BEFORE.search(lowered):
                    count = self._value_number(obs, path)
                    if count is None or not 0 <= count <= 30 or count != int(count):
                        raise fail(
                            self._where(f"{path}.value[x]"),
                            "number of lines before CAR T must be a whole number 0-30",
                        )
                    out["lines_reported"] = int(count)
                elif _CRS.search(lowered) and "grade" in lowered:
                    out["grades"].append(("crs", path, obs, date))
                elif _ICANS.search(lowered) and "grade" in lowered:
                    out["grades"].append(("icans", path, obs, date))
                elif _ANTIGEN.search(lowered) and _ANTIGEN_WORD.search(lowered):
                    antigen = _ANTIGEN.search(lowered)
                    out["antigen"].append(
                        (antigen.group(1).upper() if antigen else "BCMA", value_text, date, path)
                    )
                elif comorbidity_terms.LVEF_LOINC in loincs or "ejection fraction" in lowered:
                    lvef = self._value_number(obs, path)
                    if lvef is None or not 5 <= lvef <= 90:
                        self._skip(path, "Observation", "ejection fraction not a plausible %", text)
                        continue
                    self.lvef = (lvef, date)
                else:
                    analyte = next(
                        (term.LOINC_TO_ANALYTE[c] for c in loincs if c in term.LOINC_TO_ANALYTE),
                        None,
                    ) or (term.analyte_from_text(text) if text else None)
                    if analyte is None:
                        self._skip(path, "Observation", "observation not used by myelonav", text)
                        continue
                    if date is None:
                        raise fail(
                            self._where(f"{path}.effective[x]"),
                            f"{analyte.value} result has no date",
                        )
                    lab = self._lab(obs, path, analyte, date, loincs)
                    if lab is None or isinstance(lab, str):
                        self._skip(path, "Observation", lab or "no usable value", text)
                        continue
                    out["labs"].append(lab)
                self.mapped += 1
        return out

    def _value_text(self, obs: dict[str, Any], path: str) -> str:
        if "valueCodeableConcept" in obs:
            return concept_text(
                obs["valueCodeableConcept"], self._where(f"{path}.valueCodeableConcept")
            )
        if "valueString" in obs:
            return as_str(obs["valueString"], self._where(f"{path}.valueString")) or ""
        if "valueBoolean" in obs:
            value = obs["valueBoolean"]
            return "positive" if value is True else "negative" if value is False else ""
        return ""

    def _value_number(self, obs: dict[str, Any], path: str) -> float | None:
        if "valueInteger" in obs:
            return as_number(obs["valueInteger"], self._where(f"{path}.valueInteger"))
        if "valueQuantity" in obs:
            quantity = as_dict(obs["valueQuantity"], self._where(f"{path}.valueQuantity"))
            return as_number(quantity.get("value"), self._where(f"{path}.valueQuantity.value"))
        if "valueCodeableConcept" in obs:
            codes = codings(
                obs["valueCodeableConcept"], self._where(f"{path}.valueCodeableConcept")
            )
            for _, code in codes:
                digits = re.search(r"\d+", code)
                if digits and len(code) <= 12 and code.startswith("LA") is False:
                    return float(digits.group(0))
            text = self._value_text(obs, path)
            digits = re.match(r"\s*(\d)\b", text)
            return float(digits.group(1)) if digits else None
        return None

    def _lab(
        self, obs: dict[str, Any], path: str, analyte: Any, date: dt.date, loincs: list[str]
    ) -> LabResult | str | None:
        """The lab result; None without a usable value; a reason when the value is unusable."""
        qualitative: Qualitative | None = None
        value: float | None = None
        upper: float | None = None
        below_limit = False
        if "valueQuantity" in obs and analyte not in QUALITATIVE_ANALYTES:
            qpath = f"{path}.valueQuantity"
            quantity = as_dict(obs["valueQuantity"], self._where(qpath))
            if too_large(quantity.get("value")):
                return "value too large"
            number = as_number(quantity.get("value"), self._where(f"{qpath}.value"))
            if number is None:
                return None
            comparator = quantity.get("comparator")
            # "< 0.1": below the detection limit; a fact apart from any low/high flag
            below_limit = comparator in ("<", "<=")
            unit = as_str(quantity.get("code"), self._where(f"{qpath}.code")) or as_str(
                quantity.get("unit"), self._where(f"{qpath}.unit")
            )
            try:
                value = to_canonical(analyte, number, unit, where=self._where(qpath))
            except UnitError:
                raise
            for i, rng in enumerate(
                as_list(obs.get("referenceRange"), self._where(f"{path}.referenceRange"))
            ):
                rng = as_dict(rng, self._where(f"{path}.referenceRange[{i}]"))
                high_path = f"{path}.referenceRange[{i}].high"
                high = rng.get("high")
                if high is None:
                    continue
                high = as_dict(high, self._where(high_path))
                if too_large(high.get("value")):
                    continue  # an unreadable reference range is not the result
                high_value = as_number(high.get("value"), self._where(f"{high_path}.value"))
                high_unit = as_str(high.get("code"), self._where(f"{high_path}.code")) or as_str(
                    high.get("unit"), self._where(f"{high_path}.unit")
                )
                if high_value is not None:
                    try:
                        upper = to_canonical(
                            analyte, high_value, high_unit or unit, where=self._where(high_path)
                        )
                    except UnitError:
                        upper = None  # a reference range we cannot read is not the result
                    break
        elif "valueInteger" in obs and analyte not in QUALITATIVE_ANALYTES:
            if too_large(obs["valueInteger"]):
                return "value too large"
            number = as_number(obs["valueInteger"], self._where(f"{path}.valueInteger"))
            if number is None:
                return None
            value = to_canonical(analyte, number, None, where=self._where(f"{path}.valueInteger"))
        else:
            qualitative = qualitative_from_text(self._value_text(obs, path))
        if qualitative is None:
            for i, interp in enumerate(
                as_list(obs.get("interpretation"), self._where(f"{path}.interpretation"))
            ):
                for _, code in codings(interp, self._where(f"{path}.interpretation[{i}]")):
                    qualitative = qualitative or interpretation_code(code)
        if value is None and absent_m_protein(analyte, obs):
            value, qualitative = 0.0, Qualitative.negative
        if value is None and qualitative is None:
            return None
        if analyte in QUALITATIVE_ANALYTES and qualitative not in (
            Qualitative.positive,
            Qualitative.negative,
        ):
            return None
        return LabResult(
            analyte=analyte,
            date=date,
            value=value,
            qualitative=qualitative,
            upper_limit_normal=upper,
            source_code=loincs[0] if loincs else None,
            # explicit False on a value flagged low: an absent below_limit marks a
            # pre-issue-17 profile (LabResult._legacy_low)
            below_limit=True
            if below_limit and value is not None
            else (False if qualitative is Qualitative.low and value is not None else None),
        )

    # ------------------------------------------------------------------ CAR T
    def _car_t_episodes(
        self, procedures: list[Any], meds: list[MedicationUse], obs: dict[str, Any]
    ) -> list[CarTEpisode]:
        episodes: list[_Infusion] = []
        for path, proc, date, text, note in procedures:
            found = [d for d in self.vocab.find_in_text(text) if d.is_("car_t")]
            linked = [
                m.drug
                for m in meds
                if m.drug.is_("car_t")
                and any(ref.endswith(str(proc.get("id"))) for ref in m.part_of)
            ]
            named = found or linked
            bridging_text = _BRIDGING.search(text)
            bridging = (
                [d.id for d in self.vocab.find_in_text(bridging_text.group(1))]
                if bridging_text
                else []
            )
            progressed = re.search(r"progression\s*[:=]\s*(\d{4}-\d{2}-\d{2})", text, re.I)
            episodes.append(
                _Infusion(
                    path,
                    date,
                    named[0] if named else None,
                    note.line_number,
                    bridging,
                    note.best_response,
                    self._date(progressed.group(1), f"{path}.note") if progressed else None,
                )
            )
        for med in meds:
            if not med.drug.is_("car_t"):
                continue
            same = [e for e in episodes if abs((e.date - med.start).days) <= 3]
            if same:
                same[0].product = same[0].product or med.drug
                continue
            episodes.append(
                _Infusion(med.path, med.start, med.drug, med.note.line_number, [], None, None)
            )
        for med in meds:
            if med.note.bridging and not med.drug.is_("car_t"):
                later = [e for e in episodes if e.date >= med.start]
                if later:
                    target = min(later, key=lambda e: e.date)
                    if med.drug.id not in target.bridging:
                        target.bridging.append(med.drug.id)
        episodes.sort(key=lambda e: e.date)
        result: list[CarTEpisode] = []
        for infusion in episodes:
            with self._resource(infusion.path):
                product = infusion.product
                if product is None:
                    self._skip(
                        infusion.path,
                        "Procedure",
                        "CAR T product not named; recorded as unspecified CAR T",
                    )
                result.append(
                    CarTEpisode(
                        product=product.id if product else "unspecified CAR T",
                        target_antigen=product.target if product else None,
                        infusion_date=infusion.date,
                        line_number=infusion.line_number,
                        bridging_agents=infusion.bridging,
                        best_response=infusion.best_response,
                        progression_date=infusion.progression_date,
                        investigational=product.investigational if product else False,
                    )
                )
        for kind, path, ob, date in obs["grades"]:
            grade = self._value_number(ob, path)
            if grade is None or not 0 <= grade <= 5:
                raise fail(self._where(f"{path}.value[x]"), f"{kind.upper()} grade must be 0-5")
            episode = self._episode_for(result, ob, date)
            if episode is None:
                self._skip(path, "Observation", f"{kind.upper()} grade without a CAR T infusion")
                continue
            field_name = "crs_max_grade" if kind == "crs" else "icans_max_grade"
            current = getattr(episode, field_name)
            setattr(
                episode, field_name, int(grade) if current is None else max(current, int(grade))
            )
        for antigen, value_text, date, path in obs["antigen"]:
            candidates = [e for e in result if e.target_antigen == antigen]
            if date is not None:
                candidates = [e for e in candidates if e.infusion_date <= date]
            if not candidates:
                self._skip(
                    path,
                    "Observation",
                    f"{antigen} status with no matching CAR T episode",
                    value_text,
                )
                continue
            status = _antigen_status(value_text)
            if status is None:
                self._skip(path, "Observation", "antigen status not understood", value_text)
                continue
            candidates[-1].antigen_status_at_relapse = status
            candidates[-1].antigen_status_date = date
        return result

    def _episode_for(
        self, episodes: list[CarTEpisode], ob: dict[str, Any], date: dt.date | None
    ) -> CarTEpisode | None:
        """The CAR T episode an observation belongs to: by ``partOf``, else by date."""
        for ref in references(ob.get("partOf"), self._where("Observation.partOf")):
            rid = ref.rsplit("/", 1)[-1].removeprefix("urn:uuid:")
            proc = (
                self.by_ref.get(ref)
                or self.by_ref.get(f"Procedure/{rid}")
                or self.by_ref.get(f"urn:uuid:{rid}")
            )
            if proc is not None and proc.get("resourceType") == "Procedure":
                start, _end = effective_period(proc, self._where("Procedure"), "performed")
                for episode in episodes:
                    if episode.infusion_date == start:
                        return episode
        if date is None:
            return episodes[-1] if episodes else None
        before = [e for e in episodes if e.infusion_date <= date]
        return before[-1] if before else None

    # ------------------------------------------------------------------ checks
    def _check_chronology(self, record: PatientRecord) -> None:
        birth = record.demographics.birth_date
        if birth is None:
            return
        dated: list[tuple[str, dt.date | None]] = [("diagnosis date", record.diagnosis.date)]
        dated += [(f"therapy line starting {ln.start}", ln.start) for ln in record.therapy_lines]
        dated += [(f"CAR T infusion {c.infusion_date}", c.infusion_date) for c in record.car_t]
        dated += [(f"{lab.analyte.value} result", lab.date) for lab in record.labs]
        for what, when in dated:
            if when is not None and when < birth:
                raise ImportError_(
                    f"{what} ({when}) is before the birth date ({birth})", location=self.source
                )


def _status_code(concept: Any, path: str) -> str | None:
    """The first code of a status CodeableConcept (clinicalStatus, verificationStatus)."""
    pairs = codings(concept, path)
    return pairs[0][1] if pairs else None


_ISOTYPE = re.compile(r"\bIg\s*([GADME])\b(?:\s*(?:[-/]\s*)?(kappa|lambda|κ|λ))?", re.I)
_LIGHT_ONLY = re.compile(
    r"light[- ]chain(?: only)?(?: myeloma)?[ ,(-]*(kappa|lambda|κ|λ)"
    r"|(kappa|lambda|κ|λ)\s+light[- ]chain",
    re.I,
)


def _isotype(text: str) -> Isotype:
    if re.search(r"non-?secretory|oligo-?secretory", text, re.I):
        return Isotype(non_secretory=True)
    light = _LIGHT_ONLY.search(text)
    if light:
        return Isotype(light_chain=_light(light.group(1) or light.group(2)))
    heavy = _ISOTYPE.search(text)
    if heavy:
        return Isotype(
            heavy_chain=HeavyChain(f"Ig{heavy.group(1).upper()}"),
            light_chain=_light(heavy.group(2)) if heavy.group(2) else None,
        )
    return Isotype()


def _light(word: str) -> LightChain:
    return LightChain.kappa if word.lower() in ("kappa", "κ") else LightChain.lambda_


_ANTIGEN_STATUS: list[tuple[re.Pattern[str], AntigenStatus]] = [
    (re.compile(r"not tested|not done|not assessed"), AntigenStatus.not_tested),
    (re.compile(r"\blow\b|dim|reduced|decreased"), AntigenStatus.low),
    (re.compile(r"negative|loss|lost|absent|not detected"), AntigenStatus.negative),
    (re.compile(r"positive|detected|present|retained|expressed"), AntigenStatus.positive),
]


def _antigen_status(text: str) -> AntigenStatus | None:
    return first_match(text, _ANTIGEN_STATUS)


def _safe_id(key: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._:\-]+", "-", key).strip("-")
    return cleaned[:128] or "patient"


__all__ = ["INTERNAL_ERROR", "ImportReport", "import_bundle", "import_bundle_file", "load_json"]
