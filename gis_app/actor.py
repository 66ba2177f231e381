"""Who acts: name, role and (for street and inspector roles) the street they belong to.

Services take an Actor and record its name in history events. Until accounts exist
(`web/actor.py`) the web layer builds it from request headers; accounts will replace that.
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

    @property
    def is_district(self) -> bool:
        return self.role in DISTRICT_ROLES


SYSTEM = Actor("system", "district_admin")
