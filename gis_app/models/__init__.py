"""The ORM models; the schema itself is only ever changed by an Alembic migration."""

from gis_app.models.base import Base
from gis_app.models.district import District, Street
from gis_app.models.sampling import Inspector, SampleBatch, SampleFrameUnit, SampleSite
from gis_app.models.site import ImportBatch, Site, SiteEvent

__all__ = [
    "Base",
    "District",
    "ImportBatch",
    "Inspector",
    "SampleBatch",
    "SampleFrameUnit",
    "SampleSite",
    "Site",
    "SiteEvent",
    "Street",
]
