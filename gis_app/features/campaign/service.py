"""Campaign phases from configuration: which phase is current and how many days are left.

The file (GIS_APP_CAMPAIGN_FILE, default Hedong's plan in campaigns/hedong-2021.yaml beside
this module)
lists campaigns, each with named phases (start and end dates, both included) and milestones.
With `anchor: today` dates are day offsets from today (demo only). A bad file stops start-up
with a message naming the file and the entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_app.core import clock
from gis_app.features.campaign.models import CampaignPlanRecord

DEFAULT_FILE = Path(__file__).with_name("campaigns") / "hedong-2021.yaml"


class CampaignConfigError(RuntimeError):
    pass


@dataclass(frozen=True)
class Milestone:
    when: date | int
    name: str


@dataclass(frozen=True)
class Phase:
    key: str
    name: str
    start: date | int
    end: date | int
    campaign: str
    milestones: tuple[Milestone, ...] = ()


@dataclass
class CampaignPlan:
    source: str
    relative: bool
    campaigns: list[tuple[str, str]] = field(default_factory=list)  # (key, name)
    phases: list[Phase] = field(default_factory=list)

    def day(self, value: date | int, today: date) -> date:
        """A phase's date (a relative one counted from `today`)."""
        return self._day(value, today)

    def _day(self, value: date | int, today: date) -> date:
        return today + timedelta(days=value) if isinstance(value, int) else value

    def status(self, today: date) -> dict[str, Any]:
        """The phases containing `today`, the next one, and whether the campaigns are over."""
        names = dict(self.campaigns)
        resolved = []
        for p in self.phases:
            start, end = self._day(p.start, today), self._day(p.end, today)
            milestones = [
                {"date": self._day(m.when, today).isoformat(), "name": m.name} for m in p.milestones
            ]
            resolved.append(
                {
                    "key": p.key,
                    "name": p.name,
                    "campaign": names[p.campaign],
                    "start": start,
                    "end": end,
                    "milestones": milestones,
                }
            )
        resolved.sort(key=lambda r: (r["start"], r["end"]))
        current = []
        for r in resolved:
            if r["start"] <= today <= r["end"]:
                current.append(
                    {
                        **_iso(r),
                        "days_left": (r["end"] - today).days,
                        "day_number": (today - r["start"]).days + 1,
                        "upcoming_milestones": [
                            m for m in r["milestones"] if m["date"] >= today.isoformat()
                        ],
                    }
                )
        upcoming = [r for r in resolved if r["start"] > today]
        nxt = None
        if upcoming:
            nxt = {**_iso(upcoming[0]), "days_until": (upcoming[0]["start"] - today).days}
        last_end = max((r["end"] for r in resolved), default=None)
        return {
            "today": today.isoformat(),
            "source": self.source,
            "current": current,
            "next": nxt,
            "ended": bool(resolved) and not current and nxt is None,
            "ended_on": last_end.isoformat() if last_end else None,
            "phases": [_iso(r) for r in resolved],
        }


def _iso(r: dict[str, Any]) -> dict[str, Any]:
    return {**r, "start": r["start"].isoformat(), "end": r["end"].isoformat()}


def _when(value: Any, relative: bool, where: str) -> date | int:
    if relative:
        if isinstance(value, bool) or not isinstance(value, int):
            raise CampaignConfigError(f"{where}：anchor: today 时日期须是相对今天的天数（整数）")
        return value
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise CampaignConfigError(f"{where}：日期无法识别：{value!r}（格式 2021-02-22）") from None


def _name(item: dict[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CampaignConfigError(f"{where}：缺少 {key}")
    return value.strip()


def load_campaigns(path: str | Path | None = None) -> CampaignPlan:
    """Read and check a campaign file (the default plan when `path` is empty)."""
    file = Path(path) if path else DEFAULT_FILE
    try:
        doc = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CampaignConfigError(f"专项行动配置文件不存在：{file}") from None
    except yaml.YAMLError as exc:
        raise CampaignConfigError(f"专项行动配置文件 {file} 不是有效的 YAML：{exc}") from None
    return parse_plan(doc, str(file))


def parse_plan(doc: Any, file: str) -> CampaignPlan:
    """A campaign document (the YAML's structure) checked; `file` names it in messages."""
    if not isinstance(doc, dict) or not isinstance(doc.get("campaigns"), list):
        raise CampaignConfigError(f"{file}：须有 campaigns 列表")
    anchor = doc.get("anchor")
    if anchor not in (None, "today"):
        raise CampaignConfigError(f"{file}：anchor 只能是 today 或不写")
    plan = CampaignPlan(source=str(file), relative=anchor == "today")
    keys: set[str] = set()
    for i, camp in enumerate(doc["campaigns"], start=1):
        where = f"{file} campaigns[{i}]"
        if not isinstance(camp, dict):
            raise CampaignConfigError(f"{where}：须是对象")
        key, name = _name(camp, "key", where), _name(camp, "name", where)
        if key in keys:
            raise CampaignConfigError(f"{where}：key {key} 重复")
        keys.add(key)
        plan.campaigns.append((key, name))
        phases = camp.get("phases")
        if not isinstance(phases, list) or not phases:
            raise CampaignConfigError(f"{where}：须至少有一个阶段（phases）")
        for j, ph in enumerate(phases, start=1):
            plan.phases.append(_phase(ph, key, plan.relative, f"{where} phases[{j}]"))
    if not plan.campaigns:
        raise CampaignConfigError(f"{file}：campaigns 列表为空")
    return plan


def _phase(item: Any, campaign: str, relative: bool, where: str) -> Phase:
    """One phase of a campaign file: its key, name, start and end, and its milestones."""
    if not isinstance(item, dict):
        raise CampaignConfigError(f"{where}：须是对象")
    start = _when(item.get("start"), relative, f"{where} start")
    end = _when(item.get("end"), relative, f"{where} end")
    if start > end:  # type: ignore[operator]
        raise CampaignConfigError(f"{where}：开始日期晚于结束日期")
    milestones = []
    for k, ms in enumerate(item.get("milestones") or [], start=1):
        mw = f"{where} milestones[{k}]"
        if not isinstance(ms, dict):
            raise CampaignConfigError(f"{mw}：须是对象")
        milestones.append(Milestone(_when(ms.get("date"), relative, mw), _name(ms, "name", mw)))
    return Phase(
        _name(item, "key", where),
        _name(item, "name", where),
        start,
        end,
        campaign,
        tuple(milestones),
    )


# ---------------------------------------------------------------- a campaign stored in the database


def plan_document(plan: CampaignPlan, shift_days: int = 0) -> dict[str, Any]:
    """`plan` as a document of the file's structure with concrete dates, every date moved by
    `shift_days` (a plan relative to today cannot be stored)."""
    if plan.relative:
        raise CampaignConfigError("相对今天的专项行动配置（anchor: today）不能保存")
    move = timedelta(days=shift_days)

    def day(value: date | int) -> str:
        assert isinstance(value, date)
        return (value + move).isoformat()

    campaigns = []
    for key, name in plan.campaigns:
        phases = [
            {
                "key": p.key,
                "name": p.name,
                "start": day(p.start),
                "end": day(p.end),
                "milestones": [{"date": day(m.when), "name": m.name} for m in p.milestones],
            }
            for p in plan.phases
            if p.campaign == key
        ]
        campaigns.append({"key": key, "name": name, "phases": phases})
    return {"campaigns": campaigns}


def store_plan(
    session: Session, district_code: str, doc: dict[str, Any], source: str, actor: str
) -> CampaignPlanRecord:
    """Keep `doc` as the district's campaign (checked first); the newest stored one applies."""
    parse_plan(doc, source)
    record = CampaignPlanRecord(
        district_code=district_code,
        source=source,
        plan=doc,
        created_at=clock.now(),
        created_by=actor,
    )
    session.add(record)
    session.flush()
    return record


def effective_plan(session: Session, configured: CampaignPlan) -> CampaignPlan:
    """The campaign the district runs: the newest stored one, else the configured file's."""
    record = session.scalar(
        select(CampaignPlanRecord)
        .order_by(CampaignPlanRecord.created_at.desc(), CampaignPlanRecord.id.desc())
        .limit(1)
    )
    if record is None:
        return configured
    return parse_plan(record.plan, record.source)


def campaign_end(plan: CampaignPlan, today: date) -> date | None:
    """The last day of the campaign (the end of its last phase)."""
    ends = [plan.day(p.end, today) for p in plan.phases]
    return max(ends) if ends else None


def baseline_due(plan: CampaignPlan, today: date) -> date | None:
    """When the streets' lists are due (the plan's 五(一): 2021-03-15 for Hedong): the first
    milestone of the first phase, else that phase's end."""
    if not plan.phases:
        return None
    first = min(plan.phases, key=lambda p: plan.day(p.start, today))
    if first.milestones:
        return plan.day(first.milestones[0].when, today)
    return plan.day(first.end, today)


#: the configured campaign (the file's), set when the app starts (campaign.register)
_CONFIGURED: list[CampaignPlan] = []


def configure(plan: CampaignPlan) -> None:
    _CONFIGURED[:] = [plan]


def current_end(session: Session) -> date | None:
    """The last day of the campaign under way (stored, else configured): dates past it are the
    office's decision, not a street's. None when no campaign runs today (before its start, or
    after its end: then no campaign governs the dates and daily work goes on)."""
    configured = _CONFIGURED[0] if _CONFIGURED else load_campaigns()
    plan = effective_plan(session, configured)
    today = clock.today()
    starts = [plan.day(p.start, today) for p in plan.phases]
    end = campaign_end(plan, today)
    if end is None or today > end or today < min(starts):
        return None
    return end


def current_campaign(session: Session) -> tuple[str, date, date] | None:
    """The campaign under way, else the last one begun: (its name, first day, last day). None
    before any campaign's first phase."""
    configured = _CONFIGURED[0] if _CONFIGURED else load_campaigns()
    plan = effective_plan(session, configured)
    today = clock.today()
    begun = [p for p in plan.phases if plan.day(p.start, today) <= today]
    if not begun:
        return None
    key = max(begun, key=lambda p: plan.day(p.start, today)).campaign
    phases = [p for p in plan.phases if p.campaign == key]
    first = min(plan.day(p.start, today) for p in phases)
    last = max(plan.day(p.end, today) for p in phases)
    return dict(plan.campaigns).get(key, key), first, last


def beyond_end_message(what: str, day: date, end: date) -> str:
    return (
        f"{what} {day} 晚于专项行动结束日 {end}：超出专项行动的期限须由区领导小组办公室决定"
        "（说明理由）"
    )
