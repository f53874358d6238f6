"""Every text path of the importer and terminology is linear: 100 KB hostile strings, bounded time.

The strings repeat the tokens that made the old patterns backtrack (``kappa.*lambda.*ratio`` was
cubic, a digits-then-"Gy" search quadratic, adjacent ``\\s*`` runs quadratic). CPU time, not wall
time, is bounded, so a busy machine does not fail the test; a super-linear pattern takes seconds
to minutes on these inputs, a linear one milliseconds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from myelonav.errors import MyelonavError
from myelonav.patient import _notes, fhir_import, terminology, units
from myelonav.patient._fhir_read import parse_date
from myelonav.patient._safe_json import clean_text
from myelonav.patient.fhir_import import import_bundle
from myelonav.patient.models import Analyte
from myelonav.patient.vocabulary import fold, vocabulary

SIZE = 100_000
LIMIT_S = 0.5  # CPU seconds for one call on 100 KB; linear code needs a few milliseconds
ATOMS = [
    "kappa ",
    "kappa lambda ",
    "lambda free ",
    "free ",
    "immunofixation ",
    "urine ",
    "m-protein ",
    "24h ",
    "plasma cells ",
    "marrow ",
    "1",
    "1.",
    "1 ",
    "1.1",
    " ",
    "\t",
    "\n",
    ";",
    "; (",
    "(",
    "t(",
    "t(4;",
    "del ",
    "del(",
    "del (17",
    "amp ",
    "gain (",
    "line ",
    "line #",
    "line of therapy ",
    "best response ",
    "best response: ",
    "IgG ",
    "IgG -",
    "light chain ",
    "kappa light",
    "bridging ",
    "bridging therapy ",
    "progression: ",
    "stopped: ",
    "regimen: ",
    "not ",
    "non-",
    "ide-cel ",
    "ide ",
    "bcma ",
    "grade ",
    "car-t ",
    "10*",
    "x10e",
    "mg/",
    "\ud800",
    "\uffff",
    "ß",
]

PREFIXES = [
    "IgG",
    "line",
    "best response",
    "del",
    "amp",
    "gain",
    "bridging",
    "kappa",
    "1",
    "t(4",
    "progression:",
    "stopped:",
]


def _hostile() -> list[str]:
    repeated = [atom * (SIZE // len(atom)) + "!" for atom in ATOMS]
    # one token, then a long run that an optional-then-repeat pattern could split many ways
    runs = [f"{head}{' ' * SIZE}!" for head in PREFIXES] + [f"{head}{'1' * SIZE}x" for head in "x "]
    return repeated + runs


HOSTILE = _hostile()

TEXT_PATHS: dict[str, Callable[[str], object]] = {
    "analyte_from_text": terminology.analyte_from_text,
    "condition_kind": lambda t: terminology.condition_kind([], t),
    "procedure_kind": lambda t: terminology.procedure_kind([(terminology.SNOMED, "234336002")], t),
    "procedure_kind_text": lambda t: terminology.procedure_kind([], t),
    "cytogenetics_from_text": terminology.cytogenetics_from_text,
    "icd10_kind": terminology.icd10_kind,
    "parse_line_note": _notes.parse_line_note,
    "qualitative_from_text": _notes.qualitative_from_text,
    "stop_reason_from_text": _notes.stop_reason_from_text,
    "isotype": fhir_import._isotype,
    "antigen_status": fhir_import._antigen_status,
    "safe_id": fhir_import._safe_id,
    "size_cm": fhir_import._SIZE_CM.search,
    "dose_gy": fhir_import._DOSE_GY.search,
    "fractions": fhir_import._FRACTIONS.search,
    "bridging": fhir_import._BRIDGING.search,
    "find_in_text": vocabulary().find_in_text,
    "resolve": vocabulary().resolve,
    "fold": fold,
    "fold_unit": units.fold_unit,
    "clean_text": clean_text,
}


def _cpu(call: Callable[[], object]) -> float:
    start = time.process_time()
    with contextlib.suppress(MyelonavError):  # refusing the text is fine; taking long is not
        call()
    return time.process_time() - start


@pytest.mark.parametrize("name", sorted(TEXT_PATHS))
def test_text_paths_are_linear_on_hostile_text(name: str) -> None:
    function = TEXT_PATHS[name]
    worst = max((_cpu(lambda t=text: function(t)), text[:12]) for text in HOSTILE)
    assert worst[0] < LIMIT_S, f"{name} took {worst[0]:.2f} s CPU on {worst[1]!r}…"


def test_dates_and_units_refuse_hostile_text_quickly() -> None:
    for text in HOSTILE:
        assert _cpu(lambda t=text: parse_date(t, "x")) < LIMIT_S
        assert _cpu(lambda t=text: units.to_canonical(Analyte.hemoglobin, 1.0, t)) < LIMIT_S


def _bundle_with(text: str) -> dict[str, Any]:
    dated = {"effectiveDateTime": "2025-01-01"}
    resources: list[dict[str, Any]] = [
        {"resourceType": "Patient", "id": "p", "birthDate": "1960-01-01"},
        {
            "resourceType": "Condition",
            "code": {"text": "Multiple myeloma " + text},
            "note": [{"text": text}],
            "onsetDateTime": "2020-01-01",
        },
        {"resourceType": "Condition", "code": {"text": "plasmacytoma " + text}},
        {
            "resourceType": "Procedure",
            "status": "completed",
            "code": {"text": "radiation " + text},
            "note": [{"text": text}],
            "performedDateTime": "2024-01-01",
        },
        {
            "resourceType": "Procedure",
            "status": "completed",
            "code": {"text": "CAR T " + text},
            "performedDateTime": "2024-02-01",
        },
        {"resourceType": "Observation", "status": "final", "code": {"text": text}, **dated},
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "FISH"},
            "valueString": text,
            **dated,
        },
        {
            "resourceType": "MedicationStatement",
            "status": "completed",
            "medicationCodeableConcept": {"text": text},
            "note": [{"text": text}],
            **dated,
        },
    ]
    return {"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]}


@pytest.mark.parametrize("atom", ["kappa lambda ", "1", " ", "; (", "del ", "line ", "IgG "])
def test_a_whole_import_of_hostile_text_is_quick(atom: str) -> None:
    text = atom * (SIZE // len(atom))
    raw = json.dumps(_bundle_with(text))
    spent = _cpu(
        lambda: import_bundle(fhir_import.load_json(raw, "b.json"), as_of=dt.date(2026, 11, 25))
    )
    assert spent < 8 * LIMIT_S, f"import took {spent:.2f} s CPU with {atom!r} × {SIZE // len(atom)}"
