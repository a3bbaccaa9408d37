"""Persistence: SQLAlchemy models, the :class:`Store` facade and Alembic migrations."""

from sitewatch.catalog.models import (
    Chip,
    Detection,
    Run,
    Scene,
    Site,
    SiteSource,
    StacSkip,
    Timeline,
)
from sitewatch.catalog.store import Store

__all__ = ["Chip", "Detection", "Run", "Scene", "Site", "SiteSource", "StacSkip", "Store",
           "Timeline"]
