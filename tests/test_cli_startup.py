"""The command line starts fast: heavy libraries load only inside the commands needing them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import warnings

import pytest

from myelonav import __version__
from myelonav.cli import COMMAND_MODULES, LAZY_COMMANDS, app, module_commands

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from typer.testing import CliRunner

HEAVY = ("polars", "matplotlib", "weasyprint", "fastapi", "dask", "numba", "pyarrow",
         "sqlalchemy", "httpx")
# generous for a loaded shared CI machine; on an idle machine --help takes about 0.1 s
HELP_SECONDS = 1.5


def test_lazy_listing_matches_what_the_modules_register() -> None:
    registered: dict[str, str] = {}
    for module in COMMAND_MODULES:
        for name, command in module_commands(module).items():
            assert name not in registered, f"{name} registered twice"
            registered[name] = module
            words = LAZY_COMMANDS[name][1] if name in LAZY_COMMANDS else ""
            assert (command.help or "").startswith(words), name
    assert {name: module for name, (module, _) in LAZY_COMMANDS.items()} == registered


def test_importing_the_cli_loads_no_heavy_library() -> None:
    code = ("import json, sys, myelonav.cli; "
            f"print(json.dumps(sorted(m for m in {list(HEAVY)!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert json.loads(out.stdout) == []


def test_help_is_fast() -> None:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "myelonav.cli", "--help"],
                             capture_output=True, text=True, check=True, timeout=60)
        best = min(best, time.perf_counter() - started)
    print(f"myelonav --help: {best:.3f} s (best of 3, wall time)")
    assert "trials" in out.stdout and "packet" in out.stdout
    assert best < HELP_SECONDS


def test_help_lists_every_command_and_version_works() -> None:
    runner = CliRunner()
    listing = runner.invoke(app, ["--help"])
    assert listing.exit_code == 0
    for name in LAZY_COMMANDS:
        assert name in listing.output
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and version.output.strip() == __version__


@pytest.mark.parametrize("name", ["stage", "trials", "symptoms", "serve"])
def test_lazy_commands_run(name: str) -> None:
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert LAZY_COMMANDS[name][1].split()[0] in result.output
