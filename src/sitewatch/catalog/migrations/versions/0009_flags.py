"""warnings that travel with the result: the flags of each run and each detection (a JSON
list of sitewatch.Flag values; old rows get an empty list, meaning none were computed)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 11:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _flags() -> sa.Column:
    # a literal default that SQLite and PostgreSQL both read as an empty JSON list
    return sa.Column("flags", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))


def upgrade() -> None:
    with op.batch_alter_table("runs") as b:
        b.add_column(_flags())
    with op.batch_alter_table("detections") as b:
        b.add_column(_flags())


def downgrade() -> None:
    with op.batch_alter_table("detections") as b:
        b.drop_column("flags")
    with op.batch_alter_table("runs") as b:
        b.drop_column("flags")
