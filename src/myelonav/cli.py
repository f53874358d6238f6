"""The myelonav command line: one Typer app assembled from per-domain sub-apps."""

from __future__ import annotations

import typer

from myelonav import DISCLAIMER, __version__

app = typer.Typer(
    name="myelonav",
    help=f"Navigator for multiple myeloma after CAR T-cell therapy. {DISCLAIMER}",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit()


# Each module in myelonav.commands exposes ``register(app)``, adding its commands or sub-apps.
# Keep the tuple in alphabetical order; add one name when a domain lands.
COMMAND_MODULES: tuple[str, ...] = (
    "batch",
    "clinical",
    "demo",
    "knowledge",
    "options",
    "patient",
    "support",
    "trials",
    "users",
    "visit",
    "web",
)


def _register() -> None:
    import importlib

    for name in COMMAND_MODULES:
        module = importlib.import_module(f"myelonav.commands.{name}")
        module.register(app)


_register()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
