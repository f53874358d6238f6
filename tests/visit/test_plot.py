from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myelonav.errors import InputError
from myelonav.patient.models import PatientRecord
from myelonav.samples import SAMPLE_AS_OF, sample_ids, sample_profile
from myelonav.visit.plot import (
    CAR_T_LABEL,
    DPI,
    HEIGHT_IN,
    PROGRESSION_LABEL,
    WIDTH_IN,
    build_figure,
    describe,
    save_plot,
    timeline_data,
)

AS_OF = dt.date(2026, 11, 25)
MakeRecord = Callable[..., PatientRecord]


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("sample_id", sample_ids())
def test_png_has_the_expected_size(sample_id: str, tmp_path: Path) -> None:
    out = save_plot(sample_profile(sample_id), SAMPLE_AS_OF, tmp_path / "plot.png")
    assert _png_size(out.read_bytes()) == (int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI))


def test_svg_keeps_the_car_t_and_progression_labels_as_text(tmp_path: Path) -> None:
    record = sample_profile("sample-early-cilta-emd")
    svg = save_plot(record, SAMPLE_AS_OF, tmp_path / "plot.svg").read_text("utf-8")
    assert f"{CAR_T_LABEL} 2026-03-10" in svg
    assert f"{PROGRESSION_LABEL} 2026-08-18" in svg
    assert "KPd" in svg and "SAMPLE" in svg


def test_free_light_chains_go_on_a_log_axis_only_when_they_span_two_decades(
    make: MakeRecord,
) -> None:
    wide = [{"analyte": "kappa_flc", "date": f"2026-0{m}-01", "value": v}
            for m, v in ((1, 5.0), (2, 50.0), (3, 900.0))]
    narrow = [{"analyte": "kappa_flc", "date": f"2026-0{m}-01", "value": v}
              for m, v in ((1, 10.0), (2, 50.0), (3, 90.0))]
    for labs, scale in ((wide, "log"), (narrow, "linear")):
        fig = build_figure(make(labs=labs), AS_OF)
        assert [ax.get_yscale() for ax in fig.axes] == [scale]


def test_bands_cover_each_regimen_and_ongoing_runs_to_as_of(make: MakeRecord) -> None:
    lines = [
        {"agents": ["daratumumab", "pomalidomide", "dexamethasone"], "start": "2023-01-01",
         "end": "2023-12-01", "stop_reason": "progression", "regimen": "DPd"},
        {"agents": ["teclistamab"], "start": "2026-09-01", "stop_reason": "ongoing"},
    ]
    data = timeline_data(make(therapy_lines=lines), AS_OF)
    assert [(b.label, b.start, b.end) for b in data.bands] == [
        ("DPd", dt.date(2023, 1, 1), dt.date(2023, 12, 1)),
        ("teclistamab", dt.date(2026, 9, 1), AS_OF),
    ]
    kinds = [m.kind for m in data.markers]
    assert "car_t" in kinds


def test_progression_marker_comes_from_imwg_facts() -> None:
    data = timeline_data(sample_profile("sample-late-idecel-t1114"), SAMPLE_AS_OF)
    prog = [m for m in data.markers if m.kind == "progression"]
    assert [m.date for m in prog] == [dt.date(2026, 7, 13)]


def test_alt_text_describes_the_plot() -> None:
    text = describe(sample_profile("sample-refractory-cart-tec"), SAMPLE_AS_OF)
    assert "Kappa FLC (involved)" in text and "CAR T infusion" in text
    assert "teclistamab" in text


def test_a_record_without_labs_still_plots(tmp_path: Path) -> None:
    out = save_plot(PatientRecord(id="bare"), AS_OF, tmp_path / "bare.svg")
    assert "No M-protein or free light chain results" in out.read_text("utf-8")


def test_wrong_suffix_is_refused_and_nothing_written(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        save_plot(PatientRecord(id="bare"), AS_OF, tmp_path / "plot.gif")
    assert "plot.gif" in str(err.value)
    assert list(tmp_path.iterdir()) == []


_series = st.lists(
    st.tuples(st.dates(dt.date(2015, 1, 1), dt.date(2026, 11, 25)),
              st.sampled_from(["serum_m_protein", "kappa_flc", "lambda_flc"]),
              st.floats(0, 5000, allow_nan=False)),
    max_size=25,
)
_regimens = st.lists(
    st.tuples(st.dates(dt.date(2015, 1, 1), dt.date(2026, 11, 25)),
              st.integers(0, 900), st.sampled_from(["progression", "ongoing", "completed"])),
    max_size=5,
)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(series=_series, regimens=_regimens, light=st.sampled_from(["kappa", "lambda", None]))
def test_timeline_data_holds_for_any_record(
    make: MakeRecord,
    series: list[tuple[dt.date, str, float]],
    regimens: list[tuple[dt.date, int, str]],
    light: str | None,
) -> None:
    labs = [{"analyte": a, "date": d.isoformat(), "value": v} for d, a, v in series]
    lines = [{"agents": ["pomalidomide"], "start": s.isoformat(),
              "end": None if stop == "ongoing" else (s + dt.timedelta(days=n)).isoformat(),
              "stop_reason": stop} for s, n, stop in regimens]
    record = make(labs=labs, therapy_lines=lines,
                  diagnosis={"date": "2015-01-01", "isotype": {"light_chain": light}})
    data = timeline_data(record, AS_OF)
    assert all(b.start <= b.end <= AS_OF for b in data.bands)
    assert data.start <= data.end == AS_OF
    assert all(d <= AS_OF for d, _ in data.m_protein + data.kappa + data.lambda_)
    assert describe(record, AS_OF).startswith("Timeline from")


def test_plots_render_concurrently_from_threads() -> None:
    """Web requests render plots from worker threads; each must succeed and match a plot
    rendered alone (matplotlib's global settings and caches are not thread-safe)."""
    from concurrent.futures import ThreadPoolExecutor

    from myelonav.visit.plot import render_plot

    record = sample_profile(sample_ids()[0])
    expected = {fmt: render_plot(record, SAMPLE_AS_OF, fmt) for fmt in ("png", "svg")}
    jobs = ["png" if i % 2 else "svg" for i in range(20)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda fmt: render_plot(record, SAMPLE_AS_OF, fmt), jobs))
    for fmt, data in zip(jobs, results, strict=True):
        assert data == expected[fmt], f"a {fmt} plot rendered in a thread differs"
