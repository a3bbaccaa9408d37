"""initial catalog

Revision ID: 0001
Revises:
Create Date: 2026-11-22 18:57:07.788722
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=100), nullable=True),
        sa.Column("aoi_geojson", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sites_bbox", ["min_lon", "min_lat", "max_lon", "max_lat"], unique=False
        )

    op.create_table(
        "scenes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=200), nullable=False),
        sa.Column("acquired_text", sa.String(length=40), nullable=False),
        sa.Column("acquired_start", sa.Date(), nullable=True),
        sa.Column("acquired_end", sa.Date(), nullable=True),
        sa.Column("acquired_precision", sa.String(length=10), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("driver", sa.String(length=40), nullable=False),
        sa.Column("crs", sa.Text(), nullable=False),
        sa.Column("bounds", sa.JSON(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("band_count", sa.Integer(), nullable=False),
        sa.Column("band_names", sa.JSON(), nullable=False),
        sa.Column("dtype", sa.String(length=20), nullable=False),
        sa.Column("gsd_m", sa.Float(), nullable=False),
        sa.Column("georef_source", sa.String(length=20), nullable=False),
        sa.Column("credit", sa.Text(), nullable=False),
        sa.Column("licence", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "sha256", name="uq_scene_site_sha256"),
    )
    with op.batch_alter_table("scenes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scenes_bbox", ["min_lon", "min_lat", "max_lon", "max_lat"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_scenes_site_id"), ["site_id"], unique=False)

    op.create_table(
        "chips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scene_id", sa.Integer(), nullable=False),
        sa.Column("grid_key", sa.String(length=64), nullable=False),
        sa.Column("grid", sa.JSON(), nullable=False),
        sa.Column("reference_scene_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("shift_x_px", sa.Float(), nullable=False),
        sa.Column("shift_y_px", sa.Float(), nullable=False),
        sa.Column("coreg_status", sa.String(length=40), nullable=False),
        sa.Column("valid_fraction", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["scene_id"], ["scenes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scene_id", "grid_key", "reference_scene_id", name="uq_chip"),
    )
    with op.batch_alter_table("chips", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chips_scene_id"), ["scene_id"], unique=False)

    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_key", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("before_scene_id", sa.Integer(), nullable=False),
        sa.Column("after_scene_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("timings_s", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["after_scene_id"], ["scenes.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["before_scene_id"], ["scenes.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_key"),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runs_site_id"), ["site_id"], unique=False)

    op.create_table(
        "detections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("polygon_geojson", sa.Text(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("area_uncertainty_m2", sa.Float(), nullable=False),
        sa.Column("change_type", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("centroid_lon", sa.Float(), nullable=False),
        sa.Column("centroid_lat", sa.Float(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("detections", schema=None) as batch_op:
        batch_op.create_index(
            "ix_detections_bbox", ["min_lon", "min_lat", "max_lon", "max_lat"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_detections_run_id"), ["run_id"], unique=False)




def downgrade() -> None:

    with op.batch_alter_table("detections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_detections_run_id"))
        batch_op.drop_index("ix_detections_bbox")

    op.drop_table("detections")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runs_site_id"))

    op.drop_table("runs")
    with op.batch_alter_table("chips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chips_scene_id"))

    op.drop_table("chips")
    with op.batch_alter_table("scenes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scenes_site_id"))
        batch_op.drop_index("ix_scenes_bbox")

    op.drop_table("scenes")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_index("ix_sites_bbox")

    op.drop_table("sites")

