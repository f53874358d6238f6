"""Turn a C-CDA R2.1 document into a FHIR R4 Bundle (as plain JSON data) for the FHIR importer.

One import path keeps one set of rules: the terminology, units, regimen grouping, CAR T
recognition and error checks all live in ``fhir_import``; this module only moves C-CDA
structures into the FHIR shapes that importer reads. Each bundle entry remembers the XPath-ish
location of the C-CDA element it came from, so errors and unmapped items point into the XML.

Sections are recognised by templateId (with or without the R2.1 extension) and, for vendors
that omit templateIds, by the section's LOINC code. Entries are taken by their element kind
within the section, so a missing or wrong entry templateId does not lose a fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

from myelonav.errors import ImportError_
from myelonav.patient import terminology as term
from myelonav.patient.ccda._xml import XSI, local, tag

# code system OIDs (HL7 v3) → FHIR system URIs
OID_SYSTEMS: dict[str, str] = {
    "2.16.840.1.113883.6.1": term.LOINC,
    "2.16.840.1.113883.6.96": term.SNOMED,
    "2.16.840.1.113883.6.90": term.ICD10CM,
    "2.16.840.1.113883.6.3": term.ICD10,
    "2.16.840.1.113883.6.88": term.RXNORM,
    "2.16.840.1.113883.6.8": term.UCUM,
    "2.16.840.1.113883.6.103": "http://hl7.org/fhir/sid/icd-9-cm",
    "2.16.840.1.113883.6.12": "http://www.ama-assn.org/go/cpt",
    "2.16.840.1.113883.6.4": "http://www.cms.gov/Medicare/Coding/ICD10",
    "2.16.840.1.113883.5.83": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
}

# section kind by templateId root (entries optional and required share the kind)
_SECTION_TEMPLATES: dict[str, str] = {
    "2.16.840.1.113883.10.20.22.2.5": "problems",
    "2.16.840.1.113883.10.20.22.2.5.1": "problems",
    "2.16.840.1.113883.10.20.22.2.24": "problems",  # hospital discharge diagnosis
    "2.16.840.1.113883.10.20.22.2.43": "problems",  # admission diagnosis
    "2.16.840.1.113883.10.20.22.2.20": "problems",  # past medical history
    "2.16.840.1.113883.10.20.22.2.1": "medications",
    "2.16.840.1.113883.10.20.22.2.1.1": "medications",
    "2.16.840.1.113883.10.20.22.2.11": "medications",  # discharge medications
    "2.16.840.1.113883.10.20.22.2.11.1": "medications",
    "2.16.840.1.113883.10.20.22.2.38": "medications",  # medications administered
    "2.16.840.1.113883.10.20.22.2.7": "procedures",
    "2.16.840.1.113883.10.20.22.2.7.1": "procedures",
    "2.16.840.1.113883.10.20.22.2.3": "results",
    "2.16.840.1.113883.10.20.22.2.3.1": "results",
    "2.16.840.1.113883.10.20.22.2.4": "results",  # vital signs
    "2.16.840.1.113883.10.20.22.2.4.1": "results",
    "2.16.840.1.113883.10.20.22.2.14": "results",  # functional status (ECOG)
    "2.16.840.1.113883.10.20.22.2.17": "results",  # social history
}
_SECTION_LOINC: dict[str, str] = {
    "11450-4": "problems",
    "11535-2": "problems",
    "46241-6": "problems",
    "11348-0": "problems",
    "10160-0": "medications",
    "10183-2": "medications",
    "29549-3": "medications",
    "47519-4": "procedures",
    "30954-2": "results",
    "8716-3": "results",
    "47420-5": "results",
    "29762-2": "results",
}
_PROBLEM_OBSERVATION = "2.16.840.1.113883.10.20.22.4.4"
_GENDER = {"F": "female", "M": "male", "UN": "other"}
_TS = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\.\d{1,6})?([+-]\d{4})?$")
_NUMBER = re.compile(r"^[+-]?(?:\d{1,15}(?:\.\d{0,15})?|\.\d{1,15})(?:[eE][+-]?\d{1,3})?$")
_MAX_TEXT = 1000  # bounded so every text search downstream stays fast
_MAX_CONCEPT_TEXT = 500
_STRUCTURAL_CODES = frozenset({"CONC", "ASSERTION", "48765-2", "75326-9", "55607006"})


@dataclass
class Converted:
    """The bundle built from a document, the C-CDA location of each entry, and what was left."""

    bundle: dict[str, Any]
    locations: list[str]
    unmapped: list[tuple[str, str, str | None]] = field(default_factory=list)


class Converter:
    def __init__(self, root: Element, source: str) -> None:
        self.root = root
        self.source = source
        self.parents: dict[Element, Element] = {}
        self.ids: dict[str, Element] = {}
        for parent in root.iter():
            for child in parent:
                self.parents[child] = parent
            ident = parent.get("ID")
            if ident:
                self.ids[ident] = parent
        self.entries: list[dict[str, Any]] = []
        self.locations: list[str] = []
        self.unmapped: list[tuple[str, str, str | None]] = []
        self.counter = 0

    # ------------------------------------------------------------------ locations and errors
    def where(self, element: Element) -> str:
        """An XPath-ish location: /ClinicalDocument/component/.../entry[3]/observation/value."""
        steps: list[str] = []
        node: Element | None = element
        while node is not None:
            parent = self.parents.get(node)
            name = local(node)
            if parent is not None:
                same = [c for c in parent if c.tag == node.tag]
                if len(same) > 1:
                    name = f"{name}[{same.index(node) + 1}]"
            steps.append(name)
            node = parent
        return "/" + "/".join(reversed(steps))

    def fail(self, element: Element, message: str) -> ImportError_:
        return ImportError_(message, location=f"{self.source}: {self.where(element)}")

    # ------------------------------------------------------------------ small readers
    def child(self, element: Element, *names: str) -> Element | None:
        node: Element | None = element
        for name in names:
            if node is None:
                return None
            node = node.find(tag(name))
        return node

    def templates(self, element: Element) -> set[str]:
        return {t.get("root", "") for t in element.findall(tag("templateId"))}

    def text_of(self, element: Element | None) -> str | None:
        """Element text, or the narrative it references (``<reference value="#id"/>``)."""
        if element is None:
            return None
        ref = element.find(tag("reference"))
        if ref is not None:
            target = (ref.get("value") or "").lstrip("#")
            narrative = self.ids.get(target)
            if narrative is not None:
                return _clean("".join(narrative.itertext()))
        text = _clean("".join(element.itertext()))
        return text or None

    def date(self, element: Element | None, attribute: str = "value") -> str | None:
        """An HL7 TS (``20240315``, ``202403``, ``20240315103000-0500``) as a FHIR date."""
        if element is None or element.get("nullFlavor"):
            return None
        value = (element.get(attribute) or "").strip()
        if not value:
            return None
        match = _TS.match(value)
        if not match:
            raise self.fail(element, f"{value!r} is not an HL7 date (YYYY[MM[DD[hhmmss]]])")
        year, month, day = match[1], match[2], match[3]
        if month and not 1 <= int(month) <= 12:
            raise self.fail(element, f"{value!r} has month {month}")
        if day and not 1 <= int(day) <= 31:
            raise self.fail(element, f"{value!r} has day {day}")
        return "-".join(p for p in (year, month, day) if p)

    def period(self, element: Element) -> tuple[str | None, str | None]:
        """(start, end) from the first effectiveTime: a point ``value`` or ``low``/``high``."""
        times = [
            t
            for t in element.findall(tag("effectiveTime"))
            if t.get(f"{{{XSI}}}type") not in ("PIVL_TS", "EIVL_TS", "SXPR_TS")
        ]
        if not times:
            return None, None
        eff = times[0]
        point = self.date(eff)
        if point is not None:
            return point, point
        low, high = self.date(self.child(eff, "low")), self.date(self.child(eff, "high"))
        if low is None:
            center = self.date(self.child(eff, "center"))
            if center is not None:
                return center, center
        return low, high

    def concept(self, element: Element | None) -> dict[str, Any] | None:
        """A CD/CE as a CodeableConcept: code, translations and original text."""
        if element is None:
            return None
        codings: list[dict[str, str]] = []
        for node in (element, *element.findall(tag("translation"))):
            code = _yaml_safe((node.get("code") or "").strip())
            if code and not node.get("nullFlavor"):
                oid = node.get("codeSystem") or ""
                coding = {
                    "system": OID_SYSTEMS.get(oid, f"urn:oid:{oid}" if oid else ""),
                    "code": code,
                }
                display = node.get("displayName")
                if display:
                    coding["display"] = _clean(display)[:_MAX_CONCEPT_TEXT]
                codings.append(coding)
        original = self.text_of(element.find(tag("originalText")))
        concept: dict[str, Any] = {}
        if codings:
            concept["coding"] = codings
        if original:
            concept["text"] = original[:_MAX_CONCEPT_TEXT]
        return concept or None

    def entry_text(self, element: Element) -> str | None:
        return self.text_of(element.find(tag("text")))

    def add(self, resource: dict[str, Any], element: Element) -> None:
        self.counter += 1
        resource["id"] = f"c{self.counter}"
        self.entries.append({"fullUrl": f"urn:uuid:c{self.counter}", "resource": resource})
        self.locations.append(self.where(element))

    def leave(self, element: Element, reason: str, text: str | None = None) -> None:
        self.unmapped.append((self.where(element), reason, (text or "")[:_MAX_TEXT] or None))

    # ------------------------------------------------------------------ document
    def run(self) -> Converted:
        if local(self.root) != "ClinicalDocument" or not self.root.tag.startswith("{urn:hl7"):
            raise ImportError_(
                f"not a C-CDA document: the root element is <{local(self.root)}>, "
                "expected <ClinicalDocument> in the urn:hl7-org:v3 namespace",
                location=f"{self.source}: /{local(self.root)}",
            )
        self.patient()
        body = self.child(self.root, "component", "structuredBody")
        if body is None:
            raise ImportError_(
                "the document has no structured body (an unstructured C-CDA carries only a "
                "PDF or text; export the record as a CCD instead)",
                location=f"{self.source}: /ClinicalDocument/component",
            )
        for section in body.iter(tag("section")):
            self.section(section)
        bundle = {"resourceType": "Bundle", "type": "collection", "entry": self.entries}
        return Converted(bundle, self.locations, self.unmapped)

    def patient(self) -> None:
        role = self.child(self.root, "recordTarget", "patientRole")
        if role is None:
            raise ImportError_(
                "the document has no recordTarget/patientRole (no patient)",
                location=f"{self.source}: /ClinicalDocument/recordTarget",
            )
        person = role.find(tag("patient"))
        resource: dict[str, Any] = {"resourceType": "Patient"}
        idents = [i.get("extension") for i in role.findall(tag("id")) if i.get("extension")]
        if idents:
            resource["identifier"] = [{"value": str(idents[0])[:128]}]
        if person is not None:
            birth = self.date(person.find(tag("birthTime")))
            if birth is not None:
                resource["birthDate"] = birth
            gender = person.find(tag("administrativeGenderCode"))
            if gender is not None:
                resource["gender"] = _GENDER.get(gender.get("code") or "", "unknown")
        addr = role.find(tag("addr"))
        if addr is not None:
            address: dict[str, str] = {}
            for part, key in (("postalCode", "postalCode"), ("country", "country")):
                value = self.text_of(addr.find(tag(part)))
                if value:
                    address[key] = value[:64]
            if address:
                resource["address"] = [address]
        self.add(resource, person if person is not None else role)

    # ------------------------------------------------------------------ sections
    def section_kind(self, section: Element) -> str | None:
        for root in self.templates(section):
            if root in _SECTION_TEMPLATES:
                return _SECTION_TEMPLATES[root]
        code = section.find(tag("code"))
        if code is not None:
            return _SECTION_LOINC.get(code.get("code") or "")
        return None

    def section(self, section: Element) -> None:
        kind = self.section_kind(section)
        entries = section.findall(tag("entry"))
        if section.get("nullFlavor") or not entries:
            return
        title = self.text_of(section.find(tag("title"))) or "untitled section"
        for entry in entries:
            if kind == "problems":
                self.problems(entry)
            elif kind == "medications":
                self.medications(entry)
            elif kind == "procedures":
                self.procedures(entry)
            elif kind == "results":
                self.results(entry)
            else:
                statement = next(iter(entry), entry)
                self.leave(
                    statement, f"section '{title}' not used by myelonav", self.describe(statement)
                )

    def describe(self, element: Element) -> str | None:
        """A short label for an entry: its own codes, else its first nested observation's."""
        for node in (element, *element.iter(tag("observation"))):
            labels = []
            for part in ("code", "value"):
                concept = self.concept(node.find(tag(part)))
                label = _concept_label(concept) if concept else ""
                if label and label not in _STRUCTURAL_CODES:
                    labels.append(label)
            text = "; ".join(labels) or self.entry_text(node)
            if text:
                return text
        return None

    # ------------------------------------------------------------------ problems
    def problems(self, entry: Element) -> None:
        found = [
            o for o in entry.iter(tag("observation")) if _PROBLEM_OBSERVATION in self.templates(o)
        ]
        if not found:  # vendors without entry templateIds: the top-level observations
            found = [o for o in _top_level(entry, "observation", self.parents)]
        if not found:
            self.leave(next(iter(entry), entry), "problem entry without an observation")
            return
        concern = entry.find(tag("act"))
        concern_status = _status(concern)
        for obs in found:
            self.problem(obs, concern_status)

    def problem(self, obs: Element, concern_status: str | None) -> None:
        if obs.get("negationInd") == "true":
            self.leave(obs, "problem recorded as absent (negationInd)", self.describe(obs))
            return
        value = obs.find(tag("value"))
        concept = self.concept(value) or {}
        if "text" not in concept:
            text = self.text_of(value.find(tag("originalText"))) if value is not None else None
            text = text or self.entry_text(obs)
            if text:
                concept["text"] = text[:_MAX_CONCEPT_TEXT]
        if not concept:
            self.leave(obs, "problem without a code or text")
            return
        onset, abated = self.period(obs)
        resource: dict[str, Any] = {"resourceType": "Condition", "code": concept}
        status = "resolved" if abated or concern_status == "completed" else "active"
        if concern_status in ("suspended", "aborted"):
            status = "inactive"
        resource["clinicalStatus"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": status,
                }
            ]
        }
        if onset:
            resource["onsetDateTime"] = onset
        sites = [self.concept(s) for s in obs.findall(tag("targetSiteCode"))]
        sites_present = [s for s in sites if s]
        if sites_present:
            resource["bodySite"] = sites_present
        self.add(resource, obs)

    # ------------------------------------------------------------------ medications
    def medications(self, entry: Element) -> None:
        found = _top_level(entry, "substanceAdministration", self.parents)
        if not found:
            self.leave(
                next(iter(entry), entry), "medication entry without a substanceAdministration"
            )
            return
        for admin in found:
            self.medication(admin)

    def medication(self, admin: Element) -> None:
        material = self.child(admin, "consumable", "manufacturedProduct", "manufacturedMaterial")
        code = material.find(tag("code")) if material is not None else None
        concept = self.concept(code) or {}
        if "text" not in concept and material is not None:
            name = self.text_of(material.find(tag("name")))
            text = name or self.entry_text(admin)
            if text:
                concept["text"] = text[:_MAX_CONCEPT_TEXT]
        if not concept:
            self.leave(admin, "medication without a code or name")
            return
        if admin.get("negationInd") == "true":
            self.leave(admin, "medication recorded as not given", _concept_label(concept))
            return
        start, end = self.period(admin)
        mood = admin.get("moodCode") or "EVN"
        status = _status(admin) or "completed"
        if mood != "EVN" and (start is None or status not in ("active", "completed")):
            self.leave(admin, "planned medication, not (yet) given", _concept_label(concept))
            return
        fhir_status = {"active": "active", "completed": "completed", "aborted": "stopped"}.get(
            status, "unknown"
        )
        if status in ("cancelled", "nullified"):
            fhir_status = "entered-in-error" if status == "nullified" else "not-taken"
        resource: dict[str, Any] = {
            "resourceType": "MedicationStatement",
            "status": fhir_status,
            "medicationCodeableConcept": concept,
        }
        if start or end:
            resource["effectivePeriod"] = {
                k: v for k, v in (("start", start), ("end", end)) if v is not None
            }
        note = self.entry_text(admin)
        if note:
            resource["note"] = [{"text": note[:_MAX_TEXT]}]
        self.add(resource, admin)

    # ------------------------------------------------------------------ procedures
    def procedures(self, entry: Element) -> None:
        found = [c for c in entry if local(c) in ("procedure", "act", "observation")]
        if not found:
            self.leave(next(iter(entry), entry), "procedure entry not understood")
            return
        for proc in found:
            self.procedure(proc)

    def procedure(self, proc: Element) -> None:
        concept = self.concept(proc.find(tag("code"))) or {}
        note = self.entry_text(proc)
        if "text" not in concept and note:
            concept["text"] = note[:_MAX_CONCEPT_TEXT]
        if not concept:
            self.leave(proc, "procedure without a code or text")
            return
        if proc.get("negationInd") == "true" or proc.get("moodCode") not in (None, "EVN"):
            self.leave(proc, "procedure planned or not done", _concept_label(concept))
            return
        status = _status(proc) or "completed"
        start, end = self.period(proc)
        resource: dict[str, Any] = {
            "resourceType": "Procedure",
            "status": {"active": "in-progress", "aborted": "stopped", "cancelled": "not-done"}.get(
                status, "completed"
            ),
            "code": concept,
        }
        if start and end and end != start:
            resource["performedPeriod"] = {"start": start, "end": end}
        elif start:
            resource["performedDateTime"] = start
        sites = [c for c in (self.concept(s) for s in proc.findall(tag("targetSiteCode"))) if c]
        if sites:
            resource["bodySite"] = sites
        if note and note != concept.get("text"):
            resource["note"] = [{"text": note[:_MAX_TEXT]}]
        self.add(resource, proc)

    # ------------------------------------------------------------------ results, vitals
    def results(self, entry: Element) -> None:
        found = _top_level(entry, "observation", self.parents)
        if not found:
            self.leave(next(iter(entry), entry), "result entry without an observation")
            return
        organizer = entry.find(tag("organizer"))
        fallback = self.period(organizer) if organizer is not None else (None, None)
        for obs in found:
            self.observation(obs, fallback[0])

    def observation(self, obs: Element, fallback_date: str | None) -> None:
        concept = self.concept(obs.find(tag("code"))) or {}
        if "text" not in concept:
            text = self.entry_text(obs)
            if text:
                concept["text"] = text[:_MAX_CONCEPT_TEXT]
        if not concept:
            self.leave(obs, "observation without a code or text")
            return
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "status": {"active": "preliminary", "cancelled": "cancelled"}.get(
                _status(obs) or "completed", "final"
            ),
            "code": concept,
        }
        start, _end = self.period(obs)
        if start or fallback_date:
            resource["effectiveDateTime"] = start or fallback_date
        values = obs.findall(tag("value"))
        if values and self.value(values[0], resource) is False:
            self.leave(obs, "observation without a usable value", _concept_label(concept))
            return
        interpretations = [
            c for c in (self.concept(i) for i in obs.findall(tag("interpretationCode"))) if c
        ]
        if interpretations:
            resource["interpretation"] = interpretations
        high = self.child(obs, "referenceRange", "observationRange", "value", "high")
        if high is not None and high.get("value") and not high.get("nullFlavor"):
            quantity = self.quantity(high)
            if quantity is not None:
                resource["referenceRange"] = [{"high": quantity}]
        self.add(resource, obs)

    def quantity(self, element: Element) -> dict[str, Any] | None:
        raw = (element.get("value") or "").strip()
        if not raw:
            return None
        if not _NUMBER.match(raw):
            raise self.fail(element, f"value {raw[:40]!r} is not a number")
        number = float(raw)
        if number != number or abs(number) > 1e12:
            raise self.fail(element, "value too large")
        unit = _yaml_safe((element.get("unit") or "").strip())
        out: dict[str, Any] = {"value": int(number) if number.is_integer() else number}
        if unit and unit != "1":
            out["unit"] = unit[:64]
        elif unit == "1":
            out["unit"] = "1"
        return out

    def value(self, value: Element, resource: dict[str, Any]) -> bool:
        """Put a C-CDA ``value`` into the resource as value[x]; False when there is none."""
        if value.get("nullFlavor") and not value.findall(tag("originalText")):
            return False
        kind = (value.get(f"{{{XSI}}}type") or "").split(":")[-1]
        if kind in ("PQ", "REAL", "INT", "MO"):
            quantity = self.quantity(value)
            if quantity is None:
                return False
            if kind == "INT":
                resource["valueInteger"] = quantity["value"]
            else:
                resource["valueQuantity"] = quantity
            return True
        if kind == "IVL_PQ":
            bound = self.child(value, "high")
            low = self.child(value, "low")
            if low is not None and low.get("value"):
                quantity = self.quantity(low)
                if quantity is not None:
                    quantity["comparator"] = ">="
                    resource["valueQuantity"] = quantity
                    return True
            if bound is not None and bound.get("value"):
                quantity = self.quantity(bound)
                if quantity is not None:
                    quantity["comparator"] = "<="
                    resource["valueQuantity"] = quantity
                    return True
            return False
        if kind in ("CD", "CE", "CO", "CV"):
            concept = self.concept(value)
            if concept is None:
                return False
            resource["valueCodeableConcept"] = concept
            return True
        if kind == "BL":
            flag = value.get("value")
            if flag not in ("true", "false"):
                return False
            resource["valueBoolean"] = flag == "true"
            return True
        text = self.text_of(value)
        if not text:
            return False
        resource["valueString"] = text[:_MAX_TEXT]
        return True


def _top_level(entry: Element, name: str, parents: dict[Element, Element]) -> list[Element]:
    """Elements called ``name`` in ``entry`` that are not nested inside another one of them."""
    out = []
    for node in entry.iter(tag(name)):
        parent = parents.get(node)
        nested = False
        while parent is not None and parent is not entry:
            if parent.tag == node.tag:
                nested = True
                break
            parent = parents.get(parent)
        if not nested:
            out.append(node)
    return out


def _status(element: Element | None) -> str | None:
    if element is None:
        return None
    status = element.find(tag("statusCode"))
    return status.get("code") if status is not None else None


def _concept_label(concept: dict[str, Any]) -> str:
    if concept.get("text"):
        return str(concept["text"])
    for coding in concept.get("coding", []):
        if coding.get("display"):
            return str(coding["display"])
    codes = [str(c.get("code")) for c in concept.get("coding", [])]
    return ", ".join(codes)


_SPACE = re.compile(r"\s+")
# XML allows C1 controls and DEL, YAML (the profile reader) does not: keep them as visible escapes
_NOT_YAML = re.compile("[\x7f-\x84\x86-\x9f]")


def _clean(text: str) -> str:
    return _yaml_safe(_SPACE.sub(" ", text).strip())


def _yaml_safe(text: str) -> str:
    return _NOT_YAML.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


__all__ = ["OID_SYSTEMS", "Converted", "Converter"]
