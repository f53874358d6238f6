"""Evaluate trial matching against a labelled set of (patient, trial) pairs.

    python benchmarks/eval_matching.py                       # project set (+ shared set if present)
    python benchmarks/eval_matching.py --set DIR [--as-of 2026-11-01]

A set directory holds ``trials/*.json`` (ClinicalTrials.gov v2 records), patients as FHIR
bundles in ``bundles/<patient_id>.json`` or profiles in ``profiles/<patient_id>.json``, and
``labels.jsonl``: one line per pair ``{patient_id, nct_id, label, failing, unknown,
relevance}`` with ``label`` eligible / ineligible / unknown. Per-criterion labels are read from
``labels.detail.json`` (``[{patient_id, nct_id, criteria: [{section, criterion, status}]}]``)
or from a ``criteria`` list on the label line. ``as_of`` comes from ``--as-of``, else from
``set.json`` ({"as_of": "YYYY-MM-DD"}), else 2026-11-01.

Prints: verdict accuracy and confusion, eligibility precision / recall, *safety errors*
(a pair labelled ineligible or unknown that we call likely eligible — must be 0), per
criterion-type accuracy, and NDCG@10 of the ranking against graded relevance.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from myelonav.patient.fhir_import import import_bundle_file
from myelonav.patient.models import PatientRecord
from myelonav.patient.profile_io import load_profile
from myelonav.trials._facts import PatientFacts
from myelonav.trials.criteria import parse_criteria
from myelonav.trials.criteria.recognisers.labs import SUPPORT_NOTES
from myelonav.trials.matching import Matcher, Result, TrialMatch, Verdict, match_study
from myelonav.trials.models import Study
from myelonav.trials.ranking import rank

ROOT = Path(__file__).resolve().parent.parent
PROJECT_SET = ROOT / "tests" / "data" / "matching"
SHARED_SET = Path("/work/shared/data/mm-trials")
DEFAULT_AS_OF = dt.date(2026, 11, 1)

_VERDICT_LABEL = {
    Verdict.likely_eligible: "eligible",
    Verdict.likely_ineligible: "ineligible",
    Verdict.possibly_eligible: "unknown",
}
_RESULT_LABEL = {
    Result.met: "met",
    Result.not_met: "fail",
    Result.unknown: "unknown",
    Result.screening: "screening-only",
    Result.ask: "ask",
}


@dataclass
class Report:
    name: str
    pairs: int = 0
    correct: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    tp: int = 0
    fp: int = 0
    fn: int = 0
    safety_errors: list[str] = field(default_factory=list)
    by_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    criterion_misses: list[str] = field(default_factory=list)
    ndcg: dict[str, float] = field(default_factory=dict)
    # per pair, by label: eligible pairs hidden (called likely ineligible), ineligible pairs
    # caught, unknown pairs called likely eligible
    eligible_hidden: list[str] = field(default_factory=list)
    ineligible_pairs: int = 0
    ineligible_caught: int = 0
    unknown_called_eligible: list[str] = field(default_factory=list)
    # labelled unknown (ask the study team) but called likely ineligible: also a hidden trial
    unknown_hidden: list[str] = field(default_factory=list)
    # per criterion kind: understood / wrongly excluding / wrongly including / unknown
    by_concept: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    @property
    def accuracy(self) -> float:
        return self.correct / self.pairs if self.pairs else 0.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def ineligible_caught_rate(self) -> float:
        return self.ineligible_caught / self.ineligible_pairs if self.ineligible_pairs else 1.0

    @property
    def criterion_accuracy(self) -> float:
        right = sum(v[0] for v in self.by_kind.values())
        total = sum(v[1] for v in self.by_kind.values())
        return right / total if total else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "set": self.name,
            "pairs": self.pairs,
            "verdict_accuracy": round(self.accuracy, 3),
            "eligible_precision": round(self.precision, 3),
            "eligible_recall": round(self.recall, 3),
            "safety_errors": self.safety_errors,
            "criterion_accuracy": round(self.criterion_accuracy, 3),
            "criterion_accuracy_by_kind": {
                k: {"correct": v[0], "total": v[1]} for k, v in sorted(self.by_kind.items())
            },
            "eligible_hidden": self.eligible_hidden,
            "ineligible_caught": f"{self.ineligible_caught}/{self.ineligible_pairs}",
            "unknown_called_eligible": self.unknown_called_eligible,
            "unknown_hidden": self.unknown_hidden,
            "by_concept": {k: dict(v) for k, v in sorted(self.by_concept.items())},
            "ndcg_at_10": {k: round(v, 3) for k, v in sorted(self.ndcg.items())},
            "mean_ndcg_at_10": round(sum(self.ndcg.values()) / len(self.ndcg), 3)
            if self.ndcg
            else None,
        }


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _profile_dirs(directory: Path) -> list[Path]:
    """The set's own ``profiles/`` and ``patients/``, then any ``profile_dirs`` that
    ``set.json`` names (relative to the set), so a set can reuse another set's patients."""
    dirs = [directory / "profiles", directory / "patients"]
    set_file = directory / "set.json"
    if set_file.exists():
        extra = json.loads(set_file.read_text("utf-8")).get("profile_dirs", [])
        dirs += [(directory / d).resolve() for d in extra]
    return dirs


def load_patient(directory: Path, patient_id: str, as_of: dt.date) -> PatientRecord:
    for sub in _profile_dirs(directory):
        for ext in (".json", ".yaml"):
            path = sub / f"{patient_id}{ext}"
            if path.exists():
                return load_profile(path)
    bundle = directory / "bundles" / f"{patient_id}.json"
    record = import_bundle_file(bundle, as_of=as_of, record_id=patient_id).record
    prefs = directory / "bundles" / f"{patient_id}.preferences.json"
    if prefs.exists():
        data = json.loads(prefs.read_text("utf-8"))
        if isinstance(data, dict) and "max_travel_miles" in data:
            record = record.model_copy(
                update={
                    "preferences": record.preferences.model_copy(
                        update={"max_travel_miles": data["max_travel_miles"]}
                    )
                }
            )
    return record


def study_from_record(record: dict[str, Any]) -> Study:
    """A corpus record (``records.jsonl``: registry eligibility text with provenance) as a
    study carrying only that text. ``key`` is the NCT id, or an NCT990xxxxx harness id when
    the page showed no NCT number."""
    title = record.get("title") or f"Registry record {record['key']} (eligibility text only)"
    return Study.from_v2(
        {
            "protocolSection": {
                "identificationModule": {"nctId": record["key"], "briefTitle": title},
                "statusModule": {"overallStatus": "RECRUITING"},
                "conditionsModule": {"conditions": ["Multiple Myeloma"]},
                "eligibilityModule": {"eligibilityCriteria": record["criteria_text"]},
            }
        }
    )


def load_records(directory: Path) -> list[dict[str, Any]]:
    path = directory / "records.jsonl"
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]


def load_studies(directory: Path) -> dict[str, Study]:
    studies: dict[str, Study] = {}
    for path in sorted((directory / "trials").glob("*.json")):
        study = Study.from_v2(json.loads(path.read_text("utf-8")))
        studies[study.nct_id] = study
    for record in load_records(directory):
        study = study_from_record(record)
        studies[study.nct_id] = study
    return studies


def _label_status(statuses: list[str]) -> str:
    if "fail" in statuses:
        return "fail"
    if "unknown" in statuses:
        return "unknown"
    if statuses and all(s == "screening-only" for s in statuses):
        return "screening-only"
    return "met"


def _criterion_labels(
    directory: Path, lines: list[dict[str, Any]]
) -> dict[tuple[str, str], dict[str, str]]:
    """(patient, nct) → {normalised criterion text: status}."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    entries: list[dict[str, Any]] = []
    detail = directory / "labels.detail.json"
    if detail.exists():
        entries = json.loads(detail.read_text("utf-8"))
    entries += [ln for ln in lines if ln.get("criteria")]
    for entry in entries:
        grouped: dict[str, list[str]] = defaultdict(list)
        for c in entry.get("criteria", []):
            grouped[_norm(c["criterion"])].append(c["status"])
        out[(entry["patient_id"], entry["nct_id"])] = {
            k: _label_status(v) for k, v in grouped.items()
        }
    return out


def _concept_cell(ours: str, label: str) -> str:
    if ours == label:
        return "understood"
    if ours == "fail":
        return "wrongly_excluding"
    if ours == "met":
        return "wrongly_including"
    return "unknown"


def ndcg_at_10(ranked_ids: list[str], relevance: dict[str, int]) -> float:
    def dcg(rels: list[int]) -> float:
        return float(sum((2**r - 1) / math.log2(i + 2) for i, r in enumerate(rels[:10])))

    ideal = dcg(sorted(relevance.values(), reverse=True))
    if ideal == 0:
        return 1.0
    return float(dcg([relevance.get(n, 0) for n in ranked_ids]) / ideal)


def evaluate(directory: Path, as_of: dt.date | None = None, verbose: bool = False) -> Report:
    set_file = directory / "set.json"
    if as_of is None and set_file.exists():
        as_of = dt.date.fromisoformat(json.loads(set_file.read_text("utf-8"))["as_of"])
    as_of = as_of or DEFAULT_AS_OF
    lines = [
        json.loads(x)
        for x in (directory / "labels.jsonl").read_text("utf-8").splitlines()
        if x.strip()
    ]
    studies = load_studies(directory)
    parsed = {n: parse_criteria(s.eligibility.criteria_text) for n, s in studies.items()}
    crit_labels = _criterion_labels(directory, lines)
    report = Report(directory.name)
    by_patient: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        by_patient[line["patient_id"]].append(line)
    for patient_id, pairs in by_patient.items():
        record = load_patient(directory, patient_id, as_of)
        facts = PatientFacts.build(record, as_of)
        matcher = Matcher(facts)
        matches: dict[str, TrialMatch] = {}
        for line in pairs:
            study = studies[line["nct_id"]]
            m = match_study(matcher, study, parsed[study.nct_id])
            matches[study.nct_id] = m
            got = _VERDICT_LABEL[m.verdict]
            want = line["label"]
            report.pairs += 1
            report.correct += got == want
            report.confusion[(want, got)] += 1
            if got == "eligible" and want == "eligible":
                report.tp += 1
            elif got == "eligible":
                report.fp += 1
                report.safety_errors.append(f"{patient_id} × {study.nct_id}: labelled {want}")
            elif want == "eligible":
                report.fn += 1
            pair = f"{patient_id} × {study.nct_id}"
            if want == "eligible" and got == "ineligible":
                report.eligible_hidden.append(pair)
            if want == "ineligible":
                report.ineligible_pairs += 1
                report.ineligible_caught += got == "ineligible"
            if want == "unknown" and got == "eligible":
                report.unknown_called_eligible.append(pair)
            if want == "unknown" and got == "ineligible":
                report.unknown_hidden.append(pair)
            if verbose and got != want:
                print(f"  MISMATCH {patient_id} × {study.nct_id}: want {want}, got {got}")
                for c in m.criteria:
                    if c.result in (Result.not_met, Result.unknown):
                        print(f"     {c.id} {c.result.value}: {c.text[:70]} | {c.patient_fact}")
            labels = crit_labels.get((patient_id, study.nct_id), {})
            for c in m.criteria:
                status = labels.get(_norm(c.text))
                if status is None:
                    continue
                ok = _RESULT_LABEL[c.result] == status
                report.by_concept[c.kind.value][_concept_cell(_RESULT_LABEL[c.result], status)] += 1
                cell = report.by_kind[c.kind.value]
                cell[0] += ok
                cell[1] += 1
                if not ok:
                    report.criterion_misses.append(
                        f"{patient_id} × {study.nct_id} {c.id} [{c.kind.value}] want {status}, "
                        f"got {_RESULT_LABEL[c.result]}: {c.text[:60]} | {c.patient_fact[:80]}"
                    )
        ranked = rank([(matches[n], studies[n]) for n in matches], facts)
        relevance = {line["nct_id"]: int(line.get("relevance", 0)) for line in pairs}
        report.ndcg[patient_id] = ndcg_at_10([r.match.nct_id for r in ranked], relevance)
    return report


# --------------------------------------------------------------------------- single readings

REAL_TRIALS = Path("/work/shared/data/real-trials")
CORPUS = ROOT / "tests" / "trials" / "corpus"

# Expected concept (criteria-expected.jsonl) → the criterion kinds that express it. A parsed
# kind outside the union for a criterion's concepts is a misreading that can exclude wrongly.
_CONCEPT_KINDS: dict[str, set[str]] = {
    "age": {"age"},
    "performance_status": {"performance_status"},
    "measurable_disease": {"measurable_disease", "lab"},
    "prior_lines": {"prior_lines", "prior_therapy", "disease_state"},
    "prior_exposure": {
        "class_exposure",
        "prior_bcma",
        "prior_car_t",
        "prior_bispecific",
        "prior_gprc5d",
        "prior_agent",
        "prior_therapy",
        "washout",
        "disease_state",
        "prior_lines",
    },
    "lab_threshold": {"lab", "measurable_disease"},
    "organ_function": {"lab"},
    "washout": {"washout", "car_t_timing", "transplant"},
    "time_since_event": {"washout", "car_t_timing", "transplant"},
    "event_within_window": {"washout", "car_t_timing", "transplant"},
    "transplant": {"transplant"},
    "infection": {"infection"},
    "comorbidity": {"other_malignancy", "cns", "infection"},
    "disease_site": {"cns", "extramedullary", "plasma_cell_leukemia"},
    "antigen_status": {"antigen_expression"},
    "cytogenetics": {"cytogenetics"},
    "other": {"disease_state", "non_secretory"},
}
for _alias in ("refractoriness", "target_qualified_exposure"):
    _CONCEPT_KINDS[_alias] = _CONCEPT_KINDS["prior_exposure"]
# kinds that never decide "not met" on their own (screening topics, text to ask about)
_NEUTRAL_KINDS = {"other", "screening", "infection", "other_malignancy"}


@dataclass
class Readings:
    name: str
    total: int = 0
    correct: int = 0
    understood: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def _atoms_of(node: Any) -> list[Any]:
    items = getattr(node, "items", None)
    if items is None:
        return [node]
    return [a for item in items for a in _atoms_of(item)]


def evaluate_readings(directory: Path) -> Readings:
    """Single-criterion readings against ``criteria-expected.jsonl``.

    A reading is *correct* when the item is found in its section, no parsed kind falls
    outside what its concepts allow (a misread concept is what hides a trial), and an
    exception the screener noted is not silently dropped (it is structured or flagged as not
    understood). *Understood* additionally needs every non-"other" concept recognised.
    """
    expected = [
        json.loads(x)
        for x in (directory / "criteria-expected.jsonl").read_text("utf-8").splitlines()
        if x.strip()
    ]
    parsed: dict[str, Any] = {}
    for path in sorted((directory / "studies").glob("*.json")):
        study = Study.from_v2(json.loads(path.read_text("utf-8")))
        parsed[study.nct_id] = parse_criteria(study.eligibility.criteria_text)
    for record in load_records(directory):
        study = study_from_record(record)
        parsed[study.nct_id] = parse_criteria(study.eligibility.criteria_text)
    out = Readings(directory.name)
    for e in expected:
        out.total += 1
        key = _norm(e["text"])[:60]
        found = [
            c
            for c in parsed[e["nct_id"]].criteria
            if c.section.value == e["section"] and _norm(c.text).startswith(key)
        ]
        where = f"{e['nct_id']} {e['section'][0].upper()}{e['index']}"
        if not found:
            out.misses.append(f"{where}: not found as one {e['section']} item")
            continue
        c = found[0]
        allowed = set().union(*(_CONCEPT_KINDS.get(k, set()) for k in e["concepts"]))
        kinds = {k.value for k in c.kinds}
        structured = (
            kinds - _NEUTRAL_KINDS - {k.value for k in c.kinds if k.value.startswith("screening")}
        )
        wrong = sorted(structured - allowed)
        atoms = _atoms_of(c.tree)
        carved = any(
            getattr(a, "except_groups", ())
            or getattr(a, "allowed", False)
            or getattr(a, "text", None) in SUPPORT_NOTES
            for a in atoms
        )
        decisive = bool(structured)
        dropped = (
            bool(e["exceptions"]) and decisive and not (getattr(c, "unaccounted", ()) or carved)
        )
        if wrong:
            out.misses.append(f"{where}: read as {wrong}, concepts {e['concepts']}")
        elif dropped:
            out.misses.append(f"{where}: exception dropped ({e['exceptions'][:60]})")
        else:
            out.correct += 1
            wanted = set(e["concepts"]) - {"other", "consent_logistics", "pregnancy_contraception"}
            if all(_CONCEPT_KINDS.get(k, set()) & kinds for k in wanted):
                out.understood += 1
    return out


def print_readings(r: Readings, verbose: bool = False) -> None:
    print(f"== {r.name}: {r.total} single-criterion readings")
    print(f"readings correct      {r.correct}/{r.total} ({r.accuracy:.3f})")
    print(f"fully understood      {r.understood}/{r.total}")
    for miss in r.misses if verbose else r.misses[:10]:
        print(f"   miss: {miss}")


def print_report(report: Report, verbose: bool = False) -> None:
    print(f"== {report.name}: {report.pairs} labelled pairs")
    print(f"verdict accuracy      {report.accuracy:.3f}")
    print(f"eligible precision    {report.precision:.3f}   recall {report.recall:.3f}")
    print(
        f"safety errors         {len(report.safety_errors)} "
        "(labelled not eligible, called likely eligible)"
    )
    for err in report.safety_errors:
        print(f"   ! {err}")
    print(
        f"eligible hidden       {len(report.eligible_hidden)} (labelled eligible, called likely "
        "ineligible — must be 0)"
    )
    for err in report.eligible_hidden:
        print(f"   ! {err}")
    print(
        f"ineligible caught     {report.ineligible_caught}/{report.ineligible_pairs} "
        f"({report.ineligible_caught_rate:.3f})"
    )
    print(f"unknown called elig.  {len(report.unknown_called_eligible)} (must be 0)")
    for err in report.unknown_called_eligible:
        print(f"   ! {err}")
    print(
        f"unknown hidden        {len(report.unknown_hidden)} (labelled unknown, called likely "
        "ineligible)"
    )
    for err in report.unknown_hidden:
        print(f"   ! {err}")
    print("per concept (understood / wrongly excluding / wrongly including / unknown):")
    for kind, cell in sorted(report.by_concept.items()):
        print(
            f"   {kind:<22} {cell['understood']:>3} / {cell['wrongly_excluding']:>3} / "
            f"{cell['wrongly_including']:>3} / {cell['unknown']:>3}"
        )
    print("confusion (label -> verdict):")
    for (want, got), n in sorted(report.confusion.items()):
        print(f"   {want:>10} -> {got:<10} {n}")
    if report.by_kind:
        print(f"criterion accuracy    {report.criterion_accuracy:.3f}")
    else:
        print("criterion accuracy    n/a (this set labels pairs, not single criteria)")
    for kind, (right, total) in sorted(report.by_kind.items()):
        print(f"   {kind:<22} {right}/{total}")
    if verbose:
        for miss in report.criterion_misses:
            print(f"   miss: {miss}")
    mean = sum(report.ndcg.values()) / len(report.ndcg) if report.ndcg else 0.0
    print(
        f"NDCG@10               {mean:.3f}  "
        + "  ".join(f"{k}={v:.3f}" for k, v in sorted(report.ndcg.items()))
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--set", action="append", type=Path, help="labelled set directory (repeatable)"
    )
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--json", action="store_true", help="print figures as JSON")
    parser.add_argument("--verbose", "-v", action="store_true", help="show every mismatch")
    parser.add_argument("--quick", action="store_true", help="project set only")
    args = parser.parse_args(argv)
    sets: list[Path] = args.set or [PROJECT_SET]
    if not args.set and not args.quick:
        if (CORPUS / "labels.jsonl").exists():
            sets.append(CORPUS)
        if SHARED_SET.exists():
            sets.append(SHARED_SET)
        else:
            print(f"(shared evaluation set {SHARED_SET} not present; skipped)")
    failed = False
    reports = []
    for directory in sets:
        report = evaluate(directory, args.as_of, verbose=args.verbose and not args.json)
        reports.append(report.as_dict())
        if not args.json:
            print_report(report, verbose=args.verbose)
        failed |= bool(report.safety_errors or report.eligible_hidden)
        failed |= bool(report.unknown_called_eligible)
    if not args.set and not args.quick:
        for directory in (REAL_TRIALS, CORPUS):
            if (directory / "criteria-expected.jsonl").exists():
                readings = evaluate_readings(directory)
                if not args.json:
                    print_readings(readings, verbose=args.verbose)
                reports.append(
                    {
                        "set": readings.name,
                        "readings": readings.total,
                        "readings_correct": round(readings.accuracy, 3),
                        "understood": readings.understood,
                    }
                )
            elif directory == REAL_TRIALS:
                print(f"(shared real-trials set {directory} not present; skipped)")
    if args.json:
        print(json.dumps(reports, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
