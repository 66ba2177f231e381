"""The ledger kept on the pages (issue 15, point 1): a site created, edited and deleted through
its form; errors beside their fields in Chinese with what was typed kept; a stale edit shown as
"someone changed this meanwhile" with both versions; a move into another street refused for a
street user and allowed for the office; the street of a point named before saving."""

from __future__ import annotations

import re

from sqlalchemy import select

from gis_app.features.ledger.models import Site
from tests.support.accounts import csrf
from tests.support.workflow import DZG, ZSM

INSIDE_DZG = ("117.2381000", "39.1100000")


def _post(client, url: str, data: dict, status: int):
    response = client.post(url, data={**data, "csrf_token": csrf(client)})
    assert response.status_code == status, re.findall(
        r"(?:field-error|flash-error)[^>]*>([^<]*)", response.get_data(as_text=True)
    )
    return response


def _zsm_point(connection) -> tuple[str, str]:
    x, y = connection.exec_driver_sql(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM streets "
        "WHERE code = %s) s",
        (ZSM,),
    ).one()
    return f"{x:.7f}", f"{y:.7f}"


def _create(client, **fields) -> int:
    form = {
        "address": "大直沽中路8号",
        "disposition": "demolish",
        "kind": "rooftop",
        "area_m2": "30",
        "lon": INSIDE_DZG[0],
        "lat": INSIDE_DZG[1],
        "person_name": "王某",
        **fields,
    }
    response = _post(client, "/sites/new", form, 302)
    return int(re.search(r"/sites/(\d+)$", response.headers["Location"])[1])


def test_create_keeps_input_and_shows_errors_beside_fields(client, auth, connection) -> None:
    auth.login(client, "form.officer", "street_officer", DZG)
    page = client.get("/sites/new").get_data(as_text=True)
    assert 'id="site-form-map"' in page and "vendor/leaflet/leaflet.js" in page
    refused = _post(
        client,
        "/sites/new",
        {"address": "", "area_m2": "很大", "community": "文华里", "lon": "", "lat": ""},
        422,
    ).get_data(as_text=True)
    assert 'value="文华里"' in refused  # what was typed is kept
    for field, words in (("address", "地址"), ("area_m2", "面积"), ("disposition", "治理方式")):
        block = re.search(rf'data-field="{field}">(.*?)</div>', refused, re.S)[1]
        assert 'class="field-error"' in block and words in block, (field, block)
    assert "address" not in re.sub(r"<[^>]+>", "", refused).replace("大直沽", "")
    site_id = _create(client)
    site = connection.execute(
        select(Site.address, Site.kind, Site.person_name).where(Site.id == site_id)
    ).one()
    assert site.address == "大直沽中路8号" and site.kind == "rooftop" and site.person_name == "王某"
    assert "已登记点位" in client.get(f"/sites/{site_id}").get_data(as_text=True)


def test_street_of_a_point_before_saving(client, auth, connection) -> None:
    auth.login(client, "form.officer2", "street_officer", DZG)
    here = client.get(f"/sites/street-at?lon={INSIDE_DZG[0]}&lat={INSIDE_DZG[1]}").get_json()
    assert here["street_name"] == "大直沽街道" and here["allowed"] is True
    lon, lat = _zsm_point(connection)
    there = client.get(f"/sites/street-at?lon={lon}&lat={lat}").get_json()
    assert there["street_name"] == "中山门街道" and there["allowed"] is False
    assert "区领导小组办公室" in there["message"]


def test_move_across_a_street_line_refused_for_street_allowed_for_office(
    client, auth, connection
) -> None:
    auth.login(client, "form.officer3", "street_officer", DZG)
    site_id = _create(client)
    lon, lat = _zsm_point(connection)
    edit = client.get(f"/sites/{site_id}/edit").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', edit)[1]
    form = {
        "address": "大直沽中路8号",
        "disposition": "demolish",
        "kind": "rooftop",
        "area_m2": "30",
        "person_name": "王某",
        "lon": lon,
        "lat": lat,
        "version": version,
    }
    refused = _post(client, f"/sites/{site_id}/edit", form, 403).get_data(as_text=True)
    assert "中山门街道" in refused and "区领导小组办公室" in refused
    assert f'value="{lon}"' in refused  # the move the user made is kept on the form
    auth.login(client, "form.office", "district_officer")
    _post(client, f"/sites/{site_id}/edit", {**form, "reason": "定位更正"}, 302)
    street = connection.exec_driver_sql(
        "SELECT t.code FROM sites s JOIN streets t ON t.id = s.street_id WHERE s.id = %s",
        (site_id,),
    ).scalar_one()
    assert street == ZSM


def test_someone_changed_it_meanwhile_shows_both_versions(client, auth, connection) -> None:
    auth.user("form.office2", "district_officer", None, display_name="区办钱")
    auth.login(client, "form.office2", "district_officer")
    site_id = _create(client)
    base = {
        "address": "大直沽中路8号",
        "disposition": "demolish",
        "kind": "rooftop",
        "person_name": "王某",
        "lon": INSIDE_DZG[0],
        "lat": INSIDE_DZG[1],
        "version": "1",
    }
    _post(client, f"/sites/{site_id}/edit", {**base, "area_m2": "45"}, 302)
    stale = _post(client, f"/sites/{site_id}/edit", {**base, "area_m2": "60"}, 409)
    html = stale.get_data(as_text=True)
    assert "他人已修改了该点位" in html and 'id="conflict-table"' in html
    row = re.search(r"<th>面积（㎡）</th>(.*?)</tr>", html, re.S)[1]
    assert ">60<" in row and ">45<" in row
    assert re.search(r'name="version" value="2"', html)  # saving again overrides, knowingly
    _post(client, f"/sites/{site_id}/edit", {**base, "area_m2": "60", "version": "2"}, 302)
    area = connection.execute(select(Site.area_m2).where(Site.id == site_id)).scalar_one()
    assert float(area) == 60


def test_office_deletes_with_a_reason(client, auth, connection) -> None:
    auth.login(client, "form.office3", "district_officer")
    site_id = _create(client)
    refused = _post(client, f"/sites/{site_id}/delete", {"delete_reason": "", "version": "1"}, 422)
    assert "删除点位必须说明原因" in refused.get_data(as_text=True)
    _post(client, f"/sites/{site_id}/delete", {"delete_reason": "重复登记", "version": "1"}, 302)
    deleted = connection.execute(select(Site.deleted_reason).where(Site.id == site_id))
    assert deleted.scalar_one() == "重复登记"
    auth.login(client, "form.officer4", "street_officer", DZG)
    assert (
        client.post(f"/sites/{site_id}/delete", data={"csrf_token": csrf(client)}).status_code
        == 403
    )
