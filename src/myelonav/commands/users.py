"""`myelonav users`: clinic accounts (add, list, disable), keys and the install secret."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from myelonav.commands._common import handle_errors

if TYPE_CHECKING:
    from myelonav.store.accounts import Accounts

app = typer.Typer(help="Clinic accounts and keys (the first admin is made here).",
                  no_args_is_help=True)


def _accounts() -> Accounts:
    from myelonav.settings import settings
    from myelonav.store.accounts import Accounts
    from myelonav.store.profiles import make_engine

    cfg = settings()
    cfg.ensure_home()
    return Accounts(make_engine(cfg.profiles_db_url))


@app.command("add")
@handle_errors
def add(
    username: str = typer.Argument(..., help="Login name."),
    role: str = typer.Option(..., "--role", help="patient, navigator, clinician or admin."),
    team: str | None = typer.Option(None, "--team", help="Care team name (made if new)."),
    password: str = typer.Option(..., "--password", prompt=True, hide_input=True,
                                 confirmation_prompt=True,
                                 help="At least 12 characters (prompted if not given)."),
) -> None:
    """Add an account."""
    accounts = _accounts()
    user = accounts.add_user(username, password, role, team)
    typer.echo(f"added {user.username} ({user.role}{', team ' + team if team else ''})")


@app.command("list")
@handle_errors
def list_users() -> None:
    """List accounts: name, role, team, whether disabled."""
    accounts = _accounts()
    teams = accounts.teams()
    for user in accounts.users():
        team = teams.get(user.team_id or "", "-")
        state = "disabled" if user.disabled else "active"
        typer.echo(f"{user.username}\t{user.role}\t{team}\t{state}")


@app.command("disable")
@handle_errors
def disable(username: str = typer.Argument(..., help="Login name.")) -> None:
    """Disable an account and end its sessions (the audit trail keeps its history)."""
    accounts = _accounts()
    user = accounts.set_disabled(username)
    typer.echo(f"disabled {user.username}")


@app.command("keygen")
def keygen() -> None:
    """Print a new data key for MYELONAV_DATA_KEY (profiles encrypted at rest)."""
    from myelonav.store.crypto import new_key

    typer.echo(new_key())


@app.command("install-secret")
@handle_errors
def show_install_secret() -> None:
    """Print this install's secret (local mode: needed for bulk export and delete)."""
    from myelonav.settings import settings
    from myelonav.store.install_secret import install_secret

    cfg = settings()
    cfg.ensure_home()
    typer.echo(install_secret(cfg.install_secret_file))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="users")
