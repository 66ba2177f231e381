"""The campaign's answer in the JSON API: its phases, which is current, the days left."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from gis_app.core.schemas import Schema


class CampaignMilestone(Schema):
    date: dt.date = Field(description="日期")
    name: str = Field(description="节点")


class CampaignPhase(Schema):
    """A phase of a campaign."""

    key: str = Field(description="阶段代码")
    name: str = Field(description="阶段名称")
    campaign: str = Field(description="所属专项行动")
    start: dt.date = Field(description="开始日期（含）")
    end: dt.date = Field(description="结束日期（含）")
    milestones: list[CampaignMilestone] = Field(description="节点")


class CampaignCurrentPhase(CampaignPhase):
    """A phase under way today."""

    days_left: int = Field(description="剩余天数（今天不计）")
    day_number: int = Field(description="本阶段第几天")
    upcoming_milestones: list[CampaignMilestone] = Field(description="今天及以后的节点")


class CampaignNextPhase(CampaignPhase):
    """The next phase to start."""

    days_until: int = Field(description="距开始的天数")


class CampaignStatus(Schema):
    """Where the campaign stands today."""

    today: dt.date = Field(description="今天")
    source: str = Field(description="配置文件")
    current: list[CampaignCurrentPhase] = Field(description="今天所在的阶段")
    next: CampaignNextPhase | None = Field(description="下一个阶段（没有时为空）")
    ended: bool = Field(description="专项行动是否已全部结束")
    ended_on: dt.date | None = Field(description="最后一个阶段的结束日期")
    phases: list[CampaignPhase] = Field(description="全部阶段，按开始日期")
