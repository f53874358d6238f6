"""`myelonav serve`: the web app and REST API (this computer, or a clinic network)."""

from __future__ import annotations

import typer

from myelonav.commands._common import handle_errors


@handle_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host",
                             help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    mode: str | None = typer.Option(
        None, "--mode", help="local (default: this computer only, no login) or clinic "
                             "(login, PostgreSQL, audit; MYELONAV_MODE)."),
    behind_proxy: bool = typer.Option(
        False, "--behind-proxy", help="Clinic mode: a TLS reverse proxy on this host forwards "
                                      "to us, so a network address needs no certificate here."),
    workers: int = typer.Option(
        0, "--workers", min=0, max=64,
        help="Worker processes (0: automatic, 2 when the trial store is large; "
             "MYELONAV_WEB_WORKERS)."),
) -> None:
    """Serve the navigator in a browser, with the REST API under /api/v1."""
    from myelonav.errors import InputError
    from myelonav.settings import settings
    from myelonav.web.server import check_bind
    from myelonav.web.server import serve as run

    cfg = settings()
    updates: dict[str, object] = {}
    if mode is not None:
        if mode not in ("local", "clinic"):
            raise InputError("choose local or clinic", location="--mode")
        updates["mode"] = mode
    if behind_proxy:
        updates["behind_proxy"] = True
    cfg = cfg.model_copy(update=updates)
    check_bind(host, cfg)
    scheme = "https" if cfg.tls_certfile else "http"
    typer.echo(f"myelonav ({cfg.mode} mode): open {scheme}://{host}:{port}/ in a browser "
               "(Ctrl+C to stop)", err=True)
    run(host, port, cfg, workers=workers or None)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
