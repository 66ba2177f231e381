"""The demo district: Hedong's outline, 12 approximate streets and N generated sites."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gis_app import clock
from gis_app.errors import Conflict, ValidationError
from gis_app.models import District, Site, Street
from gis_app.services.site_import import insert_sites
from gis_app.services.streets import import_streets

DATA_DIR = Path(__file__).resolve().parent.parent.parent / "layers" / "data"
OUTLINE_FILE = DATA_DIR / "hedong-district.geojson"
STREETS_FILE = DATA_DIR / "hedong-streets-approx.geojson"
DEMO_ACTOR = "demo"
MAX_DEMO_SITES = 1_000_000


def ensure_district_outline(session: Session, path: Path = OUTLINE_FILE) -> District:
    """The district row with its real outline (from the shared data file)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    feature = doc["features"][0]
    code = str(feature["properties"]["adcode"])
    district = session.get(District, code)
    geom = func.ST_Multi(
        func.ST_SetSRID(func.ST_GeomFromGeoJSON(json.dumps(feature["geometry"])), 4326)
    )
    if district is None:
        district = District(
            code=code,
            name=feature["properties"]["name"],
            geom=geom,
            source=feature["properties"].get("source", ""),
        )
        session.add(district)
    else:
        district.geom = geom
    session.flush()
    return district


def load_demo(
    session: Session,
    n_sites: int = 1500,
    seed: int = 20210222,
    today: date | None = None,
    replace: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Build the demo district in one transaction; refuses to mix with an existing ledger."""
    import geopandas as gpd

    from gis_app.demo.sites_generator import generate_sites

    say = progress or (lambda _m: None)
    if not 0 <= n_sites <= MAX_DEMO_SITES:
        raise ValidationError(f"点位数须在 0 到 {MAX_DEMO_SITES:,} 之间", "sites")
    today = today or clock.today()
    existing = session.scalar(select(func.count()).select_from(Site)) or 0
    if existing and not replace:
        raise Conflict(
            f"台账中已有 {existing} 个点位：示例数据只载入空库；加 --replace 清空后重建示例数据",
            "sites",
        )
    if replace:
        say(f"清空现有 {existing} 个点位…")
        session.execute(
            text("TRUNCATE site_events, sites, import_batches RESTART IDENTITY CASCADE")
        )
    say("载入河东区区界…")
    ensure_district_outline(session)
    say("载入 12 个街道的示意边界…")
    import_streets(session, STREETS_FILE, approximate=True, commit=False)
    streets_gdf = gpd.read_file(STREETS_FILE)
    say(f"生成 {n_sites:,} 个示例点位（seed={seed}，基准日 {today}）…")
    rows = generate_sites(streets_gdf, n=n_sites, seed=seed, today=today)
    street_ids = dict(session.execute(select(Street.code, Street.id)).all())
    values = []
    for r in rows:
        created = r["created_at"]
        values.append(
            {
                "district_code": r["street_code"][:6],
                "code": r["code"],
                "street_id": street_ids[r["street_code"]],
                "address": r["address"],
                "community": r["community"],
                "kind": r["kind"],
                "area_m2": r["area_m2"],
                "person_name": r["person_name"],
                "person_contact": r["person_contact"],
                "disposition": r["disposition"],
                "flag_central_inspection": r["flag_central_inspection"],
                "flag_hardship": r["flag_hardship"],
                "flag_renovation": r["flag_renovation"],
                "flag_obstruction": r["flag_obstruction"],
                "committed_deadline": r["committed_deadline"],
                "current_deadline": r["current_deadline"],
                "status": r["status"],
                "source": r["source"],
                "note": r["note"],
                "geom": func.ST_SetSRID(func.ST_MakePoint(r["lon"], r["lat"]), 4326),
                "version": 1,
                "created_by": DEMO_ACTOR,
                "updated_by": DEMO_ACTOR,
                "created_at": created,
                "updated_at": created,
            }
        )
    chunk = 5000
    for start in range(0, len(values), chunk):
        insert_sites(session, values[start : start + chunk])
        say(f"  {min(start + chunk, len(values)):,} / {len(values):,}")
    session.execute(
        text(
            """
            INSERT INTO site_events (district_code, site_id, at, actor, action, reason, changes)
            SELECT s.district_code, s.id, s.created_at, :actor, 'create', '示例数据',
                   jsonb_build_object('code', jsonb_build_array(NULL, s.code),
                                      'status', jsonb_build_array(NULL, s.status))
            FROM sites s WHERE s.created_by = :actor
              AND NOT EXISTS (SELECT 1 FROM site_events e WHERE e.site_id = s.id)
            """
        ),
        {"actor": DEMO_ACTOR},
    )
    from gis_app.services.demo_workflow import add_workflow_history

    say("生成示例治理记录（状态变更、分步方案、延期申请、月报）…")
    add_workflow_history(session, seed, today)
    session.commit()
    say("完成")
    return {
        "streets": len(street_ids),
        "sites": len(values),
        "seed": seed,
        "today": today.isoformat(),
    }
