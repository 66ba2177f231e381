"""Field names as people read them: every refusal a person reads names fields in Chinese.

The services' messages name the field they refuse (`ValidationError("原因 reason 必须是文字",
"reason")`, `f"{name} 必须是整数"` with name = "cap") so that an API client can tell; the
pages and the phone's queue show them to people. `readable` puts the Chinese label in place of
each field name it knows ("cap" → "每人上限"), drops a name its label already precedes ("原因
reason" → "原因"), and a label repeated in brackets ("合格（合格）" → "合格"). AppError applies
it to every message (core/errors.py); the `field` of the JSON answer keeps the name.

WORDS holds the request fields and the code values that messages name; features add their own
(the ledger's site fields: `register(FIELD_LABELS)`). tests/unit/core/test_labels.py fails on a
message whose readable form still holds a Latin name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

WORDS: dict[str, str] = {
    # requests and forms
    "coverage_id": "媒体报道编号",
    "photo": "照片",
    "plan_id": "方案编号",
    "publicity_id": "宣传记录编号",
    "active": "在岗",
    "addition_reason": "增补理由",
    "allocation": "分配方式",
    "answer": "整改情况",
    "area": "范围",
    "area.bbox": "当前视野",
    "area.center": "圆心",
    "area.geometry": "绘制的范围",
    "area.kind": "范围类型",
    "area.radius_m": "半径",
    "area.repair": "自动修复",
    "area.sites": "所选点位",
    "area.street": "街道",
    "assignee": "执法队员",
    "attach_to": "并入的点位",
    "baseline": "基数",
    "basemap": "离线底图",
    "batch": "抽查批次",
    "batch_id": "抽查批次",
    "bbox": "视图范围",
    "body": "请求内容",
    "cap": "每人上限",
    "case_number": "案件编号",
    "cause": "原因类别",
    "center": "圆心",
    "change": "变更内容",
    "closed_days": "近期销账天数",
    "closed_from": "销账起始日期",
    "code": "编号",
    "comment": "意见",
    "coordinates": "坐标",
    "correction": "整改要求",
    "crs": "坐标系",
    "csrf_token": "表单校验码",
    "current_password": "当前密码",
    "date": "日期",
    "datetime": "时间范围",
    "days": "天数",
    "deadline_from": "期限起始日期",
    "decision": "审核结论",
    "display_name": "姓名",
    "district": "区",
    "done_on": "完成日期",
    "due_date": "完成日期",
    "due_days": "临近期限天数",
    "end": "终点",
    "escalated_to": "移交对象",
    "escalation_id": "追责事项",
    "expires_days": "有效天数",
    "file": "文件",
    "finding": "发现",
    "finding_id": "督查发现",
    "finding_ids": "督查发现",
    "findings": "督查发现",
    "force_reason": "另行登记的理由",
    "format": "格式",
    "frame": "抽样框",
    "frame_size": "抽样框大小",
    "geometry": "位置",
    "given_on": "日期",
    "held_on": "日期",
    "id": "编号",
    "inspection_id": "专项督查",
    "inspectors": "执法人员",
    "kind": "类型",
    "lang": "语言",
    "lat": "纬度",
    "layer": "图层",
    "level": "级别",
    "lon": "经度",
    "mapping": "列对应",
    "measures": "整改措施",
    "meeting_id": "例会",
    "month": "月份",
    "months": "月数",
    "n": "数量",
    "name": "名称",
    "narrative": "说明",
    "near": "附近范围",
    "new_deadline": "申请延至",
    "new_password": "新密码",
    "new_password2": "确认新密码",
    "note": "说明",
    "notes": "说明",
    "notice_id": "通报",
    "notice_ids": "通报",
    "open_steps_reason": "未完成步骤的销账理由",
    "owner": "责任单位",
    "password": "密码",
    "patrol_id": "巡查",
    "personal": "个人信息",
    "photo_id": "佐证照片",
    "photo_ids": "照片",
    "photos": "照片",
    "plan": "治理方案",
    "priorities": "优先类别",
    "properties": "属性",
    "radius_m": "半径",
    "reason": "原因",
    "recorded_at": "现场记录时间",
    "repair": "自动修复",
    "replace": "替换",
    "reply_due": "回复期限",
    "reports": "汇报",
    "request_id": "延期申请",
    "result": "核查结果",
    "role": "角色",
    "seed": "随机种子",
    "since": "任职起始日期",
    "site": "点位",
    "site_codes": "点位编号",
    "site_id": "点位",
    "sites": "所选点位",
    "size_mode": "样本量方式",
    "start": "起点",
    "status": "状态",
    "step_id": "治理步骤",
    "steps": "治理步骤",
    "stop_id": "巡查点位",
    "stops": "巡查点位",
    "street": "街道",
    "street_code": "街道",
    "streets": "街道",
    "targets": "目标列表",
    "task": "任务",
    "task_id": "任务",
    "tasks": "任务",
    "time_limit_s": "计算时限",
    "title": "标题",
    "to": "目标状态",
    "token": "令牌",
    "use_roads": "按道路规划",
    "username": "登录账户",
    "variant": "图片规格",
    "version": "版本号",
    "violent": "是否暴力抗法",
    "visited": "已到",
    "wanted_on": "需要日期",
    "week": "周",
    "word": "词语",
    "x": "瓦片列号",
    "y": "瓦片行号",
    "z": "缩放级别",
    # code values that messages offer as choices
    "accept": "通过",
    "all": "全部点位",
    "approve": "批准",
    "bbox_view": "当前地图视野",
    "circle": "圆形范围",
    "committee": "区委",
    "confirm": "确认",
    "decline": "不予受理",
    "demolish": "拆除",
    "fail": "不合格",
    "false": "“否”",
    "government": "区政府",
    "pass": "合格",
    "polygon": "绘制多边形",
    "reject": "驳回",
    "return": "退回",
    "true": "“是”",
}

_NAME = re.compile(
    r"(?<![A-Za-z0-9_./\-])([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)(?![A-Za-z0-9_\-])"
)
_EMPTY_BRACKETS = re.compile(r"[（(]\s*[）)]")
_BETWEEN_HAN = re.compile(r"(?<=[\u4e00-\u9fff“”]) +(?=[\u4e00-\u9fff“”])")
_REPEATED = re.compile(r"([\u4e00-\u9fff]+)\s*[（(]\1[）)]")


def register(labels: Mapping[str, str]) -> None:
    """A feature's own field labels (the ledger's site fields), for `readable`."""
    for name, label in labels.items():
        WORDS.setdefault(name, label)


def label(name: str) -> str:
    """The Chinese label of a field name (the name itself when there is none)."""
    return WORDS.get(name, name)


def readable(message: str) -> str:
    """The message with the field names it knows in Chinese (see the module's docstring)."""

    def swap(match: re.Match[str]) -> str:
        name = match.group(1)
        chinese = WORDS.get(name)
        if chinese is None:
            return name
        before = message[: match.start()].rstrip(" （(")
        return "" if before.endswith(chinese) else chinese

    text = _NAME.sub(swap, message)
    text = _EMPTY_BRACKETS.sub("", text)
    text = _REPEATED.sub(r"\1", text)
    text = re.sub(r" +([：，。、；）])", r"\1", text)
    text = _BETWEEN_HAN.sub("", text)  # Chinese puts no space between its characters
    return re.sub(r" {2,}", " ", text).strip()
