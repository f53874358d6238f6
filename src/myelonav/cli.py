"""The myelonav command line: one Typer app assembled from per-domain sub-apps.

Start-up is kept fast (``myelonav --help`` well under a second): the command modules pull in
pydantic models, polars, matplotlib, WeasyPrint, FastAPI and more, so each is imported only
when one of its commands runs. ``LAZY_COMMANDS`` lists every command with its module and
one-line help for the top-level listing; a test checks it against what the modules register.
"""

from __future__ import annotations

import importlib
from functools import cache

import typer
from typer import _click as click
from typer.core import TyperCommand, TyperGroup

from myelonav import DISCLAIMER, __version__

# command -> (module in myelonav.commands, one-line help), in the order --help lists them
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "response": ("clinical", "IMWG 2016 response per assessment, best response and "
                             "progression (CAR T episode)."),
    "stage": ("clinical", "ISS, R-ISS and R2-ISS at diagnosis, or which inputs are missing."),
    "renal": ("clinical", "Cockcroft-Gault creatinine clearance and CKD-EPI 2021 eGFR."),
    "demo": ("demo", "Walk the bundled sample patients through myelonav (no network; "
                     "packets go to --out)."),
    "options": ("options", "The options after CAR T for this patient: status, reasons, "
                           "evidence, missing facts."),
    "calendar": ("support", "Step-up and treatment dose dates, hospital stays and "
                            "premedication (FDA label)."),
    "distress": ("support", "Distress screen (PHQ-2, GAD-2, Distress Thermometer) with "
                            "matched support."),
    "learn": ("support", "Short plain-language pieces: CAR T, retreatment, bispecifics, "
                         "infections, FAQs and more."),
    "resources": ("support", "Support organizations: what each offers and how to reach it."),
    "support": ("support", "For this patient: current bispecific, infection checks, what to "
                           "read, who to call."),
    "questions": ("visit", "Personalised questions for the next visit, each with the fact "
                           "that put it on the list."),
    "checklist": ("visit", "Records to gather for a second opinion: what myelonav holds, "
                           "what is missing."),
    "plot": ("visit", "M-protein and free light chains over time, treatments shaded, CAR T "
                      "marked."),
    "packet": ("visit", "The second-opinion packet (PDF, optionally HTML), made on this "
                        "computer."),
    "centres": ("visit", "Ways to find a myeloma specialist for a second opinion (sourced; "
                         "not a ranking)."),
    "serve": ("web", "Serve the navigator in a browser, with the REST API under /api/v1."),
    "batch": ("batch", "Batch runs for a health system: screen every patient against every "
                       "stored trial, or grade IMWG response for a registry, locally or on a "
                       "Dask cluster."),
    "grade": ("clinical", "ASTCT grading of CRS and ICANS."),
    "knowledge": ("knowledge", "The curated knowledge base: freshness and sourcing checks."),
    "patient": ("patient", "Import, show and export patient records."),
    "symptoms": ("support", "Check symptoms (what to do now), keep a symptom diary, ICE "
                            "check."),
    "trials": ("trials", "Find clinical trials: sync from ClinicalTrials.gov, import, search, "
                         "show."),
    "users": ("users", "Clinic accounts and keys (the first admin is made here)."),
}


@cache
def module_commands(module: str) -> dict[str, click.Command]:
    """The click commands one ``myelonav.commands`` module registers (imported once)."""
    holder = typer.Typer()
    importlib.import_module(f"myelonav.commands.{module}").register(holder)
    return dict(typer.main.get_group(holder).commands)


class _LazyGroup(TyperGroup):
    """Lists commands from ``LAZY_COMMANDS``; imports a command's module only to run it."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = list(super().list_commands(ctx))
        return names + [name for name in LAZY_COMMANDS if name not in names]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in LAZY_COMMANDS:
            words = LAZY_COMMANDS[cmd_name][1]
            return TyperCommand(cmd_name, help=words, short_help=words)  # for listing only
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] in LAZY_COMMANDS and args[0] not in self.commands:
            self.add_command(module_commands(LAZY_COMMANDS[args[0]][0])[args[0]], args[0])
        return super().resolve_command(ctx, args)


app = typer.Typer(
    name="myelonav",
    help=f"Navigator for multiple myeloma after CAR T-cell therapy. {DISCLAIMER}",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=_LazyGroup,
    rich_markup_mode=None,  # plain help: importing rich costs more than the rest of start-up
)


@app.callback(invoke_without_command=True)
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
    # A module without an entry in LAZY_COMMANDS (a new domain) is registered eagerly, so it
    # works at once; add its commands to LAZY_COMMANDS to keep start-up fast.
    lazy = {module for module, _ in LAZY_COMMANDS.values()}
    for name in COMMAND_MODULES:
        if name not in lazy:
            importlib.import_module(f"myelonav.commands.{name}").register(app)


_register()


def main() -> None:
    app()


__all__ = ["COMMAND_MODULES", "LAZY_COMMANDS", "app", "main", "module_commands"]


if __name__ == "__main__":
    main()
