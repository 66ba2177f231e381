"""Loading the synthetic city (gis_app.demo.city) into the database, with COPY.

Districts and streets that are already there (by code) are kept and reused; every other
district outline and street is inserted. Sites are generated and copied one district at a
time, so memory stays at one district's worth whatever the city's size.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis_app.core.bulk_load import copy_sites
from gis_app.demo.city import CITY_SOURCE, CityDistrict, city_sites
from gis_app.features.streets.models import Street

CITY_ACTOR = "city"


@dataclass
class CityLoadReport:
    districts: int = 0
    streets: int = 0
    sites: int = 0
    generate_s: float = 0.0  # Python: the demo generator's dicts
    copy_s: float = 0.0  # COPY: formatting the text and PostgreSQL writing the rows
    per_district: dict[str, int] = field(default_factory=dict)


def ensure_city_streets(session: Session, city: list[CityDistrict]) -> dict[str, int]:
    """Insert the districts and streets that are missing; street ids by code."""
    for district in city:
        session.execute(
            text(
                "INSERT INTO districts (code, name, geom, source) VALUES "
                "(:code, :name, ST_Multi(ST_GeomFromText(:wkt, 4326)), :source) "
                "ON CONFLICT (code) DO NOTHING"
            ),
            {
                "code": district.code,
                "name": district.name,
                "wkt": district.outline.wkt,
                "source": CITY_SOURCE,
            },
        )
        rows = [
            {
                "district_code": district.code,
                "code": r.code,
                "name": r.name,
                "name_en": r.name_en,
                "wkt": r.geometry.wkt,
                "source": r.source,
            }
            for r in district.streets.itertuples(index=False)
        ]
        session.execute(
            text(
                "INSERT INTO streets (district_code, code, name, name_en, approximate, source, "
                "geom) VALUES (:district_code, :code, :name, :name_en, true, :source, "
                "ST_Multi(ST_GeomFromText(:wkt, 4326))) ON CONFLICT (code) DO NOTHING"
            ),
            rows,
        )
    return dict(session.execute(select(Street.code, Street.id)).all())


def load_city(
    session: Session,
    city: list[CityDistrict],
    total: int,
    seed: int,
    today: date,
    progress: Callable[[str], None] | None = None,
) -> CityLoadReport:
    """The city's streets and ``total`` generated sites, in the session's transaction."""
    say = progress or (lambda _m: None)
    report = CityLoadReport(districts=len(city))
    street_ids = ensure_city_streets(session, city)
    report.streets = sum(len(d.streets) for d in city)
    started = time.perf_counter()
    for district, sites in city_sites(city, total, seed, today):
        generated = time.perf_counter()
        report.generate_s += generated - started
        n = copy_sites(session, sites, street_ids, CITY_ACTOR)
        started = time.perf_counter()
        report.copy_s += started - generated
        report.sites += n
        report.per_district[district.code] = n
        say(f"{district.name} {n:,} 个点位（累计 {report.sites:,} / {total:,}）")
    return report
