"""Who works on spot checks. The office draws, assigns, reads the reports and keeps the
inspectors' pool; an inspector records the results of the sites assigned to him or her; the
office and the open-data roles read the published summary (双随机一公开). What each of them
sees is the services' to decide (`service.sample_scope`)."""

from __future__ import annotations

from typing import Final

from gis_app.core.actor import DISTRICT_ROLES
from gis_app.features.ledger.permissions import OPEN_DATA_ROLES

#: who draws, assigns, reads the reports and keeps the pool: the district office
OFFICE: Final = DISTRICT_ROLES
#: who else works on a batch: an inspector, on the sites assigned to him or her
WORKERS: Final = (*DISTRICT_ROLES, "inspector")
#: who reads the published summary: the office and the open-data roles
PUBLISHED: Final = (*DISTRICT_ROLES, *OPEN_DATA_ROLES)
