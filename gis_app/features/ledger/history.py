"""A site's history as a person reads it: every event in Chinese, who did it by name, and each
change as a person writes it (dates, labels, a plan as its steps, a street by its name); no
internal names, no hashes, no data structures.

The events themselves (site_events) keep what the code wrote: the action's code, the username
and the raw values; the API serves those. The site page and the workflow page show this.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_app.core import clock, codes
from gis_app.features.accounts.service import display_names
from gis_app.features.ledger.schemas import FIELD_LABELS
from gis_app.features.streets.models import Street

ACTION_LABELS: dict[str, str] = {
    "create": "登记点位",
    "import": "台账导入",
    "update": "修改台账",
    "delete": "删除点位",
    "transition": "状态变更",
    "reopen": "重新打开",
    "photo": "上传照片",
    "plan": "制定治理方案",
    "step_done": "完成治理步骤",
    "extension_request": "申请延期",
    "extension_approved": "批准延期",
    "extension_rejected": "驳回延期",
    "overdue": "逾期",
    "renovation_done": "旧楼区改造完工",
    "renovation_plan_submitted": "报送改造规范治理方案",
    "renovation_plan_resubmitted": "修改后重新报送改造方案",
    "renovation_plan_approved": "区住建委批准改造方案",
    "renovation_plan_returned": "区住建委退回改造方案",
    "renovation_works": "区住建委记录改造施工",
    "finding": "巡查发现",
    "spot_check": "抽查核查",
    "correct": "区办更正（已销账）",
    "historical_closure": "历史销账登记",
    "historical_accept": "历史销账验收",
    "central_request": "申请变更应拆尽拆点位",
    "central_approved": "批准应拆尽拆变更",
    "central_rejected": "驳回应拆尽拆变更",
    "coverage": "媒体报道",
    "coverage_removed": "撤销媒体报道关联",
    "police_request": "申请公安协助",
    "police_accepted": "公安受理协助申请",
    "police_declined": "公安不予受理协助申请",
    "police_outcome": "公安记录处置结果",
}
EVENT_FIELD_LABELS: dict[str, str] = {
    **FIELD_LABELS,
    "area_m2": "面积（㎡）",
    "street": "街道",
    "location": "位置",
    "import_batch": "导入批次",
    "deleted": "已删除",
    "plan": "治理方案",
    "step": "完成的步骤",
    "extension": "延期申请",
    "photo": "照片",
    "overdue": "逾期",
    "due": "到期日",
    "renovation_done_on": "改造完工日期",
    "renovation_plan": "改造规范治理方案",
    "renovation_steps": "方案步骤",
    "renovation_works": "改造施工",
    "spot_check": "抽查结果",
    "batch": "抽查批次",
    "cause": "原因类别",
    "accepted_open_steps": "未完成步骤",
    "current_deadline": "当前期限",
    "historical_accepted": "历史销账已验收",
    "historical_source": "历史来源",
    "historical_closed_on": "历史销账日期",
    "clock_stopped_days": "停表天数（待验收）",
    "central_request": "应拆尽拆变更申请",
    "coverage": "媒体报道",
    "police_request": "公安协助（日期）",
    "police_outcome": "处置结果",
    "police_case_number": "暴力抗法案件编号",
}
CODE_LISTS: dict[str, Any] = {
    "status": codes.STATUSES,
    "disposition": codes.DISPOSITIONS,
    "kind": codes.KINDS,
    "source": codes.SOURCES,
    "cause": codes.REOPEN_CAUSES,
    "spot_check": {"pass": "合格", "fail": "不合格"},
    "renovation_plan": codes.RENOVATION_PLAN_STATUSES,
}
DATE_FIELDS = frozenset(
    {
        "committed_deadline",
        "current_deadline",
        "due",
        "renovation_done_on",
        "new_deadline",
        "historical_closed_on",
        "done_on",
    }
)
#: a list of steps (title, due date), shown as a plan
PLAN_FIELDS = frozenset({"plan", "renovation_steps"})
#: what the history shows of the persons concerned only to those who may see them
PERSONAL_CHANGES = frozenset({*codes.PERSONAL_FIELDS, "note"})
#: who acts without being a person
SYSTEM_ACTORS = {"system": "系统", "scheduler": "系统（定时任务）"}
NOTHING = "—"


def show_date(value: Any) -> str:
    """2026-09-30 → 2026年9月30日 (a date as a person writes it)."""
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{day.year}年{day.month}月{day.day}日"


def show_plan(steps: Any) -> str:
    """A plan as its steps: 1. 下达整改通知（2026年6月1日）；2. …"""
    if not steps:
        return "（无步骤）"
    parts = []
    for n, step in enumerate(steps, 1):
        if isinstance(step, dict):
            title = step.get("title", "")
            due = f"（{show_date(step['due_date'])}）" if step.get("due_date") else ""
            parts.append(f"{n}. {title}{due}")
        else:
            parts.append(f"{n}. {step}")
    return "；".join(parts)


def _show_dict(field: str, value: dict[str, Any], streets: dict[str, str]) -> str:
    """A structured value (a step, a photo, an extension request) in words; ids as 第 N 号."""
    if field == "step":
        photo = "（附照片）" if value.get("photo_id") else ""
        return f"「{value.get('title', '')}」{photo}"
    if field == "photo":
        kind = codes.label(codes.PHOTO_KINDS, value.get("kind"))
        return f"{kind}照片（第 {value.get('id')} 号）"
    if field == "renovation_works":
        return f"{show_date(value.get('done_on'))}：{value.get('what', '')}"
    if field == "central_request":
        change = codes.CENTRAL_CHANGES.get(str(value.get("change")), "变更")
        return f"第 {value.get('id')} 号申请：{change}"
    if field == "coverage":  # 融媒体中心's report: kind, outlet, date, title
        kind = codes.label(codes.COVERAGE_KINDS, value.get("kind"))
        day = show_date(value["published_on"]) if value.get("published_on") else ""
        return f"{kind}：{value.get('outlet', '')} {day}《{value.get('title', '')}》"
    if field == "extension":
        if value.get("new_deadline"):
            return f"第 {value.get('id')} 号申请，期限延至 {show_date(value['new_deadline'])}"
        status = codes.label(codes.EXTENSION_STATUSES, value.get("status"))
        return f"第 {value.get('id')} 号申请{status}"
    words = [show_value(k, v, streets) for k, v in value.items() if k not in ("id", "sha256") and v]
    return "，".join(words) or NOTHING


def show_value(field: str, value: Any, streets: dict[str, str] | None = None) -> str:
    """A stored value as a person reads it."""
    if value is None or value == "" or value == []:
        return "（无步骤）" if field in PLAN_FIELDS else NOTHING
    if isinstance(value, bool):
        return "是" if value else "否"
    if field in CODE_LISTS:
        return codes.label(CODE_LISTS[field], str(value))
    if field in DATE_FIELDS:
        return show_date(value)
    if field == "street":
        return (streets or {}).get(str(value), str(value))
    if field == "location" and isinstance(value, list) and len(value) == 2:
        return f"经度 {value[0]:.6f}，纬度 {value[1]:.6f}"
    if field in ("lon", "lat") and isinstance(value, int | float):
        return f"{value:.6f}"
    if field in ("import_batch", "batch"):
        return f"第 {value} 批"
    if field in PLAN_FIELDS and isinstance(value, list):
        return show_plan(value)
    if isinstance(value, dict):
        return _show_dict(field, value, streets or {})
    if isinstance(value, list):
        return "、".join(show_value(field, v, streets) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _pair(pair: Any) -> tuple[Any, Any]:
    if isinstance(pair, list) and len(pair) == 2:
        return pair[0], pair[1]
    return None, pair


def _street_names(session: Session, events: list[dict[str, Any]]) -> dict[str, str]:
    wanted = {
        str(v)
        for e in events
        for v in _pair((e.get("changes") or {}).get("street"))
        if v is not None
    }
    if not wanted:
        return {}
    rows = session.execute(select(Street.code, Street.name).where(Street.code.in_(wanted)))
    return {code: name for code, name in rows}


def actor_name(username: str, names: dict[str, str]) -> str:
    return names.get(username) or SYSTEM_ACTORS.get(username) or username


def timeline(
    session: Session, events: list[dict[str, Any]], personal: bool = True
) -> list[dict[str, Any]]:
    """History events (as ledger.service.site_history gives them, oldest first) newest first,
    in Chinese; without `personal` the changes of the persons concerned (name, contact,
    hardship, notes) are left out."""
    names = display_names(session, [e["actor"] for e in events])
    streets = _street_names(session, events)
    out = []
    for event in reversed(events):
        changes = []
        for field, pair in (event.get("changes") or {}).items():
            if not personal and field in PERSONAL_CHANGES:
                continue
            before, after = _pair(pair)
            changes.append(
                {
                    "field": field,
                    "label": EVENT_FIELD_LABELS.get(field, "其他"),
                    "before": show_value(field, before, streets) if before is not None else None,
                    "after": show_value(field, after, streets),
                }
            )
        at = (
            event["at"]
            if isinstance(event["at"], datetime)
            else datetime.fromisoformat(event["at"])
        )
        out.append(
            {
                "at": clock.fmt_local(
                    at if isinstance(at, datetime) else datetime.fromisoformat(at)
                ),
                "actor": actor_name(event["actor"], names),
                "action": event["action"],
                "action_label": ACTION_LABELS.get(event["action"], "其他记录"),
                "reason": event["reason"],
                "changes": changes,
            }
        )
    return out
