"""Baseline: profiles, accounts, sessions, shares and audit tables; team/owner/label columns.

Idempotent so that databases made before migrations existed (``create_all``) are brought to
this revision in place: missing tables are created, missing columns added.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

ADDED_COLUMNS = {"team_id": sa.String(64), "owner_id": sa.String(64), "label": sa.String(200)}


def upgrade() -> None:
    from myelonav.store import accounts, audit, profiles

    bind = op.get_bind()
    for metadata in (profiles._Base.metadata, accounts._Base.metadata, audit._Base.metadata):
        metadata.create_all(bind)
    present = {c["name"] for c in sa.inspect(bind).get_columns("saved_profiles")}
    for name, kind in ADDED_COLUMNS.items():
        if name not in present:
            op.add_column("saved_profiles", sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    raise NotImplementedError("the baseline cannot be downgraded; restore a backup instead")
