"""The lab timeline: serum M-protein and free light chains over time, with each treatment
shaded as a band labelled with its regimen, transplants and CAR T infusions marked, and the
IMWG progression dates after each CAR T (``myelonav.clinical.car_t.car_t_facts``).

Drawn with matplotlib's Agg canvas (no display, no pyplot state). SVG keeps its text as text
(so screen readers and search find the labels); ``describe`` gives the matching alt text.

Thread safety: even without pyplot, matplotlib keeps process-wide state (``rcParams``, which
``rc_context`` swaps in and out, and its font and text-layout caches), so two threads drawing at
once corrupt each other's output (the web app's 40 concurrent plot requests gave 36 errors).
Every build and save therefore holds one module lock; drawing is CPU-bound Python under the
GIL, so the lock costs little throughput.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from myelonav.atomic import write_bytes_atomic
from myelonav.clinical.car_t import car_t_facts
from myelonav.errors import InputError
from myelonav.patient.models import Analyte, LabResult, LightChain, PatientRecord, StopReason

PlotFormat = Literal["png", "svg"]
# FLC values spanning more than this factor (two decades) go on a log axis.
LOG_SPAN = 100.0
WIDTH_IN, HEIGHT_IN, DPI = 10.0, 6.0, 100
CAR_T_LABEL = "CAR T"
PROGRESSION_LABEL = "IMWG progression"
_DRAW_LOCK = threading.RLock()
_BAND_COLOURS = ("#4C78A8", "#F58518", "#54A24B", "#B279A2", "#9D755D", "#E45756", "#72B7B2")


@dataclass(frozen=True)
class Band:
    start: dt.date
    end: dt.date
    label: str


@dataclass(frozen=True)
class Marker:
    date: dt.date
    label: str  # short, drawn on the plot
    kind: Literal["car_t", "transplant", "progression"]
    detail: str = ""  # longer, for the alt text


@dataclass
class TimelineData:
    start: dt.date
    end: dt.date
    m_protein: list[tuple[dt.date, float]] = field(default_factory=list)
    kappa: list[tuple[dt.date, float]] = field(default_factory=list)
    lambda_: list[tuple[dt.date, float]] = field(default_factory=list)
    involved: LightChain | None = None
    bands: list[Band] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)


def _points(labs: list[LabResult], as_of: dt.date) -> list[tuple[dt.date, float]]:
    return [(lab.date, lab.value) for lab in labs if lab.value is not None and lab.date <= as_of]


def timeline_data(record: PatientRecord, as_of: dt.date) -> TimelineData:
    """What the plot shows, as plain data (also used for the alt text and in tests)."""
    lines = [ln for ln in record.therapy_lines if ln.start is not None and ln.start <= as_of]
    bands: list[Band] = []
    for i, ln in enumerate(lines):
        assert ln.start is not None
        nxt = lines[i + 1].start if i + 1 < len(lines) else None
        if ln.end is not None:
            end = min(ln.end, as_of)
        elif ln.stop_reason is StopReason.ongoing or nxt is None:
            end = as_of
        else:
            end = nxt
        bands.append(Band(ln.start, max(end, ln.start), ln.regimen or " + ".join(ln.agents)))
    markers: list[Marker] = [
        Marker(t.date, "ASCT" if t.kind.value == "autologous" else "allo-SCT", "transplant",
               f"{t.kind.value} stem cell transplant")
        for t in record.transplants if t.date is not None and t.date <= as_of
    ]
    for episode in record.car_t:
        if episode.infusion_date > as_of:
            continue
        markers.append(Marker(episode.infusion_date, CAR_T_LABEL, "car_t",
                              f"CAR T infusion ({episode.product})"))
        facts = car_t_facts(record, episode, as_of=as_of)
        if facts.progression_date is not None:
            markers.append(Marker(facts.progression_date, PROGRESSION_LABEL, "progression",
                                  f"IMWG progression after {episode.product} "
                                  f"({facts.progression_source})"))
    data = TimelineData(
        start=as_of,
        end=as_of,
        m_protein=_points(record.series(Analyte.serum_m_protein), as_of),
        kappa=_points(record.series(Analyte.kappa_flc), as_of),
        lambda_=_points(record.series(Analyte.lambda_flc), as_of),
        involved=record.diagnosis.isotype.light_chain,
        bands=bands,
        markers=sorted(markers, key=lambda m: m.date),
    )
    dates = [d for d, _ in data.m_protein + data.kappa + data.lambda_]
    dates += [b.start for b in bands] + [m.date for m in data.markers]
    data.start = min(dates, default=as_of - dt.timedelta(days=365))
    if data.start >= as_of:
        data.start = as_of - dt.timedelta(days=30)
    return data


def _chain_label(chain: LightChain, involved: LightChain | None) -> str:
    name = "Kappa" if chain is LightChain.kappa else "Lambda"
    if involved is None:
        return f"{name} FLC"
    return f"{name} FLC ({'involved' if chain is involved else 'uninvolved'})"


def _decorate(ax: Axes, data: TimelineData, *, labels: bool) -> None:
    for i, band in enumerate(data.bands):
        colour = _BAND_COLOURS[i % len(_BAND_COLOURS)]
        ax.axvspan(band.start, band.end, color=colour, alpha=0.13, linewidth=0)  # type: ignore[arg-type]
        if labels:
            ax.text(band.start, 0.98, f" {band.label}", transform=ax.get_xaxis_transform(),  # type: ignore[arg-type]
                    rotation=90, va="top", ha="left", fontsize=7, color="#333333", clip_on=True)
    for m in data.markers:
        style = {"car_t": ("#C00000", "-", 1.8), "transplant": ("#555555", ":", 1.2),
                 "progression": ("#7A0177", "--", 1.4)}[m.kind]
        ax.axvline(m.date, color=style[0], linestyle=style[1], linewidth=style[2])  # type: ignore[arg-type]
        if labels:
            ax.text(m.date, 0.02, f" {m.label} {m.date.isoformat()}",  # type: ignore[arg-type]
                    transform=ax.get_xaxis_transform(), rotation=90, va="bottom", ha="right",
                    fontsize=7, color=style[0], clip_on=True)


def build_figure(record: PatientRecord, as_of: dt.date) -> Figure:
    data = timeline_data(record, as_of)
    with _DRAW_LOCK:
        return _draw(record, data)


def _draw(record: PatientRecord, data: TimelineData) -> Figure:
    has_m = bool(data.m_protein)
    has_flc = bool(data.kappa or data.lambda_)
    panels = [p for p, ok in (("m", has_m), ("flc", has_flc)) if ok] or ["empty"]
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for n, (ax, panel) in enumerate(zip(axes, panels, strict=True)):
        _decorate(ax, data, labels=n == 0)
        if panel == "m":
            d, v = zip(*data.m_protein, strict=True)
            ax.plot(d, v, marker="o", markersize=3, color="#1f1f1f", label="Serum M-protein")
            ax.set_ylabel("M-protein (g/dL)")
            ax.set_ylim(bottom=0)
        elif panel == "flc":
            values = [v for _, v in data.kappa + data.lambda_ if v > 0]
            log = bool(values) and max(values) / min(values) > LOG_SPAN
            for chain, series, colour in ((LightChain.kappa, data.kappa, "#1F77B4"),
                                          (LightChain.lambda_, data.lambda_, "#D62728")):
                pts = [(d, v) for d, v in series if v > 0 or not log]
                if pts:
                    d, v = zip(*pts, strict=True)
                    ax.plot(d, v, marker="s", markersize=3, color=colour,
                            label=_chain_label(chain, data.involved))
            if log:
                ax.set_yscale("log")
            ax.set_ylabel("Free light chain (mg/L)" + (", log scale" if log else ""))
        else:
            ax.text(0.5, 0.5, "No M-protein or free light chain results in the record",
                    transform=ax.transAxes, ha="center", va="center", fontsize=10)
            ax.set_yticks([])
        if panel != "empty":
            ax.legend(loc="upper right", fontsize=7, framealpha=0.85)
        ax.grid(True, axis="y", alpha=0.3)
    axes[-1].set_xlim(data.start - dt.timedelta(days=15), data.end + dt.timedelta(days=15))
    title = "Myeloma markers and treatments over time"
    if record.sample:
        title = "SAMPLE (fictional patient) - " + title
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def render_plot(record: PatientRecord, as_of: dt.date, fmt: PlotFormat = "png") -> bytes:
    """The timeline as PNG or SVG bytes. Deterministic: no timestamps in the file."""
    data = timeline_data(record, as_of)
    buffer = io.BytesIO()
    with _DRAW_LOCK, rc_context({"svg.fonttype": "none", "svg.hashsalt": "myelonav"}):
        fig = _draw(record, data)
        metadata = {"Date": None} if fmt == "svg" else {"Software": None}
        fig.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


def save_plot(record: PatientRecord, as_of: dt.date, path: str | Path) -> Path:
    """Write the plot; the format follows the suffix (.png or .svg). Atomic."""
    p = Path(path)
    suffix = p.suffix.lower().lstrip(".")
    if suffix not in ("png", "svg"):
        raise InputError("the plot file must end in .png or .svg", location=str(p))
    fmt: PlotFormat = "png" if suffix == "png" else "svg"
    return write_bytes_atomic(p, render_plot(record, as_of, fmt))


def _range(points: list[tuple[dt.date, float]], unit: str) -> str:
    values = [v for _, v in points]
    last_d, last_v = points[-1]
    return (f"{len(points)} results from {points[0][0]} to {last_d}, between {min(values):g} and "
            f"{max(values):g} {unit}; latest {last_v:g} {unit} on {last_d}")


def describe(record: PatientRecord, as_of: dt.date) -> str:
    """Alt text for the plot: what it shows, in words."""
    data = timeline_data(record, as_of)
    parts = [f"Timeline from {data.start} to {data.end}."]
    if data.m_protein:
        parts.append(f"Serum M-protein: {_range(data.m_protein, 'g/dL')}.")
    for chain, series in ((LightChain.kappa, data.kappa), (LightChain.lambda_, data.lambda_)):
        if series:
            parts.append(f"{_chain_label(chain, data.involved)}: {_range(series, 'mg/L')}.")
    if not (data.m_protein or data.kappa or data.lambda_):
        parts.append("No M-protein or free light chain results in the record.")
    if data.bands:
        parts.append("Shaded treatments: " + "; ".join(
            f"{b.label} ({b.start} to {b.end})" for b in data.bands) + ".")
    for m in data.markers:
        parts.append(f"{m.detail or m.label} on {m.date}.")
    return " ".join(parts)


__all__ = [
    "CAR_T_LABEL",
    "PROGRESSION_LABEL",
    "Band",
    "Marker",
    "TimelineData",
    "build_figure",
    "describe",
    "render_plot",
    "save_plot",
    "timeline_data",
]
