"""The demo district: Hedong's outline, 12 approximate streets and N generated sites."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.bulk_load import copy_sites
from gis_app.core.errors import Conflict, ValidationError
from gis_app.features.ledger.models import Site
from gis_app.features.streets.models import District, Street
from gis_app.features.streets.service import import_streets

DATA_DIR = Path(__file__).resolve().parents[2] / "layers" / "data"
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
    _empty_ledger(session, replace, say)
    say("载入河东区区界…")
    ensure_district_outline(session)
    say("载入 12 个街道的示意边界…")
    import_streets(session, STREETS_FILE, approximate=True)
    streets_gdf = gpd.read_file(STREETS_FILE)
    say(f"生成 {n_sites:,} 个示例点位（seed={seed}，基准日 {today}）…")
    rows = generate_sites(streets_gdf, n=n_sites, seed=seed, today=today)
    street_ids = dict(session.execute(select(Street.code, Street.id)).all())
    say(f"写入 {len(rows):,} 个点位（COPY）…")
    copy_sites(
        session, rows, street_ids, DEMO_ACTOR, progress=lambda k: say(f"  {k:,} / {len(rows):,}")
    )
    _record_creations(session)
    from gis_app.demo.workflow_history import add_workflow_history

    say("生成示例治理记录（状态变更、分步方案、延期申请、月报）…")
    add_workflow_history(session, seed, today)
    from gis_app.demo.oversight import add_oversight_records

    say("生成示例督查记录（通报、专项督查、例会、追责）…")
    add_oversight_records(session)
    session.flush()
    say("完成")
    return {
        "streets": len(street_ids),
        "sites": len(rows),
        "seed": seed,
        "today": today.isoformat(),
    }


def _empty_ledger(session: Session, replace: bool, say: Callable[[str], None]) -> None:
    """The demo goes into an empty ledger only; `replace` empties it first."""
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


def _record_creations(session: Session) -> None:
    """Each demo site's 'create' event, dated when the site was registered."""
    session.execute(
        text(
            """
            INSERT INTO site_events (district_code, site_id, at, actor, action, reason, changes)
            SELECT s.district_code, s.id, s.created_at, :actor, 'create', '示例数据',
                   jsonb_build_object('code', jsonb_build_array(NULL, s.code),
                                      'status', jsonb_build_array(NULL, s.status))
            FROM sites s WHERE s.created_by = :actor
              AND NOT EXISTS (SELECT 1 FROM site_events e WHERE e.site_id = s.id)
            ORDER BY s.id
            """
        ),
        {"actor": DEMO_ACTOR},
    )
