"""STAC items refused for a site (too cloudy over the AOI), with the reason

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stac_skips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("collection", sa.String(length=200), nullable=False),
        sa.Column("item_id", sa.String(length=300), nullable=False),
        sa.Column("acquired", sa.String(length=40), nullable=True),
        sa.Column("clear_fraction", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "collection", "item_id", name="uq_stac_skip"),
    )


def downgrade() -> None:
    op.drop_table("stac_skips")
