"""Typer sub-applications, one module per domain; ``myelonav.cli`` assembles them."""
