"""Real registry text: the project corpus (always) and the shared real-trials set (when
present). No criterion is judged "not met" while part of its clinical wording went unread, and
the single-criterion readings reach the target."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from myelonav.patient.models import PatientRecord
from myelonav.trials.criteria import Section, parse_criteria, parse_criterion
from myelonav.trials.criteria.recognisers.labs import SUPPORT_NOTES
from myelonav.trials.matching import Result, match_study, matcher_for
from myelonav.trials.models import Study

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).with_name("corpus") / "criteria.jsonl"
REAL_TRIALS = Path("/work/shared/data/real-trials")
AS_OF = dt.date(2026, 11, 1)

# Clinical words that change what a criterion excludes, checked independently of the parser's
# own residue list: if one is present, the criterion must not be judged "not met" unless the
# parser structured it (an exposure carve-out).
_CARVE_OUT = re.compile(
    r"\bexcept\b|\bunless\b|\bother than\b|\bnot\s+(?:be\s+)?excluded\b|\ballowed\b|"
    r"\bpermitted\b|\bif due to\b|\bspecific\s*:",
    re.IGNORECASE,
)


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_h = _load("_corpus_matching_helpers", Path(__file__).with_name("test_matching.py"))


def _patients() -> dict[str, PatientRecord]:
    base: PatientRecord = _h.post_car_t()
    low = [lab for lab in base.labs if lab.analyte.value != "platelets"]
    low.append(_h.lab(_h.Analyte.platelets, 60))
    return {
        "post_car_t": base,
        "never_treated": _h.never_treated(),
        "low_platelets": _h.post_car_t(labs=low),
    }


def _corpus() -> list[dict[str, Any]]:
    return [json.loads(x) for x in CORPUS.read_text("utf-8").splitlines() if x.strip()]


def _judge(record: PatientRecord, section: str, text: str) -> tuple[Result, str]:
    body = (
        f"Inclusion Criteria:\n* {text}\n"
        if section == "inclusion"
        else f"Inclusion Criteria:\n* Multiple myeloma.\nExclusion Criteria:\n* {text}\n"
    )
    s = _h.study(body)
    m = match_study(matcher_for(record, AS_OF), s, parse_criteria(s.eligibility.criteria_text))
    c = next(c for c in m.criteria if c.id == ("I1" if section == "inclusion" else "E1"))
    return c.result, c.patient_fact


def test_corpus_has_provenance() -> None:
    rows = _corpus()
    assert len(rows) >= 15
    for row in rows:
        assert row["source_url"].startswith("https://")
        assert row["retrieved"] == "2026-12-04"
        assert row["nct_id"] is None or re.fullmatch(r"NCT\d{8}", row["nct_id"])


@pytest.mark.parametrize("row", _corpus(), ids=lambda r: r["text"][:40])
def test_corpus_expected_results(row: dict[str, Any]) -> None:
    patients = _patients()
    for who, allowed in row["expect"].items():
        got, fact = _judge(patients[who], row["section"], row["text"])
        assert got.value in allowed, f"{who}: {got.value} ({fact})"


def _all_real_studies() -> list[Study]:
    out: list[Study] = []
    if REAL_TRIALS.exists():
        for path in sorted((REAL_TRIALS / "studies").glob("*.json")):
            out.append(Study.from_v2(json.loads(path.read_text("utf-8"))))
    return out


def _assert_no_unread_exclusion(studies: list[Study], extra: list[tuple[str, str]]) -> int:
    """Every criterion judged not met for any test patient had all its clinical words read."""
    fired = 0
    for record in _patients().values():
        matcher = matcher_for(record, AS_OF)
        for s in studies:
            parsed = parse_criteria(s.eligibility.criteria_text)
            m = match_study(matcher, s, parsed)
            by_id = {c.id: c for c in parsed.criteria}
            for c in m.criteria:
                if c.result is not Result.not_met or c.id not in by_id:
                    continue
                fired += 1
                parsed_c = by_id[c.id]
                assert parsed_c.unaccounted == (), (s.nct_id, c.id, c.text)
                carved = any(
                    getattr(a, "except_groups", ()) or getattr(a, "text", None) in SUPPORT_NOTES
                    for a in _atoms(parsed_c.tree)
                )
                assert carved or not _CARVE_OUT.search(c.text), (s.nct_id, c.id, c.text)
        for section, text in extra:
            sec = Section(section)
            c = parse_criterion(text, sec, "X1")
            got, _ = _judge(record, section, text)
            if got is Result.not_met:
                fired += 1
                assert c.unaccounted == (), text
                assert not _CARVE_OUT.search(text) or any(
                    getattr(a, "except_groups", ()) or getattr(a, "text", None) in SUPPORT_NOTES
                    for a in _atoms(c.tree)
                ), text
    return fired


def _atoms(node: object) -> list[object]:
    items = getattr(node, "items", None)
    if items is None:
        return [node]
    return [a for item in items for a in _atoms(item)]


def test_no_exclusion_fires_with_unread_words_on_the_project_corpus() -> None:
    fired = _assert_no_unread_exclusion([], [(r["section"], r["text"]) for r in _corpus()])
    assert fired >= 1  # the corpus holds real exclusions that do fire (prior CAR therapy)


@pytest.mark.skipif(
    not REAL_TRIALS.exists(), reason="shared set /work/shared/data/real-trials absent"
)
def test_no_exclusion_fires_with_unread_words_on_shared_real_trials() -> None:
    assert _assert_no_unread_exclusion(_all_real_studies(), []) >= 1


@pytest.mark.skipif(
    not REAL_TRIALS.exists(), reason="shared set /work/shared/data/real-trials absent"
)
def test_single_criterion_readings_on_shared_real_trials(
    capsys: pytest.CaptureFixture[str],
) -> None:
    h = _load("eval_matching_corpus", ROOT / "benchmarks" / "eval_matching.py")
    readings = h.evaluate_readings(REAL_TRIALS)
    with capsys.disabled():
        h.print_readings(readings)
    assert readings.total == 242
    assert readings.accuracy >= 0.95
