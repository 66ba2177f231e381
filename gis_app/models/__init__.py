"""The ORM models; the schema itself is only ever changed by an Alembic migration."""

from gis_app.models.accounts import ApiToken, LoginAttempt, User, UserSession
from gis_app.models.audit import AuditEvent
from gis_app.models.base import Base
from gis_app.models.district import District, Street
from gis_app.models.idempotency import IdempotencyKey
from gis_app.models.sampling import Inspector, SampleBatch, SampleFrameUnit, SampleSite
from gis_app.models.site import ImportBatch, Site, SiteEvent
from gis_app.models.workflow import (
    AcceptanceView,
    DailyRun,
    ExtensionRequest,
    MonthlyReport,
    Photo,
    RenovationWork,
    SiteStep,
)

__all__ = [
    "AcceptanceView",
    "ApiToken",
    "AuditEvent",
    "Base",
    "DailyRun",
    "District",
    "ExtensionRequest",
    "IdempotencyKey",
    "ImportBatch",
    "Inspector",
    "LoginAttempt",
    "MonthlyReport",
    "Photo",
    "RenovationWork",
    "SampleBatch",
    "SampleFrameUnit",
    "SampleSite",
    "Site",
    "SiteEvent",
    "SiteStep",
    "Street",
    "User",
    "UserSession",
]
