"""Alembic migrations for the saved-profile database (SQLite and PostgreSQL)."""
