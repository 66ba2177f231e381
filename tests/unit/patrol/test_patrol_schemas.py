"""The patrol API's declared models refuse what the services refuse, with the services' own
field and Chinese message (their validators call the same parsers), without a database."""

from __future__ import annotations

from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from gis_app.core.errors import ValidationError
from gis_app.core.schemas import from_args, validate
from gis_app.features.patrol import coverage, plans
from gis_app.features.patrol.schemas import (
    FindingForm,
    PatrolCoverageQuery,
    PatrolListQuery,
    PatrolPlanCreate,
    PatrolPlanPreview,
    PatrolStaleQuery,
    PatrolStopVisit,
)

CIRCLE = {"kind": "circle", "center": [117.24, 39.10], "radius_m": 50}


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({}, "area", "范围必须是对象"),
        ({"area": None}, "area", "范围必须是对象"),
        ({"area": {"kind": "hexagon"}}, "area.kind", "范围类型无效"),
        ({"area": {"kind": ["street"]}}, "area.kind", "范围类型无效"),
        ({"area": {**CIRCLE, "radius_m": 0}}, "area.radius_m", "须大于 0"),
        ({"area": {**CIRCLE, "radius_m": 1e9}}, "area.radius_m", "不超过 5,000 米"),
        ({"area": {**CIRCLE, "center": [500, 39]}}, "area.center", "超出范围"),
        ({"area": {"kind": "polygon", "geometry": "{x"}}, "area.geometry", "不是有效的 GeoJSON"),
        ({"area": {"kind": "polygon", "repair": "perhaps"}}, "area.repair", "必须是“是”或“否”"),
        ({"area": {"kind": "bbox", "bbox": "1,2,3"}}, "area.bbox", "4 个数"),
        ({"area": CIRCLE, "priorities": ["bogus"]}, "priorities", "未知的优先类别"),
        ({"area": CIRCLE, "priorities": ["new", "new"]}, "priorities", "重复"),
        ({"area": CIRCLE, "cap": 0}, "cap", "须在 1 到 200 之间"),
        ({"area": CIRCLE, "due_days": "x"}, "due_days", "必须是整数"),
        ({"area": CIRCLE, "use_roads": "maybe"}, "use_roads", "必须是“是”或“否”"),
        ({"area": CIRCLE, "end": [500, 1]}, "end", "超出范围"),
        ({"area": CIRCLE, "start": [1, 2, 3]}, "start", "[经度, 纬度]"),
    ],
)
def test_a_plan_is_refused_as_the_service_refuses_it(body, field, words) -> None:
    with pytest.raises(ValidationError) as model:
        validate(PatrolPlanPreview, body)
    assert model.value.field == field and words in model.value.message
    with pytest.raises(ValidationError) as service:
        plans.check_plan_input(body)
    assert (service.value.field, service.value.message) == (field, model.value.message)


def test_only_a_plan_to_save_checks_its_title() -> None:
    body = {"title": "x" * 201, "area": {"kind": "hexagon"}}
    with pytest.raises(ValidationError) as refused:
        validate(PatrolPlanCreate, body)
    assert refused.value.field == "title" and "最多 200 个字" in refused.value.message
    with pytest.raises(ValidationError) as preview:
        validate(PatrolPlanPreview, body)
    assert preview.value.field == "area.kind"


def test_a_plan_hands_the_service_what_was_given() -> None:
    body = {"area": {**CIRCLE, "repair": None}, "cap": "5", "start": "office", "extra": 1}
    given = validate(PatrolPlanCreate, body).given()
    assert given == {"area": {**CIRCLE, "repair": None}, "cap": "5", "start": "office"}


@pytest.mark.parametrize(
    ("body", "field"),
    [({"visited": "maybe"}, "visited"), ({"note": 5}, "note"), ({"note": "x" * 501}, "note")],
)
def test_a_visit_is_checked(body, field) -> None:
    with pytest.raises(ValidationError) as refused:
        validate(PatrolStopVisit, body)
    assert refused.value.field == field
    ok = validate(PatrolStopVisit, {"note": "到"})
    assert (ok.visited, ok.note) == (True, "到")


def test_coverage_and_stale_queries() -> None:
    default = from_args(PatrolCoverageQuery, MultiDict())
    assert (default.week, default.days) == (coverage.parse_week(None), 7)
    given = from_args(PatrolCoverageQuery, MultiDict({"week": "2026-W25", "days": "3"}))
    assert (given.week, given.days) == (date(2026, 6, 15), 3)
    assert from_args(PatrolStaleQuery, MultiDict({"days": ""})).days == 7
    for args, field in (({"week": "2026-W60"}, "week"), ({"days": "0"}, "days")):
        with pytest.raises(ValidationError) as refused:
            from_args(PatrolCoverageQuery, MultiDict(args))
        assert refused.value.field == field
    assert from_args(PatrolListQuery, MultiDict({"street": " "})).street is None


def test_a_finding_form_is_checked_as_the_service_checks_it() -> None:
    base = {"lon": "117.24", "lat": "39.10", "note": "新搭彩钢棚"}
    for data, field, words in (
        ({**base, "lat": "north"}, "lat", "必须是数字"),
        ({**base, "lon": ""}, "lon", "经度必须是数字"),
        ({**base, "note": " "}, "note", "请填写发现情况说明"),
        ({**base, "attach_to": "x"}, "attach_to", "必须是整数"),
        ({**base, "force_reason": "x" * 501}, "force_reason", "过长"),
        ({**base, "note": "彩钢棚\x00"}, "note", "空字符"),  # PostgreSQL stores no NUL
    ):
        with pytest.raises(ValidationError) as refused:
            validate(FindingForm, data)
        assert refused.value.field == field and words in refused.value.message
    form = validate(FindingForm, {**base, "address": "", "photos": object()})
    assert form.given() == base  # blank fields left out, photos handed over apart
