"""Visit preparation for a record (``myelonav.visit``): questions, packet PDF, lab plot."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from myelonav.patient.models import PatientRecord
from myelonav.visit.trials import TrialRow, stored_trials_view

if TYPE_CHECKING:
    from myelonav.trials.match_view import TrialView

PlotFormat = Literal["png", "svg"]


def visit_trials(record: PatientRecord, as_of: dt.date, trials_db: Path) -> list[TrialRow]:
    return stored_trials_view(record, as_of, trials_db)[0]


def trials_view(
    record: PatientRecord, as_of: dt.date, trials_db: Path
) -> tuple[list[TrialRow], TrialView]:
    """The visit's trial rows and the one trial view they come from (``trials.match_view``)."""
    return stored_trials_view(record, as_of, trials_db)


def questions_for(record: PatientRecord, as_of: dt.date, trials_db: Path,
                  rows: list[TrialRow] | None = None) -> list[dict[str, Any]]:
    from myelonav.visit.questions import build_questions

    if rows is None:
        rows = visit_trials(record, as_of, trials_db)
    questions = build_questions(record, as_of, trials=rows)
    return [q.as_json() for q in questions]


def packet_html(record: PatientRecord, as_of: dt.date, trials_db: Path,
                source: str | None = None) -> str:
    """``source``: how the saved profile was made (marks patient-reported facts)."""
    from myelonav.visit.packet import PacketInputs, render_html

    rows, view = stored_trials_view(record, as_of, trials_db)
    inputs = PacketInputs(record, as_of, rows, source=source, trials_note=view.headline(),
                          trials_updated=view.last_update)
    return render_html(inputs)


def packet_pdf(record: PatientRecord, as_of: dt.date, trials_db: Path,
               source: str | None = None) -> bytes:
    from myelonav.visit.packet import html_to_pdf

    return html_to_pdf(packet_html(record, as_of, trials_db, source))


def plot_bytes(record: PatientRecord, as_of: dt.date, fmt: PlotFormat) -> bytes:
    from myelonav.visit.plot import render_plot

    return render_plot(record, as_of, fmt)


__all__ = ["PlotFormat", "packet_html", "packet_pdf", "plot_bytes", "questions_for",
           "trials_view", "visit_trials"]
