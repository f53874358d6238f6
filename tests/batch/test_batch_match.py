"""``batch match``: equal to matching each patient alone; resumable after kill -9; incremental."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from myelonav.batch.match import read_matches, read_patients, run_batch
from myelonav.batch.synthetic import write_bulk_export, write_bundles
from myelonav.patient.fhir_import import import_bundle_file
from myelonav.trials.local import criteria_parser, open_store
from myelonav.trials.patient_match import stored_parse
from myelonav.trials.samples import sample_records
from myelonav.trials.sqlite_store import SAMPLE_SOURCE
from myelonav.trials.store import StudyRecord
from myelonav.visit.trials import match_trials

AS_OF = dt.date(2026, 11, 25)
# 1,000 patients against the bundled sample store: the proof, ~70 s on 2 cores
N = int(os.environ.get("MYELONAV_BATCH_TEST_PATIENTS", "1000"))


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("batch")
    write_bundles(root / "bundles", N, seed=3)
    write_bulk_export(root / "bulk", N, seed=3)
    store = root / "trials.sqlite3"
    open_store(store, parse_criteria=criteria_parser()).close()
    return {"root": root, "bundles": root / "bundles", "bulk": root / "bulk", "store": store}


def _alone(bundles: Path, store_path: Path) -> pl.DataFrame:
    """Each patient matched on its own through the visit's matcher (no batch code)."""
    store = open_store(store_path, parse_criteria=criteria_parser())
    studies = list(store.iter_studies())
    rows = []
    for path in sorted(bundles.glob("*.json")):
        report = import_bundle_file(path, as_of=AS_OF)
        patient = next(
            e["resource"]["id"]
            for e in json.loads(path.read_text())["entry"]
            if e["resource"]["resourceType"] == "Patient"
        )
        for r in match_trials(
            report.record,
            studies,
            as_of=AS_OF,
            parsed_of=lambda s: stored_parse(store.parsed_criteria(s.nct_id), s),
            limit=10_000,
            include_ineligible=True,
        ):
            rows.append((patient, r.nct_id, r.verdict, r.score, r.not_met, r.to_check))
    store.close()
    return pl.DataFrame(
        rows,
        schema=["patient", "trial", "verdict", "score", "n_failing", "n_unknown"],
        orient="row",
    ).sort("patient", "trial")


def _comparable(matches: pl.DataFrame) -> pl.DataFrame:
    return matches.select(
        "patient",
        "trial",
        "verdict",
        "score",
        pl.col("failing").list.len().cast(pl.Int64).alias("n_failing"),
        pl.col("unknown").list.len().cast(pl.Int64).alias("n_unknown"),
    ).sort("patient", "trial")


@pytest.fixture(scope="module")
def reference(data: dict[str, Path]) -> pl.DataFrame:
    return _alone(data["bundles"], data["store"])


def _no_duplicates(matches: pl.DataFrame) -> None:
    assert matches.select(pl.struct("patient", "trial").is_duplicated().any()).item() is False


def test_local_batch_equals_each_patient_alone(
    data: dict[str, Path], reference: pl.DataFrame, tmp_path: Path
) -> None:
    report = run_batch(data["bulk"], tmp_path, store=data["store"], as_of=AS_OF, bucket_size=7)
    assert report.errors == [] and report.failed_buckets == []
    matches = read_matches(tmp_path)
    _no_duplicates(matches)
    assert reference.height > 0
    assert _comparable(matches).equals(reference)
    people = read_patients(tmp_path)
    assert people.height == N and (people["status"] == "ok").all()
    assert people["trials"].sum() == matches.height


def test_dask_two_workers_equal_each_patient_alone(
    data: dict[str, Path], reference: pl.DataFrame, tmp_path: Path
) -> None:
    report = run_batch(
        data["bulk"], tmp_path, store=data["store"], as_of=AS_OF, workers=2, bucket_size=10
    )
    assert report.buckets_run == report.buckets and not report.failed_buckets
    assert _comparable(read_matches(tmp_path)).equals(reference)


def test_bundle_folder_gives_the_same_rows_as_the_bulk_export(
    data: dict[str, Path], tmp_path: Path
) -> None:
    run_batch(data["bundles"], tmp_path / "b", store=data["store"], as_of=AS_OF)
    run_batch(data["bulk"], tmp_path / "x", store=data["store"], as_of=AS_OF)
    ids = {
        path.stem: next(
            e["resource"]["id"]
            for e in json.loads(path.read_text())["entry"]
            if e["resource"]["resourceType"] == "Patient"
        )
        for path in data["bundles"].glob("*.json")
    }
    by_file = read_matches(tmp_path / "b").with_columns(pl.col("patient").replace_strict(ids))
    assert by_file.sort("patient", "trial").equals(read_matches(tmp_path / "x"))


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "myelonav.cli", "batch", "match", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_resume_after_kill_9_of_the_driver(
    data: dict[str, Path], reference: pl.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = [str(data["bulk"]), "--out", str(out), "--store", str(data["store"])]
    args += ["--as-of", AS_OF.isoformat(), "--bucket-size", "6"]
    killed = _cli(args, {"MYELONAV_BATCH_KILL_DRIVER_AFTER": "3"})
    assert killed.returncode == -9, killed.stderr
    written = len(list((out / "matches").glob("part-*.parquet")))
    assert 3 <= written < 10
    with pytest.raises(Exception, match="not finished"):
        read_matches(out)
    again = _cli([*args, "--json"], {})
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["buckets_skipped"] == written
    assert report["buckets_run"] == report["buckets"] - written
    matches = read_matches(out)
    _no_duplicates(matches)
    assert _comparable(matches).equals(reference)


def test_resume_after_kill_9_of_a_worker(
    data: dict[str, Path], reference: pl.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    marker = tmp_path / "killed-once"
    args = [str(data["bulk"]), "--out", str(out), "--store", str(data["store"])]
    args += ["--as-of", AS_OF.isoformat(), "--bucket-size", "10", "--workers", "2", "--json"]
    run = _cli(args, {"MYELONAV_BATCH_KILL_WORKER": str(marker)})
    assert marker.exists()  # a worker did die
    if run.returncode != 0:  # the bucket was lost with its worker: the re-run finishes it
        run = _cli(args, {})
    assert run.returncode == 0, run.stderr
    matches = read_matches(out)
    _no_duplicates(matches)
    assert _comparable(matches).equals(reference)


def test_incremental_runs_only_changed_patients_and_trials(
    data: dict[str, Path], tmp_path: Path
) -> None:
    bundles = tmp_path / "bundles"
    write_bundles(bundles, 20, seed=5)
    store_path = tmp_path / "trials.sqlite3"
    open_store(store_path, parse_criteria=criteria_parser()).close()
    out = tmp_path / "out"
    first = run_batch(bundles, out, store=store_path, as_of=AS_OF, bucket_size=4)
    assert first.buckets_run == first.buckets == 5

    same = run_batch(bundles, out, store=store_path, as_of=AS_OF)
    assert same.buckets_run == 0 and same.buckets_skipped == 5

    # One patient changes: only its bucket runs again.
    changed = sorted(bundles.glob("*.json"))[0]
    bundle = json.loads(changed.read_text())
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Procedure"]
    changed.write_text(json.dumps(bundle))
    one = run_batch(bundles, out, store=store_path, as_of=AS_OF)
    assert one.buckets_run == 1

    # One trial changes: rows for the other trials are kept, and the result is a fresh run's.
    record = sample_records()[0]
    raw = json.loads(json.dumps(record.raw))
    elig = raw["protocolSection"]["eligibilityModule"]
    elig["eligibilityCriteria"] += "\n\nExclusion Criteria:\n* Creatinine clearance < 60 mL/min"
    store = open_store(store_path, parse_criteria=criteria_parser())
    store.import_studies(
        [StudyRecord(type(record.study).from_v2(raw, is_sample=True), raw)], source=SAMPLE_SOURCE
    )
    store.close()
    inc = run_batch(bundles, out, store=store_path, as_of=AS_OF)
    assert inc.buckets_run == 5 and inc.reused_rows > 0
    fresh = run_batch(bundles, tmp_path / "fresh", store=store_path, as_of=AS_OF)
    assert fresh.reused_rows == 0
    assert read_matches(out).equals(read_matches(tmp_path / "fresh"))
    assert read_patients(out).equals(read_patients(tmp_path / "fresh"))


def test_a_bad_patient_is_reported_and_the_rest_are_matched(
    data: dict[str, Path], tmp_path: Path
) -> None:
    bundles = tmp_path / "bundles"
    write_bundles(bundles, 5, seed=9)
    (bundles / "broken.json").write_text('{"resourceType": "Bundle", "entry": [')
    (bundles / "not-a-bundle.json").write_text('{"resourceType": "Patient"}')
    report = run_batch(bundles, tmp_path / "out", store=data["store"], as_of=AS_OF)
    assert sorted(e["patient"] for e in report.errors) == ["broken", "not-a-bundle"]
    people = read_patients(tmp_path / "out")
    assert (people.filter(pl.col("status") == "ok").height, people.height) == (5, 7)
    assert set(read_matches(tmp_path / "out")["patient"]) == set(
        people.filter(pl.col("status") == "ok")["patient"]
    )
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert len(saved["errors"]) == 2


def test_bulk_lines_without_a_patient_are_reported(data: dict[str, Path], tmp_path: Path) -> None:
    bulk = tmp_path / "bulk"
    write_bulk_export(bulk, 3, seed=1)
    with (bulk / "Observation.ndjson").open("a") as fh:
        fh.write("{not json\n")
        fh.write('{"resourceType": "Observation", "id": "x"}\n')
    report = run_batch(bulk, tmp_path / "out", store=data["store"], as_of=AS_OF)
    assert [e["where"] for e in report.input_errors] == [
        f"Observation.ndjson:{n}" for n in (report.input_errors and _tail_lines(bulk))
    ]
    assert report.patients == 3 and not report.errors


def _tail_lines(bulk: Path) -> tuple[int, int]:
    n = sum(1 for _ in (bulk / "Observation.ndjson").open())
    return n - 1, n
