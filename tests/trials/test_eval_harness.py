"""The evaluation harness runs on the project's labelled set (and on the shared set if present)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from file_modules import load_module

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path("/work/shared/data/mm-trials")


def _harness() -> ModuleType:
    return load_module("eval_matching", ROOT / "benchmarks" / "eval_matching.py")


def test_project_set_figures() -> None:
    h = _harness()
    report = h.evaluate(ROOT / "tests" / "data" / "matching")
    assert report.pairs == 24
    assert report.safety_errors == []  # nothing labelled ineligible/unknown is called eligible
    assert report.eligible_hidden == []  # nothing labelled eligible is called likely ineligible
    assert report.unknown_called_eligible == []
    assert report.ineligible_caught_rate >= 0.9
    assert report.accuracy >= 0.9
    assert report.criterion_accuracy >= 0.9
    assert 0.0 < sum(report.ndcg.values()) / len(report.ndcg) <= 1.0


def test_ndcg_reference_values() -> None:
    h = _harness()
    assert h.ndcg_at_10(["a", "b"], {"a": 2, "b": 0}) == pytest.approx(1.0)
    # swapping a relevance-2 and a relevance-0 item: DCG 3/log2(3) over ideal 3
    assert h.ndcg_at_10(["b", "a"], {"a": 2, "b": 0}) == pytest.approx(1 / 1.5849625, rel=1e-6)


def test_main_prints_figures(capsys: pytest.CaptureFixture[str]) -> None:
    h = _harness()
    assert h.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "verdict accuracy" in out and "NDCG@10" in out


@pytest.mark.skipif(
    not SHARED.exists(), reason="shared evaluation set /work/shared/data/mm-trials absent"
)
def test_shared_set_has_no_safety_errors(capsys: pytest.CaptureFixture[str]) -> None:
    h = _harness()
    report = h.evaluate(SHARED)
    with capsys.disabled():  # the figures show in the CI log
        h.print_report(report)
    assert report.safety_errors == []
    assert report.eligible_hidden == []
    assert report.unknown_called_eligible == []
    assert report.ineligible_caught_rate >= 0.9


CORPUS = ROOT / "tests" / "trials" / "corpus"


def test_real_text_corpus_pairs(capsys: pytest.CaptureFixture[str]) -> None:
    """Registry text nobody on the project wrote (84 records) x the four project patients,
    judged by hand: no eligible or unknown pair is hidden, nothing not eligible is called
    likely eligible, and most ineligible pairs are caught."""
    h = _harness()
    report = h.evaluate(CORPUS)
    with capsys.disabled():  # the figures show in the CI log
        h.print_report(report)
    assert report.pairs == 336
    assert report.eligible_hidden == []
    assert report.unknown_hidden == []
    assert report.unknown_called_eligible == []
    assert report.safety_errors == []
    assert report.ineligible_caught_rate >= 0.9
    assert 0.0 < sum(report.ndcg.values()) / len(report.ndcg) <= 1.0


def test_real_text_corpus_readings(capsys: pytest.CaptureFixture[str]) -> None:
    h = _harness()
    readings = h.evaluate_readings(CORPUS)
    with capsys.disabled():
        h.print_readings(readings)
    assert readings.total >= 190
    assert readings.accuracy >= 0.95


def test_labels_name_the_deciding_criterion() -> None:
    import json

    lines = [json.loads(x) for x in (CORPUS / "labels.jsonl").read_text("utf-8").splitlines()]
    assert {ln["label"] for ln in lines} == {"eligible", "ineligible", "unknown"}
    for ln in lines:
        if ln["label"] == "ineligible":
            assert ln["failing"] and ln["relevance"] == 0
        if ln["label"] == "unknown":
            assert ln["unknown"]
