"""history instead of deletion: tracked changes, the review audit log, removable sites and
scenes, and areas that may be unknown (never invented as 0)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 08:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("change_type", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("first_run_id", sa.Integer(), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("last_run_id", sa.Integer(), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("first_seen", sa.String(40), nullable=False),
        sa.Column("last_seen", sa.String(40), nullable=False),
        sa.Column("polygon_geojson", sa.Text(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_changes_site_id", "changes", ["site_id"])
    op.create_index("ix_changes_bbox", "changes", ["min_lon", "min_lat", "max_lon", "max_lat"])
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("change_id", sa.Integer(), sa.ForeignKey("changes.id"), nullable=False),
        sa.Column("detection_id", sa.Integer(), sa.ForeignKey("detections.id"), nullable=True),
        sa.Column("from_status", sa.String(20), nullable=False),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_reviews_change_id", "reviews", ["change_id"])
    with op.batch_alter_table("sites") as b:
        b.add_column(sa.Column("status", sa.String(20), nullable=False,
                               server_default="active"))
        b.add_column(sa.Column("removed_at", TZ, nullable=True))
    with op.batch_alter_table("scenes") as b:
        b.add_column(sa.Column("removed_at", TZ, nullable=True))
    with op.batch_alter_table("chips") as b:  # "rejected: ..." says why, at any length
        b.alter_column("coreg_status", existing_type=sa.String(40), type_=sa.Text())
    with op.batch_alter_table("detections") as b:
        for col in ("area_m2", "area_uncertainty_m2", "centroid_lon", "centroid_lat"):
            b.alter_column(col, existing_type=sa.Float(), nullable=True)
        b.add_column(sa.Column("change_id", sa.Integer(), nullable=True))
        b.create_foreign_key("fk_detections_change_id", "changes", ["change_id"], ["id"])
        b.create_index("ix_detections_change_id", ["change_id"])


def downgrade() -> None:
    with op.batch_alter_table("detections") as b:
        b.drop_index("ix_detections_change_id")
        b.drop_constraint("fk_detections_change_id", type_="foreignkey")
        b.drop_column("change_id")
    with op.batch_alter_table("chips") as b:
        b.alter_column("coreg_status", existing_type=sa.Text(), type_=sa.String(40))
    with op.batch_alter_table("scenes") as b:
        b.drop_column("removed_at")
    with op.batch_alter_table("sites") as b:
        b.drop_column("removed_at")
        b.drop_column("status")
    op.drop_table("reviews")
    op.drop_table("changes")
