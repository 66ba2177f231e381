"""The to-do list as the API gives it."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from gis_app.core.schemas import Schema


class TodoItem(Schema):
    group: str = Field(description="分组（如 延期申请待审批、待验收、通报待回复整改措施）")
    text: str = Field(description="事项")
    url: str = Field(description="办理页面")
    args: dict[str, Any] = Field(description="页面参数")
    date: str | None = Field(description="相关日期")
    days: int | None = Field(description="已等待或剩余天数")
    alert: bool = Field(description="已逾期")


class TodoList(Schema):
    count: int = Field(description="待办数")
    items: list[TodoItem]
