"""The demo district: Hedong's outline, 12 approximate streets and N generated sites."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.bulk_load import copy_sites
from gis_app.core.errors import Conflict, ValidationError
from gis_app.features.baseline.models import Baseline, BaselineList
from gis_app.features.ledger.models import Site
from gis_app.features.streets.models import District, Street, StreetLeader
from gis_app.features.streets.service import import_streets

DATA_DIR = Path(__file__).resolve().parents[2] / "layers" / "data"
OUTLINE_FILE = DATA_DIR / "hedong-district.geojson"
STREETS_FILE = DATA_DIR / "hedong-streets-approx.geojson"
DEMO_ACTOR = "demo"
DEMO_DISTRICT = "120102"  # Hedong (the outline file's adcode)
MAX_DEMO_SITES = 1_000_000
#: the demo campaign's survey phase (排查、建档) began this many days before the load day: its
#: implementation phase (实施) is under way, with about half a year left
DEMO_CAMPAIGN_DAYS_BEFORE = 400


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
    campaign = store_demo_campaign(session, today)
    say(f"示例专项行动：{campaign}")
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
    say("示例基数台帐：各街道清单已确认，全区基数已冻结…")
    baseline_sites = freeze_demo_baseline(session, today)
    add_demo_leaders(session, today)
    set_demo_targets(session, today)
    from gis_app.demo.oversight import add_oversight_records

    say("生成示例督查记录（通报、专项督查、例会、追责）…")
    add_oversight_records(session)
    from gis_app.demo.publicity import add_publicity_records

    say("生成示例媒体报道和各街道宣传工作…")
    add_publicity_records(session, seed, today)
    from gis_app.demo.renovation import add_renovation_plans

    say("生成示例旧楼区改造方案（待审核、已退回、已批准并记录施工）…")
    add_renovation_plans(session, today)
    session.flush()
    say("完成")
    return {
        "streets": len(street_ids),
        "sites": len(rows),
        "seed": seed,
        "today": today.isoformat(),
        "campaign": campaign,
        "baseline_sites": baseline_sites,
    }


def set_demo_targets(session: Session, today: date) -> None:
    """The office's stage targets (阶段工作目标) for the demo: the proposal (every baseline 拆除
    site by the end of the 实施 phase, every baseline site by the campaign's end) and an
    interim 拆除 target a month from now that it chose per street: for half the streets all
    their baseline 拆除 sites (behind that pace), for the others what they have closed already
    (ahead of it). The dashboard shows both kinds."""
    from gis_app.core.actor import Actor
    from gis_app.features.baseline.service import propose_targets, set_targets

    first = today - timedelta(days=DEMO_CAMPAIGN_DAYS_BEFORE)
    implementation_end = first + timedelta(days=585)  # 2021-02-22 → 2022-09-30
    campaign_end = first + timedelta(days=677)  # → 2022-12-31
    closed = dict(
        session.execute(
            text(
                "SELECT t.code, count(s.id) FROM streets t LEFT JOIN sites s ON s.street_id = t.id"
                " AND s.in_baseline AND s.status = 'closed' AND s.disposition = 'demolish'"
                " GROUP BY t.code"
            )
        ).all()
    )
    rows = propose_targets(session, implementation_end, campaign_end)
    interim = (today + timedelta(days=30)).isoformat()
    for i, row in enumerate([r for r in rows if r["scope"] == "demolish"]):
        chosen = row["target"] if i % 2 else closed.get(row["street"], 0)
        rows.append(
            {"street": row["street"], "due": interim, "scope": "demolish", "target": chosen}
        )
    set_targets(session, Actor(DEMO_ACTOR, "district_admin"), rows)


DEMO_SURNAMES = "王李张刘陈杨赵黄周吴徐孙"


def add_demo_leaders(session: Session, today: date) -> None:
    """Each street's first responsible person (第一责任人) since the campaign began; one street
    changed its principal leader 100 days ago (the earlier record is kept). Names are fake."""
    first = today - timedelta(days=DEMO_CAMPAIGN_DAYS_BEFORE)
    now = clock.now()
    streets = session.execute(select(Street.id).order_by(Street.code)).scalars().all()
    for i, street_id in enumerate(streets):
        rows = [(f"{DEMO_SURNAMES[i % 12]}某某", "街道办事处主任", first)]
        if i == 2:
            rows.append(("孙某某", "街道党工委书记", today - timedelta(days=100)))
        for name, title, since in rows:
            session.add(
                StreetLeader(
                    district_code=DEMO_DISTRICT,
                    street_id=street_id,
                    name=name,
                    title=title,
                    since=since,
                    recorded_by=DEMO_ACTOR,
                    recorded_at=now,
                )
            )
    session.flush()


def freeze_demo_baseline(session: Session, today: date) -> int:
    """The demo's baseline (总体目标) as the plan would have it: each street submitted its list
    by the 排查、建档 milestone (one of them a day late, one returned once and submitted again),
    the office confirmed them, and froze the district ledger at the end of that phase. Sites
    registered after it (found on patrol, or registered late with a reason) are additions."""
    first = today - timedelta(days=DEMO_CAMPAIGN_DAYS_BEFORE)
    due = first + timedelta(days=21)  # 3-15 against 2-22 in Hedong's plan
    frozen = datetime.combine(first + timedelta(days=28), time(16, 0), clock.LOCAL_TZ)
    params = {"frozen": frozen, "actor": DEMO_ACTOR}
    session.execute(
        text(
            """
            UPDATE sites SET addition_reason = '补录：排查时遗漏，后经群众举报登记'
            WHERE created_by = :actor AND source <> 'patrol' AND created_at >= :frozen
            """
        ),
        params,
    )
    streets = session.execute(select(Street.id, Street.code).order_by(Street.code)).all()
    for i, (street_id, _code) in enumerate(streets):
        submitted = datetime.combine(due - timedelta(days=1 + i % 5), time(10), clock.LOCAL_TZ)
        if i == 3:  # a day late
            submitted = datetime.combine(due + timedelta(days=1), time(9), clock.LOCAL_TZ)
        ids = session.execute(
            text(
                "SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM sites "
                "WHERE street_id = :street AND created_at < :at AND source <> 'patrol' "
                "AND deleted_at IS NULL"
            ),
            {"street": street_id, "at": submitted},
        ).scalar_one()
        if i == 5:  # returned once, submitted again two days later
            session.add(
                BaselineList(
                    district_code=DEMO_DISTRICT,
                    street_id=street_id,
                    status="returned",
                    site_ids=ids,
                    submitted_at=submitted - timedelta(days=4),
                    submitted_by=DEMO_ACTOR,
                    reviewed_at=submitted - timedelta(days=3),
                    reviewed_by=DEMO_ACTOR,
                    review_comment="清单漏报两处彩钢棚厦，请补充后重报",
                )
            )
        session.add(
            BaselineList(
                district_code=DEMO_DISTRICT,
                street_id=street_id,
                status="confirmed",
                site_ids=ids,
                submitted_at=submitted,
                submitted_by=DEMO_ACTOR,
                reviewed_at=submitted + timedelta(days=2),
                reviewed_by=DEMO_ACTOR,
            )
        )
    session.flush()
    count = session.execute(
        text(
            """
            UPDATE sites SET in_baseline = true
            WHERE id IN (SELECT unnest(site_ids) FROM baseline_lists WHERE status = 'confirmed')
              AND deleted_at IS NULL
            """
        )
    ).rowcount
    session.add(
        Baseline(
            district_code=DEMO_DISTRICT, frozen_at=frozen, frozen_by=DEMO_ACTOR, site_count=count
        )
    )
    session.flush()
    return count


def store_demo_campaign(session: Session, today: date) -> str:
    """Hedong's plan (the reference configuration) moved as a whole so that its survey phase
    began DEMO_CAMPAIGN_DAYS_BEFORE days before `today`: the demo reads as one live campaign.
    Stored in the database, it is the campaign the demo district runs. Returns its source."""
    from gis_app.features.campaign.service import load_campaigns, plan_document, store_plan

    reference = load_campaigns()  # Hedong's 2021 plan
    first = min(reference.day(p.start, today) for p in reference.phases)
    shift = (today - timedelta(days=DEMO_CAMPAIGN_DAYS_BEFORE) - first).days
    doc = plan_document(reference, shift)
    for campaign in doc["campaigns"]:
        campaign["name"] += "（演示）"
    source = f"演示：河东区 2021 年方案整体平移 {shift} 天（载入日 {today.isoformat()}）"
    district = session.scalar(select(District.code).limit(1))
    store_plan(session, district or "", doc, source, DEMO_ACTOR)
    return source


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
        session.execute(
            text("DELETE FROM campaign_plans WHERE created_by = :demo"), {"demo": DEMO_ACTOR}
        )
        session.execute(text("DELETE FROM baselines"))
        session.execute(text("DELETE FROM stage_targets"))
        session.execute(
            text("DELETE FROM street_leaders WHERE recorded_by = :demo"), {"demo": DEMO_ACTOR}
        )
        session.execute(text("DELETE FROM baseline_lists"))


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
