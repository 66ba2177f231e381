"""The ORM models; the schema itself is only ever changed by an Alembic migration."""

from gis_app.models.base import Base
from gis_app.models.district import District, Street
from gis_app.models.site import ImportBatch, Site, SiteEvent

__all__ = ["Base", "District", "ImportBatch", "Site", "SiteEvent", "Street"]
