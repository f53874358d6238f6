"""What every command shares: output format, --as-of, error printing, profile loading."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Annotated, Any, ParamSpec, TypeVar

import typer

from myelonav import DISCLAIMER
from myelonav.errors import MyelonavError
from myelonav.patient.models import PatientRecord
from myelonav.patient.profile_io import load_profile


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    md = "md"


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="Output format: text, json or md.")
]


def parse_as_of(value: str | None) -> dt.date:
    if value is None or value == "today":
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Reason as of this date (YYYY-MM-DD); default today."),
]

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one line to stderr and return an Exit to raise."""
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(code)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn myelonav errors into one line on stderr and exit code 1 (never a traceback)."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except MyelonavError as exc:
            raise fail(str(exc)) from None

    return wrapper


def open_profile(path: str) -> PatientRecord:
    return load_profile(path)


def emit_json(payload: Any) -> None:
    """JSON to stdout; always carries the disclaimer so no output travels without it."""
    if isinstance(payload, dict) and "disclaimer" not in payload:
        payload = {**payload, "disclaimer": DISCLAIMER}
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")
