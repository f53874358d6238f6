from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from myelonav.patient.models import PatientRecord
from myelonav.picture import clinical_picture
from myelonav.visit.labs import LabCheck, lab_checks

AS_OF = dt.date(2026, 11, 25)
MakeRecord = Callable[..., PatientRecord]


def _checks(record: PatientRecord) -> dict[str, LabCheck]:
    return {c.id: c for c in lab_checks(clinical_picture(record, AS_OF))}


def test_statuses_follow_the_examples(make: MakeRecord) -> None:
    labs = [
        {"analyte": "anc", "date": "2026-11-10", "value": 0.9},
        {"analyte": "platelets", "date": "2026-11-10", "value": 60},
        {"analyte": "hemoglobin", "date": "2026-11-10", "value": 12},
        {"analyte": "bilirubin", "date": "2026-11-10", "value": 1.8, "upper_limit_normal": 1.2},
        {"analyte": "alt", "date": "2026-05-10", "value": 20, "upper_limit_normal": 40},
    ]
    checks = {c.id: c for c in lab_checks(clinical_picture(make(labs=labs), AS_OF))}
    assert checks["anc"].status == "meets_none"
    assert checks["platelets"].status == "meets_some"  # >= 50 but < 75
    assert checks["hemoglobin"].status == "meets_all"
    assert checks["bilirubin"].value == 1.5 and checks["bilirubin"].status == "meets_all"
    assert checks["alt"].status == "unknown" and "not current" in checks["alt"].shown
    assert checks["ast"].status == "unknown"
    assert checks["ast"].shown == "no usable result in the record"
    assert checks["crcl"].status == "unknown"


def test_liver_tests_need_the_upper_limit(make: MakeRecord) -> None:
    labs = [{"analyte": "ast", "date": "2026-11-10", "value": 200}]
    check = {c.id: c for c in lab_checks(clinical_picture(make(labs=labs), AS_OF))}["ast"]
    assert check.status == "unknown" and "upper limit of normal not recorded" in check.shown


def test_creatinine_clearance_comes_from_the_options_facts(make: MakeRecord) -> None:
    record = make()  # female, 66, 70 kg, creatinine 0.9 -> CG about 74 mL/min
    crcl = _checks(record)["crcl"]
    assert crcl.status == "meets_all" and crcl.value is not None and 60 < crcl.value < 90
    assert "Cockcroft-Gault" in crcl.shown


def test_every_check_is_cited() -> None:
    for c in lab_checks(clinical_picture(PatientRecord(id="x"), AS_OF)):
        assert c.citations and c.status == "unknown"
        assert c.rule.startswith((">=", "<="))


def test_an_implausible_value_is_never_compared(make: MakeRecord) -> None:
    labs = [{"analyte": "platelets", "date": "2026-11-20", "value": 0}]
    # platelets 0 is plausible (PLAUSIBLE allows 0); a hemoglobin of 0.5 g/dL is not
    labs.append({"analyte": "hemoglobin", "date": "2026-11-20", "value": 0.5})
    checks = {c.id: c for c in lab_checks(clinical_picture(make(labs=labs), AS_OF))}
    assert checks["platelets"].status == "meets_none"
    assert checks["hemoglobin"].status == "unknown"
