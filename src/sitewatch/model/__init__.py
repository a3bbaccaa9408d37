"""The domain model: frozen value objects and the enums of their kinds and statuses."""

from sitewatch.model.dates import ObsDate, Precision
from sitewatch.model.objects import (
    Change,
    ChangeType,
    Chip,
    Detection,
    Flag,
    Provenance,
    RejectReason,
    Review,
    ReviewStatus,
    Run,
    RunStatus,
    Scene,
    Site,
    SiteSource,
    SiteStatus,
    StacSkip,
    Timeline,
    User,
    UserRole,
    changed_area_m2,
    format_ref,
    parse_ref,
)
from sitewatch.model.watch import (
    Alert,
    AlertFlag,
    AlertRule,
    AlertStatus,
    AlertWhen,
    Sink,
    SinkKind,
    WatchPass,
    WatchSource,
    WatchState,
)

__all__ = ["Change", "ChangeType", "Chip", "Detection", "Flag", "ObsDate", "Precision",
           "Provenance", "RejectReason", "Review", "ReviewStatus", "Run", "RunStatus", "Scene",
           "Site",
           "SiteSource", "SiteStatus", "StacSkip", "Timeline", "User", "UserRole", "format_ref",
           "parse_ref", "changed_area_m2",
           "Alert", "AlertFlag", "AlertRule", "AlertStatus", "AlertWhen", "Sink", "SinkKind",
           "WatchPass", "WatchSource", "WatchState"]
