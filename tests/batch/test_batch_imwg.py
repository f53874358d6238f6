"""``batch imwg``: partitioned by patient (locally or on Dask) it equals the one-process engine."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myelonav.batch.imwg import read_assessments, read_summary, run_imwg
from myelonav.clinical.car_t import RelapseClass
from myelonav.clinical.cohort import MEASURES, evaluate_cohort

D0 = dt.date(2024, 1, 1)
_FLAGS = {"serum_ife", "urine_ife", "marrow_clonal", "new_lesion"}


@st.composite
def _row(draw: st.DrawFn) -> tuple[int, dt.date, str, float]:
    measure = draw(st.sampled_from(MEASURES))
    if measure in _FLAGS:
        value = float(draw(st.sampled_from([0, 1])))
    elif measure in ("kappa", "lambda"):
        value = float(draw(st.integers(0, 400)) * 5)
    elif measure == "urine_m":
        value = float(draw(st.integers(0, 40)) * 50)
    else:
        value = draw(st.integers(0, 80)) / 10
    return draw(st.integers(0, 15)), D0 + dt.timedelta(draw(st.integers(0, 400))), measure, value


def _long(rows: list[tuple[int, dt.date, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"patient": pl.Int64, "date": pl.Date, "measure": pl.String, "value": pl.Float64},
        orient="row",
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_row(), min_size=1, max_size=120), st.integers(1, 5))
def test_partitioned_run_equals_the_single_process_engine(
    rows: list[tuple[int, dt.date, str, float]], partitions: int
) -> None:
    long = _long(rows)
    want_rows, want_summary = evaluate_cohort(long)
    with tempfile.TemporaryDirectory() as tmp:
        labs = Path(tmp) / "labs.parquet"
        long.write_parquet(labs)
        report = run_imwg(labs, Path(tmp) / "out", partitions=partitions)
        got_rows = read_assessments(Path(tmp) / "out")
        got_summary = read_summary(Path(tmp) / "out")
        table = pl.read_parquet(Path(tmp) / "out" / "summary.parquet")
    assert report.partitions == partitions
    assert got_rows.equals(want_rows)
    assert got_summary.drop("relapse_class").equals(want_summary)
    assert table["patient"].to_list() == want_summary["patient"].to_list()
    assert set(table["relapse_class"]) <= {c.value for c in RelapseClass}


def _cohort(patients: int) -> pl.DataFrame:
    rows = []
    for p in range(patients):
        s0 = 1.5 + (p % 7) * 0.5
        for v in range(8):
            day = D0 + dt.timedelta(days=30 * v + p % 3)
            frac = max(0.05, 1 - 0.2 * v) + (0.4 * (v - 5) if p % 4 == 0 and v > 5 else 0)
            rows.append((p, day, "serum_m", round(s0 * frac, 1)))
            if v % 3 == 0:
                rows.append((p, day, "kappa", round(300 * frac + 8, 1)))
                rows.append((p, day, "lambda", 9.0))
    return _long(rows)


def test_dask_two_workers_and_resume(tmp_path: Path) -> None:
    long = _cohort(150)
    labs = tmp_path / "labs.parquet"
    long.write_parquet(labs)
    out = tmp_path / "out"
    first = run_imwg(labs, out, workers=2, partitions=4)
    want_rows, want_summary = evaluate_cohort(long)
    assert read_assessments(out).equals(want_rows)
    assert read_summary(out).drop("relapse_class").equals(want_summary)
    assert first.patients == 150 and first.skipped == 0

    # A lost partition (as after a killed worker) is the only one computed again.
    lost = sorted((out / "patients").glob("part-*.parquet"))[1]
    lost.unlink()
    again = run_imwg(labs, out, partitions=4)
    assert again.skipped == 3
    assert read_assessments(out).equals(want_rows)
    summary = pl.read_parquet(out / "summary.parquet")
    assert summary.height == 150
    counts = dict(summary.group_by("relapse_class").len().iter_rows())
    assert counts.get("late_relapse", 0) + counts.get("early_relapse", 0) > 0


def test_missing_lab_table_is_named(tmp_path: Path) -> None:
    from myelonav.errors import InputError

    with pytest.raises(InputError, match="no such Parquet file"):
        run_imwg(tmp_path / "nope.parquet", tmp_path / "out")


def test_relapse_class_follows_the_car_t_rules() -> None:
    from myelonav.batch.imwg import relapse_class

    summary = pl.DataFrame(
        {
            "baseline_date": [D0] * 5,
            "best_rank": [4, 4, 2, None, 4],
            "best_unconfirmed_rank": [5, 4, 4, 2, 4],
            "progression_date": [
                dt.date(2024, 5, 1),
                dt.date(2024, 7, 1),
                dt.date(2024, 3, 1),
                None,
                None,
            ],
            "pending_progression_date": [None, None, None, dt.date(2024, 2, 1), None],
        }
    )
    got = summary.select(relapse_class())["relapse_class"].to_list()
    assert got == [
        "early_relapse",
        "late_relapse",
        "undetermined",  # PR seen once, not confirmed, then progression
        "undetermined",  # unconfirmed PD at the end
        "no_progression",
    ]


def test_cli_batch_imwg(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from myelonav.cli import app

    labs = tmp_path / "labs.parquet"
    _cohort(12).write_parquet(labs)
    result = CliRunner().invoke(
        app, ["batch", "imwg", str(labs), "--out", str(tmp_path / "out"), "--partitions", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "12 patients" in result.output
    assert pl.read_parquet(tmp_path / "out" / "summary.parquet").height == 12
    missing = CliRunner().invoke(app, ["batch", "imwg", str(tmp_path / "no.parquet"), "--out", "x"])
    assert missing.exit_code != 0
