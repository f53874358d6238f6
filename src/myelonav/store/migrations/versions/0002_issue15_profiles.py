"""Issue 15, profiles that last: intake answers, the trash (undo window) and change history.

Idempotent like the baseline: a database whose tables were made by a newer ``create_all``
already has these, so only what is missing is added.

Revision ID: 0002_i15_profiles
Revises: 0001
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002_i15_profiles"
down_revision = "0001"

ADDED_COLUMNS: dict[str, sa.types.TypeEngine[Any]] = {
    "answers_json": sa.Text(),
    "trashed_at": sa.DateTime(timezone=True),
    "purge_after": sa.DateTime(timezone=True),
}


def upgrade() -> None:
    from myelonav.store import profiles

    bind = op.get_bind()
    present = {c["name"] for c in sa.inspect(bind).get_columns("saved_profiles")}
    for name, kind in ADDED_COLUMNS.items():
        if name not in present:
            op.add_column("saved_profiles", sa.Column(name, kind, nullable=True))
    indexes = {i["name"] for i in sa.inspect(bind).get_indexes("saved_profiles")}
    if "ix_saved_profiles_purge_after" not in indexes:
        op.create_index("ix_saved_profiles_purge_after", "saved_profiles", ["purge_after"])
    profiles.HistoryRow.__table__.create(bind, checkfirst=True)  # type: ignore[attr-defined]


def downgrade() -> None:
    op.drop_table("profile_history")
    op.drop_index("ix_saved_profiles_purge_after", table_name="saved_profiles")
    for name in ADDED_COLUMNS:
        op.drop_column("saved_profiles", name)
