"""Visit preparation for a record (``myelonav.visit``): questions, packet PDF, lab plot."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from myelonav.patient.models import PatientRecord
from myelonav.visit.trials import TrialRow, match_stored_trials

PlotFormat = Literal["png", "svg"]


def visit_trials(record: PatientRecord, as_of: dt.date, trials_db: Path) -> list[TrialRow]:
    return match_stored_trials(record, as_of, trials_db)


def questions_for(record: PatientRecord, as_of: dt.date, trials_db: Path) -> list[dict[str, Any]]:
    from myelonav.visit.questions import build_questions

    questions = build_questions(record, as_of, trials=visit_trials(record, as_of, trials_db))
    return [q.as_json() for q in questions]


def packet_pdf(record: PatientRecord, as_of: dt.date, trials_db: Path,
               source: str | None = None) -> bytes:
    """``source``: how the saved profile was made (marks patient-reported facts)."""
    from myelonav.visit.packet import PacketInputs, html_to_pdf, render_html

    inputs = PacketInputs(record, as_of, visit_trials(record, as_of, trials_db), source=source)
    return html_to_pdf(render_html(inputs))


def plot_bytes(record: PatientRecord, as_of: dt.date, fmt: PlotFormat) -> bytes:
    from myelonav.visit.plot import render_plot

    return render_plot(record, as_of, fmt)


__all__ = ["PlotFormat", "packet_pdf", "plot_bytes", "questions_for", "visit_trials"]
