"""Who acts: name, role and (for street and inspector roles) the street they belong to.

Services take an Actor and record its name in history events. The web layer builds it from
the logged-in user or the API token (`web/auth.py`); commands act as SYSTEM-like administrators.
`name` is the account's username: unique, so every event says who did it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

ROLES: Final = {
    "district_admin": "区级管理员",
    "district_officer": "区领导小组办公室",
    "street_officer": "街道办事处",
    "inspector": "执法队员",
    "bureau_housing": "区住建委",
    "bureau_civil": "区民政局",
    "bureau_police": "公安河东分局",
    "bureau_media": "区融媒体中心",
    "agency": "外部机构接口",
}
DISTRICT_ROLES: Final = ("district_admin", "district_officer")
STREET_ROLES: Final = ("street_officer", "inspector")


@dataclass(frozen=True)
class Actor:
    name: str
    role: str = "district_officer"
    street_code: str | None = None
    user_id: int | None = None

    @property
    def is_district(self) -> bool:
        return self.role in DISTRICT_ROLES


SYSTEM = Actor("system", "district_admin")
