"""``batch match``: every patient of an input folder against every study in the trial store.

Layout of the output folder::

    matches/part-<bucket>-<patients>-<trials>.parquet    patient, trial, verdict, score,
                                                          failing, unknown
    patients/part-<bucket>-<patients>-<trials>.parquet   one row per patient: status, error,
                                                          counts per verdict
    manifest.json                                         store version, trial hashes, as_of,
                                                          buckets, the files of the last run
    report.json                                           totals and every per-patient error

Patients are spread over a fixed number of buckets by a hash of their key (fixed at the first
run and kept in the manifest, so a new patient only touches its own bucket). A bucket's file
name carries a hash of its patients' content and of the trial store, and is written atomically
once the whole bucket is done; so a re-run after a killed worker or driver skips every bucket
whose file exists and redoes only the missing ones: no duplicated, no lost rows. Incremental
mode is the same mechanism: an unchanged bucket is skipped; a bucket whose patients are
unchanged but whose trials changed keeps its rows for unchanged trials and matches only the
changed ones (the previous run's trial hashes are in the manifest).

Each bucket is one task: locally in this process by default, or on Dask (a ``LocalCluster``
with ``workers`` processes, or an existing scheduler address); a worker loads the trial store
once and keeps it for every bucket it runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import io
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from myelonav.atomic import write_bytes_atomic, write_text_atomic
from myelonav.batch import _faults
from myelonav.batch.adapter import LoadedTrials, load_trials, match_record
from myelonav.batch.sources import PatientRef, load_bundle, patient_refs
from myelonav.errors import InputError

DEFAULT_BUCKET_SIZE = 50
_KEEP_VERSIONS = 4
MATCH_SCHEMA = pl.Schema(
    {
        "patient": pl.String,
        "trial": pl.String,
        "verdict": pl.String,
        "score": pl.Float64,
    }
)
MATCH_SCHEMA["failing"] = pl.List(pl.String)
MATCH_SCHEMA["unknown"] = pl.List(pl.String)
PATIENT_SCHEMA = pl.Schema(
    {
        "patient": pl.String,
        "status": pl.String,
        "error": pl.String,
        "trials": pl.Int64,
        "likely_eligible": pl.Int64,
        "possibly_eligible": pl.Int64,
        "likely_ineligible": pl.Int64,
        "best_trial": pl.String,
    }
)


@dataclass(frozen=True, slots=True)
class Job:
    out: str
    store: str | None
    as_of: dt.date
    trials_version: str


@dataclass(frozen=True, slots=True)
class Bucket:
    """One task: patients of one bucket; ``previous`` is an earlier file of the same patients
    whose rows for ``unchanged`` trials can be kept."""

    index: int
    patients: tuple[PatientRef, ...]
    name: str
    previous: str | None = None
    unchanged: frozenset[str] = frozenset()


@dataclass(slots=True)
class BucketResult:
    name: str
    patients: int
    rows: int
    errors: list[dict[str, str]]
    seconds: float
    reused_rows: int = 0


@dataclass(slots=True)
class BatchReport:
    patients: int = 0
    buckets: int = 0
    buckets_run: int = 0
    buckets_skipped: int = 0
    rows: int = 0
    reused_rows: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    input_errors: list[dict[str, str]] = field(default_factory=list)
    failed_buckets: list[dict[str, str]] = field(default_factory=list)
    trials: int = 0
    trials_version: str = ""
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------ worker side

_LOADED: dict[tuple[str | None, str], LoadedTrials] = {}
_SHARED: dict[str, dict[str, bytes]] = {}


def _trials_for(job: Job) -> LoadedTrials:
    """The trial store, loaded once per worker process (and per store version)."""
    key = (job.store, job.trials_version)
    if key not in _LOADED:
        _LOADED.clear()
        loaded = load_trials(Path(job.store) if job.store else None)
        if loaded.version != job.trials_version:
            raise InputError(
                "the trial store changed while the batch was running; run it again",
                location=job.store or "trial store",
            )
        _LOADED[key] = loaded
    return _LOADED[key]


def _shared_for(job: Job, shared_file: str | None) -> dict[str, bytes]:
    if shared_file is None:
        return {}
    if shared_file not in _SHARED:
        _SHARED[shared_file] = {
            k: v.encode() for k, v in json.loads(Path(shared_file).read_text()).items()
        }
    return _SHARED[shared_file]


def _import(ref: PatientRef, shared: dict[str, bytes], as_of: dt.date) -> Any:
    from myelonav.patient.fhir_import import import_bundle

    return import_bundle(load_bundle(ref, shared), source=ref.key, as_of=as_of).record


def run_bucket(bucket: Bucket, job: Job, shared_file: str | None = None) -> BucketResult:
    """Match every patient of one bucket and write its two Parquet files (atomically)."""
    _faults.maybe_kill_worker()
    start = time.perf_counter()
    trials = _trials_for(job)
    shared = _shared_for(job, shared_file)
    old: dict[str, list[dict[str, Any]]] = {}
    changed: list[str] | None = None
    if bucket.previous is not None:
        prev = pl.read_parquet(Path(job.out) / "matches" / bucket.previous)
        for row in prev.filter(pl.col("trial").is_in(list(bucket.unchanged))).iter_rows(named=True):
            old.setdefault(row["patient"], []).append(row)
        changed = sorted(set(trials.studies) - bucket.unchanged)
    rows: list[dict[str, Any]] = []
    people: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    reused = 0
    for ref in bucket.patients:
        try:
            record = _import(ref, shared, job.as_of)
            found = [
                {"patient": ref.key, **asdict(m)}
                for m in match_record(record, trials, job.as_of, only=changed)
            ]
        except Exception as exc:  # one bad patient never stops the batch
            message = f"{type(exc).__name__}: {exc}"
            errors.append({"patient": ref.key, "error": message})
            people.append({"patient": ref.key, "status": "error", "error": message})
            continue
        kept = old.get(ref.key, [])
        reused += len(kept)
        mine = sorted(kept + found, key=lambda r: r["trial"])
        rows.extend(mine)
        counts = {v: sum(r["verdict"] == v for r in mine) for v in _VERDICTS}
        best = max(mine, key=lambda r: (_TIER[r["verdict"]], r["score"]), default=None)
        people.append(
            {
                "patient": ref.key,
                "status": "ok",
                "error": None,
                "trials": len(mine),
                **counts,
                "best_trial": best["trial"] if best else None,
            }
        )
    _write(Path(job.out) / "matches" / bucket.name, pl.DataFrame(rows, schema=MATCH_SCHEMA))
    _write(Path(job.out) / "patients" / bucket.name, pl.DataFrame(people, schema=PATIENT_SCHEMA))
    if bucket.previous is not None and bucket.previous != bucket.name:
        for sub in ("matches", "patients"):
            (Path(job.out) / sub / bucket.previous).unlink(missing_ok=True)
    return BucketResult(
        bucket.name, len(bucket.patients), len(rows), errors, time.perf_counter() - start, reused
    )


_VERDICTS = ("likely_eligible", "possibly_eligible", "likely_ineligible")
_TIER = {"likely_eligible": 2, "possibly_eligible": 1, "likely_ineligible": 0}


def _write(path: Path, frame: pl.DataFrame) -> None:
    buf = io.BytesIO()
    frame.write_parquet(buf)
    write_bytes_atomic(path, buf.getvalue())


# ------------------------------------------------------------------ driver side


def _bucket_of(key: str, n: int) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % n


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def _read_manifest(out: Path) -> dict[str, Any]:
    path = out / "manifest.json"
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def plan(
    refs: list[PatientRef],
    trials: LoadedTrials,
    out: Path,
    as_of: dt.date,
    bucket_size: int,
    manifest: dict[str, Any],
    incremental: bool,
) -> tuple[list[Bucket], int, list[str]]:
    """The buckets to run, how many buckets there are, and the file names of the full result."""
    n = int(manifest.get("buckets") or 0) if manifest.get("as_of") == as_of.isoformat() else 0
    if n <= 0:
        n = max(1, -(-len(refs) // max(1, bucket_size)))
    groups: dict[int, list[PatientRef]] = {}
    for ref in refs:
        groups.setdefault(_bucket_of(ref.key, n), []).append(ref)
    existing = {p.name for p in (out / "matches").glob("part-*.parquet")} & {
        p.name for p in (out / "patients").glob("part-*.parquet")
    }
    versions: dict[str, dict[str, str]] = manifest.get("versions") or {}
    tkey = trials.version[:16]
    todo: list[Bucket] = []
    names: list[str] = []
    for index in sorted(groups):
        members = tuple(sorted(groups[index], key=lambda r: r.key))
        pkey = _hash(as_of.isoformat(), *(f"{r.key}={r.digest}" for r in members))
        name = f"part-{index:05d}-{pkey}-{tkey}.parquet"
        names.append(name)
        if name in existing:
            continue
        previous, unchanged = None, frozenset[str]()
        prefix = f"part-{index:05d}-{pkey}-"
        for earlier in sorted(e for e in existing if e.startswith(prefix)) if incremental else []:
            digests = versions.get(earlier.removeprefix(prefix).removesuffix(".parquet"))
            if digests:  # same patients, other trials: keep the rows of unchanged trials
                previous = earlier
                unchanged = frozenset(k for k, v in trials.digests.items() if digests.get(k) == v)
                break
        todo.append(Bucket(index, members, name, previous, unchanged))
    return todo, n, names


def _local_map(
    buckets: list[Bucket], job: Job, shared_file: str | None
) -> Iterator[tuple[Bucket, BucketResult | BaseException]]:
    for bucket in buckets:
        try:
            yield bucket, run_bucket(bucket, job, shared_file)
        except Exception as exc:
            yield bucket, exc


def _dask_map(
    client: Any, buckets: list[Bucket], job: Job, shared_file: str | None
) -> Iterator[tuple[Bucket, BucketResult | BaseException]]:
    as_completed = importlib.import_module("distributed").as_completed

    futures = {
        client.submit(run_bucket, b, job, shared_file, key=f"bucket-{b.name}", pure=False): b
        for b in buckets
    }
    for future in as_completed(futures):
        bucket = futures[future]
        try:
            yield bucket, future.result()
        except Exception as exc:
            yield bucket, exc


def run_batch(
    input_dir: Path,
    out: Path,
    *,
    store: Path | None = None,
    as_of: dt.date | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    bucket_size: int = DEFAULT_BUCKET_SIZE,
    incremental: bool = True,
    progress: Callable[[str], None] | None = None,
) -> BatchReport:
    """Match every patient in ``input_dir`` against the trial store; see the module docs."""
    from myelonav.batch.cluster import dask_client

    started = time.perf_counter()
    as_of = as_of or dt.date.today()
    out.mkdir(parents=True, exist_ok=True)
    refs, line_errors, shared = patient_refs(input_dir)
    trials = load_trials(store)
    manifest = _read_manifest(out)
    todo, n_buckets, names = plan(refs, trials, out, as_of, bucket_size, manifest, incremental)
    shared_file: str | None = None
    if shared:
        shared_path = out / "shared-resources.json"
        write_text_atomic(shared_path, json.dumps({k: v.decode() for k, v in shared.items()}))
        shared_file = str(shared_path)
    job = Job(str(out), str(store) if store else None, as_of, trials.version)
    report = BatchReport(
        patients=len(refs),
        buckets=len(names),
        buckets_skipped=len(names) - len(todo),
        trials=len(trials.studies),
        trials_version=trials.version,
        input_errors=[{"where": e.where, "error": e.message} for e in line_errors],
    )
    # Written first, so a killed run still knows its buckets and trial hashes on resume.
    _write_manifest(out, as_of, n_buckets, trials, names, store, complete=False)
    if workers is None and scheduler is None:
        results = _local_map(todo, job, shared_file)
        _consume(results, report, progress)
    else:
        with dask_client(workers=workers, scheduler=scheduler) as client:
            _consume(_dask_map(client, todo, job, shared_file), report, progress)
    keep = set(names)
    for sub in ("matches", "patients"):
        for path in (out / sub).glob("part-*.parquet"):
            if path.name not in keep and not report.failed_buckets:
                path.unlink()
    done = not report.failed_buckets
    _write_manifest(out, as_of, n_buckets, trials, names, store, complete=done)
    patients = read_patients(out, finished=False)
    report.errors = [
        {"patient": p, "error": e}
        for p, e in patients.filter(pl.col("status") == "error")
        .select("patient", "error")
        .iter_rows()
    ]
    report.seconds = round(time.perf_counter() - started, 2)
    write_text_atomic(out / "report.json", json.dumps(report.as_json(), indent=2))
    return report


def _consume(
    results: Iterator[tuple[Bucket, BucketResult | BaseException]],
    report: BatchReport,
    progress: Callable[[str], None] | None,
) -> None:
    for bucket, result in results:
        if isinstance(result, BaseException):
            report.failed_buckets.append(
                {"bucket": bucket.name, "error": f"{type(result).__name__}: {result}"}
            )
            continue
        report.buckets_run += 1
        report.rows += result.rows
        report.reused_rows += result.reused_rows
        if progress is not None:
            progress(
                f"bucket {bucket.index}: {result.patients} patients, {result.rows} rows, "
                f"{len(result.errors)} errors, {result.seconds:.1f} s"
            )
        _faults.maybe_kill_driver(report.buckets_run)


def _write_manifest(
    out: Path,
    as_of: dt.date,
    n_buckets: int,
    trials: LoadedTrials,
    names: list[str],
    store: Path | None,
    *,
    complete: bool,
) -> None:
    # Trial hashes of the last few store versions: a bucket file names the version it was
    # matched against, and incremental runs keep its rows for trials whose hash is the same.
    versions: dict[str, Any] = dict(_read_manifest(out).get("versions") or {})
    versions.pop(trials.version[:16], None)
    versions[trials.version[:16]] = trials.digests
    data = {
        "as_of": as_of.isoformat(),
        "buckets": n_buckets,
        "store": str(store) if store else None,
        "trials_version": trials.version,
        "versions": dict(list(versions.items())[-_KEEP_VERSIONS:]),
        "files": names,
        "complete": complete,
    }
    write_text_atomic(out / "manifest.json", json.dumps(data, indent=1, sort_keys=True))


def _result_files(out: Path, sub: str, *, finished: bool) -> list[Path]:
    manifest = _read_manifest(out)
    if finished and not manifest.get("complete"):
        raise InputError(
            "the batch in this folder has not finished; run it again to complete it",
            location=str(out),
        )
    names = manifest.get("files") or []
    return [out / sub / name for name in names if (out / sub / name).exists()]


def read_matches(out: Path) -> pl.DataFrame:
    """Every match row of a finished batch, sorted by patient and trial."""
    files = _result_files(out, "matches", finished=True)
    if not files:
        return pl.DataFrame(schema=MATCH_SCHEMA)
    return pl.read_parquet(files).sort("patient", "trial")


def read_patients(out: Path, *, finished: bool = True) -> pl.DataFrame:
    """One row per patient (status, error, counts per verdict), sorted by patient."""
    files = _result_files(out, "patients", finished=finished)
    if not files:
        return pl.DataFrame(schema=PATIENT_SCHEMA)
    return pl.read_parquet(files).sort("patient")
