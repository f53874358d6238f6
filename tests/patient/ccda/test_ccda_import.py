"""C-CDA documents in five vendor shapes import their myeloma-relevant content."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from myelonav.errors import ImportError_, InputError, NotMyelomaError
from myelonav.patient.ccda import import_ccda, import_ccda_file
from myelonav.patient.fhir_export import export_bundle
from myelonav.patient.fhir_import import import_bundle
from myelonav.patient.models import (
    Analyte,
    AntigenStatus,
    CytogeneticAbnormality,
    DiseaseSiteKind,
    HeavyChain,
    LightChain,
    PatientRecord,
    Qualitative,
    Sex,
    TransplantKind,
)

DATA = Path(__file__).parent / "data"
AS_OF = dt.date(2026, 11, 25)
DOCUMENTS = ["epic_ccd", "cerner_ccd", "athena_ccd", "discharge_summary", "progress_note"]


def load(name: str) -> PatientRecord:
    return import_ccda_file(DATA / f"{name}.xml", as_of=AS_OF).record


def lab(record: PatientRecord, analyte: Analyte) -> float | None:
    found = record.latest(analyte)
    assert found is not None, f"no {analyte.value}"
    return found.value


def test_epic_shaped_ccd() -> None:
    record = load("epic_ccd")
    assert record.demographics.birth_date == dt.date(1958, 3, 12)
    assert record.demographics.sex is Sex.female
    assert record.diagnosis.date == dt.date(2019, 3, 14)
    assert record.diagnosis.isotype.heavy_chain is HeavyChain.IgG
    assert record.diagnosis.isotype.light_chain is LightChain.kappa
    assert [line.agents for line in record.therapy_lines] == [["daratumumab", "lenalidomide"]]
    assert record.therapy_lines[0].end == dt.date(2020, 9, 15)
    assert [(c.product, c.infusion_date) for c in record.car_t] == [
        ("ciltacabtagene autoleucel", dt.date(2024, 3, 12))
    ]
    assert [(t.kind, t.date) for t in record.transplants] == [
        (TransplantKind.autologous, dt.date(2019, 11, 5))
    ]
    assert lab(record, Analyte.kappa_flc) == pytest.approx(186.0)  # 18.6 mg/dL
    assert record.latest(Analyte.kappa_flc).upper_limit_normal == pytest.approx(19.4)  # type: ignore[union-attr]
    assert lab(record, Analyte.body_weight) == pytest.approx(69.85, abs=0.01)  # 154 [lb_av]
    assert lab(record, Analyte.platelets) == pytest.approx(142.0)
    assert record.latest(Analyte.hemoglobin).qualitative is Qualitative.low  # type: ignore[union-attr]
    reasons = {(item.text, item.reason) for item in record.unmapped}
    assert ("Hypertension", "condition not used by myelonav") in reasons
    assert any(text and "acyclovir" in text for text, _ in reasons)
    assert any(text == "Tobacco smoking status" for text, _ in reasons)
    assert all(item.path.startswith("/ClinicalDocument/") for item in record.unmapped)


def test_cerner_shaped_ccd() -> None:
    record = load("cerner_ccd")
    assert record.demographics.country == "US"  # "USA" in the source
    assert record.diagnosis.isotype.light_chain_only
    assert record.diagnosis.date == dt.date(2018, 5, 22)
    assert [line.agents for line in record.therapy_lines] == [
        ["bortezomib"],
        ["pomalidomide", "dexamethasone"],
    ]
    assert record.car_t[0].product == "idecabtagene vicleucel"  # named only in originalText
    assert record.car_t[0].infusion_date == dt.date(2024, 1, 18)
    assert lab(record, Analyte.anc) == pytest.approx(0.9)  # x10^9/L
    assert lab(record, Analyte.calcium) == pytest.approx(10.42, abs=0.01)  # 2.6 mmol/L
    assert lab(record, Analyte.lambda_flc) == pytest.approx(412.5)
    assert record.series(Analyte.beta2_microglobulin) == []  # nullFlavor value: listed
    assert any("Beta-2" in (i.text or "") for i in record.unmapped)
    assert [e.score for e in record.ecog] == [1]
    sites = record.disease_sites
    assert [(s.kind, s.location) for s in sites] == [
        (DiseaseSiteKind.extramedullary_plasmacytoma, "Chest wall structure")
    ]


def test_athena_shaped_ccd_without_templates() -> None:
    record = load("athena_ccd")
    assert record.diagnosis.isotype.heavy_chain is HeavyChain.IgA
    assert record.diagnosis.isotype.light_chain is LightChain.lambda_
    assert record.diagnosis.date == dt.date(2019, 1, 1)  # "2019": partial date
    assert [line.agents for line in record.therapy_lines] == [
        ["carfilzomib", "dexamethasone"],
        ["teclistamab"],
    ]
    assert record.therapy_lines[0].start == dt.date(2020, 2, 1)  # "202002"
    course = record.radiation[0]
    assert (course.dose_gy, course.fractions, course.site) == (20.0, 5, "L2 vertebra")
    positive = record.latest(Analyte.serum_immunofixation)
    assert positive is not None and positive.qualitative is Qualitative.positive
    assert lab(record, Analyte.flc_ratio) == pytest.approx(0.05)
    assert lab(record, Analyte.albumin) == pytest.approx(3.4)  # "g/dl"
    assert [s.kind for s in record.disease_sites] == [DiseaseSiteKind.bone_lesion]
    assert record.disease_sites[0].painful is True


def test_discharge_summary() -> None:
    record = load("discharge_summary")
    assert record.demographics.birth_date == dt.date(1966, 3, 1)  # birth time "196603"
    assert record.diagnosis.isotype.heavy_chain is HeavyChain.IgG
    episode = record.car_t[0]
    assert (episode.product, episode.infusion_date) == (
        "ciltacabtagene autoleucel",
        dt.date(2024, 8, 10),
    )
    assert episode.crs_max_grade == 2
    assert record.therapy_lines == []  # fludarabine/cyclophosphamide are lymphodepletion
    assert lab(record, Analyte.wbc) == pytest.approx(2.8)  # 2800 /uL
    assert record.latest(Analyte.bilirubin).date == dt.date(2024, 9, 1)  # type: ignore[union-attr]
    texts = [i.text or "" for i in record.unmapped]
    assert any("acyclovir" in t for t in texts)  # discharge medication inside act 4.29


def test_progress_note() -> None:
    record = load("progress_note")
    assert record.diagnosis.isotype.light_chain_only
    episode = record.car_t[0]
    assert episode.product == "idecabtagene vicleucel"
    assert episode.antigen_status_at_relapse is AntigenStatus.negative
    assert record.has_abnormality(CytogeneticAbnormality.t_4_14) is True
    assert record.has_abnormality(CytogeneticAbnormality.del_17p) is False
    assert [t.kind for t in record.transplants] == [TransplantKind.autologous]  # allo: not done
    assert lab(record, Analyte.marrow_plasma_cells) == pytest.approx(35.0)
    assert lab(record, Analyte.beta2_microglobulin) == pytest.approx(4.8)  # 0.48 mg/dL
    assert lab(record, Analyte.body_height) == pytest.approx(178.0)
    assert [e.score for e in record.ecog] == [1]
    reasons = [i.reason for i in record.unmapped]
    assert "procedure planned or not done" in reasons
    assert "planned medication, not (yet) given" in reasons


@pytest.mark.parametrize("name", DOCUMENTS)
def test_round_trip_through_fhir_export_keeps_every_mapped_fact(name: str) -> None:
    record = load(name)
    again = import_bundle(export_bundle(record), as_of=AS_OF, record_id=record.id).record
    assert _facts(again) == _facts(record)


def _facts(record: PatientRecord) -> dict[str, object]:
    """Everything the record states; a regimen name the source never gave is not a fact (the
    export writes one from the agents)."""
    data = record.model_dump(exclude={"unmapped"})
    for line in data["therapy_lines"]:
        if line["regimen"] in (None, " + ".join(line["agents"])):
            line["regimen"] = None
    return data


def _doc(body: str, birth: str = '<birthTime value="19600101"/>') -> bytes:
    return f"""<ClinicalDocument xmlns="urn:hl7-org:v3"
      xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
      <recordTarget><patientRole><patient>{birth}</patient></patientRole></recordTarget>
      <component><structuredBody>{body}</structuredBody></component>
    </ClinicalDocument>""".encode()


_MYELOMA = """<component><section><code code="11450-4" codeSystem="2.16.840.1.113883.6.1"/>
  <entry><observation classCode="OBS" moodCode="EVN">
  <effectiveTime><low value="2020"/></effectiveTime>
  <value xsi:type="CD" code="C90.00" codeSystem="2.16.840.1.113883.6.90"/></observation></entry>
</section></component>"""


def _results(value: str, when: str = "20240101") -> str:
    return f"""<component><section><code code="30954-2" codeSystem="2.16.840.1.113883.6.1"/>
      <entry><observation classCode="OBS" moodCode="EVN">
      <code code="718-7" codeSystem="2.16.840.1.113883.6.1"/><effectiveTime value="{when}"/>
      {value}</observation></entry></section></component>"""


def test_bad_number_names_the_xml_location() -> None:
    raw = _doc(_MYELOMA + _results('<value xsi:type="PQ" value="ten" unit="g/dL"/>'))
    with pytest.raises(ImportError_) as caught:
        import_ccda(raw, source="r.xml", as_of=AS_OF)
    assert "component[2]/section/entry/observation/value" in str(caught.value)
    assert "not a number" in str(caught.value)


def test_bad_date_names_the_xml_location() -> None:
    raw = _doc(_MYELOMA + _results('<value xsi:type="PQ" value="10" unit="g/dL"/>', "20241301"))
    with pytest.raises(ImportError_, match=r"observation/effectiveTime: '20241301'"):
        import_ccda(raw, source="r.xml", as_of=AS_OF)


def test_importer_errors_are_relocated_to_the_xml() -> None:
    raw = _doc(_MYELOMA + _results('<value xsi:type="PQ" value="10" unit="furlongs"/>'))
    with pytest.raises(InputError) as caught:
        import_ccda(raw, source="r.xml", as_of=AS_OF)
    message = str(caught.value)
    assert message.startswith("r.xml: /ClinicalDocument/component/structuredBody/component[2]")
    assert "furlongs" in message and "entry[" not in message.split("(as FHIR")[0]


def test_huge_numbers_are_refused_with_a_path() -> None:
    raw = _doc(_MYELOMA + _results('<value xsi:type="PQ" value="1e300" unit="g/dL"/>'))
    with pytest.raises(ImportError_, match="value too large"):
        import_ccda(raw, source="r.xml", as_of=AS_OF)


def test_no_myeloma_is_the_usual_error() -> None:
    with pytest.raises(NotMyelomaError):
        import_ccda(_doc(_results('<value xsi:type="PQ" value="10" unit="g/dL"/>')), as_of=AS_OF)


def test_not_a_clinical_document() -> None:
    with pytest.raises(ImportError_, match="not a C-CDA document"):
        import_ccda(b"<html><body/></html>", source="x.xml")


def test_unstructured_document_is_explained() -> None:
    raw = b"""<ClinicalDocument xmlns="urn:hl7-org:v3"><recordTarget><patientRole><patient>
      <birthTime value="1960"/></patient></patientRole></recordTarget>
      <component><nonXMLBody><text mediaType="application/pdf">JVBER</text></nonXMLBody></component>
      </ClinicalDocument>"""
    with pytest.raises(ImportError_, match="no structured body"):
        import_ccda(raw, source="x.xml")


def test_missing_birth_time_is_the_importers_error() -> None:
    with pytest.raises(ImportError_, match="birth date is missing"):
        import_ccda(_doc(_MYELOMA, birth='<birthTime nullFlavor="UNK"/>'), as_of=AS_OF)
