"""the watch loop: per-site watch state, alert rules, STAC sources, sinks, the outbox of
alerts (one per tracked change and sink, ever) and the records of passes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _site(nullable: bool) -> sa.Column:
    return sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id", ondelete="CASCADE"),
                     nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "watch_state",
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("last_seen", TZ, nullable=True),
        sa.Column("last_pass_at", TZ, nullable=True),
        sa.Column("next_pass_at", TZ, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", TZ, nullable=True),
    )
    op.create_table(
        "watch_rules",
        sa.Column("id", sa.Integer(), primary_key=True),
        _site(True),
        sa.Column("change_types", sa.JSON(), nullable=False),
        sa.Column("min_area_m2", sa.Float(), nullable=False),
        sa.Column("min_score", sa.Float(), nullable=False),
        sa.Column("ignore_flags", sa.JSON(), nullable=False),
        sa.Column("alert_when", sa.String(20), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_watch_rules_site_id", "watch_rules", ["site_id"])
    op.create_table(
        "watch_sources",
        sa.Column("id", sa.Integer(), primary_key=True),
        _site(True),
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("collection", sa.String(200), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("max_cloud", sa.Float(), nullable=True),
        sa.Column("min_clear", sa.Float(), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_watch_sources_site_id", "watch_sources", ["site_id"])
    op.create_table(
        "watch_sinks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        _site(True),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("name", name="uq_watch_sinks_name"),
    )
    op.create_table(
        "watch_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("change_id", sa.Integer(), sa.ForeignKey("changes.id"), nullable=False),
        sa.Column("sink_id", sa.Integer(), sa.ForeignKey("watch_sinks.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id"), nullable=True),
        sa.Column("key", sa.String(100), nullable=False, unique=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("batch", sa.String(100), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("delivered_at", TZ, nullable=True),
        sa.UniqueConstraint("change_id", "sink_id", name="uq_watch_outbox"),
    )
    op.create_index("ix_watch_outbox_status", "watch_outbox", ["status", "sink_id"])
    op.create_table(
        "watch_passes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("executor", sa.String(200), nullable=False),
        sa.Column("sites", sa.Integer(), nullable=False),
        sa.Column("new_scenes", sa.Integer(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("watch_passes")
    op.drop_index("ix_watch_outbox_status", table_name="watch_outbox")
    op.drop_table("watch_outbox")
    op.drop_table("watch_sinks")
    op.drop_index("ix_watch_sources_site_id", table_name="watch_sources")
    op.drop_table("watch_sources")
    op.drop_index("ix_watch_rules_site_id", table_name="watch_rules")
    op.drop_table("watch_rules")
    op.drop_table("watch_state")
