"""Demo records of 融媒体 coverage and the streets' publicity work, so that `make run` shows
coverage on the public page (/public/coverage) and publicity per street and month
(/publicity/monthly): built through the services, so they obey the same rules."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.core.actor import Actor
from gis_app.demo.accounts import street_officer_username
from gis_app.features.ledger.models import Site
from gis_app.features.photos.service import PhotoLimits, PhotoStore
from gis_app.features.publicity import service
from gis_app.features.streets.models import Street

MEDIA = Actor("media", "bureau_media")
#: (kind, content, place, quantity range)
WORK = (
    ("banner", "依法治理违法建设，共建美好家园", "社区主干道", (2, 8)),
    ("leaflet", "违法建设分步治理政策问答", "社区服务中心", (100, 600)),
    ("board", "违建治理前后对比展板", "小区广场", (1, 4)),
    ("screen", "电子屏滚动播放：拆除违建，还路于民", "街道办事处门前", (1, 3)),
    ("door_to_door", "入户讲解治理政策、动员自拆", "楼栋入户", (10, 60)),
)


def _day(today: date, back: int) -> str:
    return (today - timedelta(days=back)).isoformat()


def add_coverage(session: Session, today: date) -> int:
    """Four reports of the media centre, three of them published."""
    streets = session.execute(select(Street.id, Street.code).order_by(Street.code)).all()
    if len(streets) < 3:
        return 0
    sites = {
        code: session.scalars(
            select(Site.code)
            .where(Site.street_id == sid, Site.deleted_at.is_(None))
            .order_by(Site.code)
            .limit(2)
        ).all()
        for sid, code in streets[:3]
    }
    (a, b, c) = (code for _sid, code in streets[:3])
    reports: list[dict[str, Any]] = [
        {"kind": "exposure", "outlet": "河东融媒", "title": "曝光：小区楼顶违建久拖未拆",
         "sites": sites[a][:1], "published": True, "back": 40},
        {"kind": "follow_up", "outlet": "河东融媒", "title": "跟踪报道：楼顶违建已全部拆除",
         "sites": sites[a][:1], "published": True, "back": 12},
        {"kind": "follow_up", "outlet": "天津日报", "title": "河东区分步治理违法建设见实效",
         "streets": [b, c], "published": True, "back": 5},
        {"kind": "exposure", "outlet": "河东融媒", "title": "（待审）沿街违建占用消防通道",
         "sites": sites[b][:2], "published": False, "back": 1},
    ]  # fmt: skip
    for i, r in enumerate(reports, start=1):
        if "sites" in r and not r["sites"]:  # a small demo: a street without sites yet
            r["streets"] = [a if r["back"] > 1 else b]
        record = service.coverage.create(
            session,
            MEDIA,
            {
                "kind": r["kind"],
                "published_on": _day(today, r["back"]),
                "outlet": r["outlet"],
                "title": r["title"],
                "url": f"https://www.example.cn/hedong/news/{today.year}{i:04d}.html",
                "summary": "示例报道（演示数据）",
                "published": r["published"],
                "sites": list(r.get("sites", [])),
                "streets": list(r.get("streets", [])),
            },
        )
        _backdate(session, record.id, today - timedelta(days=r["back"]))
    return len(reports)


def _backdate(session: Session, coverage_id: int, day: date) -> None:
    """The demo's report was recorded on its day (as the rest of the demo's history lies
    before the reference day): its record and its sites' timeline events."""
    at = datetime.combine(day, time(10), tzinfo=clock.LOCAL_TZ)
    session.execute(
        text("UPDATE coverage_records SET recorded_at = :at, updated_at = :at WHERE id = :i"),
        {"at": at, "i": coverage_id},
    )
    session.execute(
        text(
            "UPDATE site_events SET at = :at WHERE action = 'coverage'"
            " AND changes -> 'coverage' -> 1 ->> 'id' = :i"
        ),
        {"at": at, "i": str(coverage_id)},
    )


def add_publicity(session: Session, today: date, seed: int) -> int:
    """Publicity work of most streets in this month and the month before (one street left
    without any this month, so that the office's table shows a gap)."""
    rng = random.Random(seed)
    store, limits = PhotoStore("/nonexistent"), PhotoLimits(1, 1)  # no photos in the demo
    codes = session.scalars(select(Street.code).order_by(Street.code)).all()
    n = 0
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    for i, code in enumerate(codes):
        officer = Actor(street_officer_username(session, code), "street_officer", code)
        for month_start, limit in ((last_month, 31), (this_month, today.day)):
            if month_start == this_month and i == len(codes) - 1:
                continue
            for kind, content, place, (low, high) in rng.sample(WORK, k=rng.randint(1, 3)):
                day = month_start + timedelta(days=rng.randrange(min(limit, 28)))
                service.work.create(
                    session,
                    officer,
                    {
                        "kind": kind,
                        "content": content,
                        "place": place,
                        "done_on": min(day, today).isoformat(),
                        "quantity": rng.randint(low, high),
                    },
                    store,
                    limits,
                )
                n += 1
    return n


def add_publicity_records(session: Session, seed: int, today: date) -> dict[str, int]:
    """Coverage and publicity work up to the demo's reference day (never after the clock's
    today: the services refuse future dates)."""
    today = min(today, clock.today())
    return {
        "coverage": add_coverage(session, today),
        "publicity": add_publicity(session, today, seed),
    }
