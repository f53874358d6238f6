"""`myelonav knowledge review [--older-than 6m]`: evidence freshness for curators."""

from __future__ import annotations

from typing import Annotated

import typer

from myelonav.commands._common import (
    AsOfOption,
    FormatOption,
    OutputFormat,
    emit_json,
    handle_errors,
    parse_as_of,
)
from myelonav.knowledge.review import parse_period, render_review, review

app = typer.Typer(help="The curated knowledge base: freshness and sourcing checks.")


@app.command("review")
@handle_errors
def review_command(
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than", help="Only entries last reviewed longer ago than this (6m, 90d, 1y)."
        ),
    ] = None,
    as_of: AsOfOption = None,
    output: FormatOption = OutputFormat.text,
) -> None:
    """Entries by last review date, approvals and their dates, figures without PMID/DOI."""
    period = parse_period(older_than) if older_than else None
    result = review(parse_as_of(as_of), period)
    if output is OutputFormat.json:
        emit_json(result.as_json())
    else:
        typer.echo(render_review(result))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="knowledge")
