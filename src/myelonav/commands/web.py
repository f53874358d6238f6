"""`myelonav serve`: the web app and REST API on this computer."""

from __future__ import annotations

import typer

from myelonav.commands._common import handle_errors


@handle_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host",
                             help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
) -> None:
    """Serve the navigator in a browser, with the REST API under /api/v1."""
    from myelonav.web.server import serve as run

    typer.echo(f"myelonav: open http://{host}:{port}/ in a browser (Ctrl+C to stop)", err=True)
    run(host, port)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
