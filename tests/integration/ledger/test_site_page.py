"""The page of one site: data with Chinese labels, the history as a timeline, a small map."""

from __future__ import annotations

import re

from gis_app.features.maps import service as map_data
from tests.support.sites import site_payload

HTML = {"Accept": "text/html"}
DZG, ZSM = "120102002", "120102003"


def _create(client, auth) -> dict:
    """A site of 大直沽 registered by the district office (li), then the client logged in as
    a district officer."""
    headers = auth.headers("li", "district_officer")
    response = client.post("/api/v1/sites", json=site_payload(), headers=headers)
    assert response.status_code == 201
    auth.login(client, "wang", "district_officer")
    return response.get_json()


def test_site_page_shows_data_history_and_a_small_map(client, auth) -> None:
    site = _create(client, auth)
    site_id = site["id"]
    patched = client.patch(
        f"/api/v1/sites/{site_id}",
        json={"version": 1, "area_m2": 25, "disposition": "rectify", "reason": "复核面积"},
        headers=auth.headers("wang", "district_officer"),
    )
    assert patched.status_code == 200
    response = client.get(f"/sites/{site_id}", headers=HTML)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    fields = re.search(r'<table class="stats site-fields".*?</table>', html, re.S)[0]
    for label, value in [
        ("编号", "T-0001"),
        ("地址", "大直沽中路12号院内"),
        ("街道", "大直沽街道"),
        ("违建类型", "院内私搭乱建"),
        ("治理方式", "规范治理"),
        ("状态", "已建档"),
        ("承诺期限", "2026-09-30"),
        ("相对人", "张某"),  # internal page: the person concerned is shown
        ("联系电话", "13800000000"),
    ]:
        assert re.search(rf"<th>{label}</th><td[^>]*>(<a [^>]*>)?{value}", fields), label
    timeline = re.search(r'<ol class="timeline".*?</ol>', html, re.S)[0]
    items = re.findall(r'data-action="(\w+)"', timeline)
    assert items == ["update", "create"]  # newest first
    assert "复核面积" in timeline and "wang" in timeline and "li" in timeline
    change = '治理方式：<span class="before">拆除</span> → <span class="after">规范治理</span>'
    assert change in timeline
    assert "面积（㎡）" in timeline
    points = map_data.decode_points(
        re.search(r'<script type="application/json" id="\w+">(.*?)</script>', html, re.S)[1]
    )
    assert [p["id"] for p in points] == [site_id]
    assert abs(points[0]["lon"] - 117.2381) < 1e-6
    assert f'href="/map/street/{site["properties"]["street_code"]}"' in html


def test_deleted_or_unknown_site_is_a_chinese_404(client, auth) -> None:
    site_id = _create(client, auth)["id"]
    deleted = client.delete(
        f"/api/v1/sites/{site_id}",
        json={"reason": "重复登记"},
        headers=auth.headers("wang", "district_officer"),
    )
    assert deleted.status_code == 200
    for url in (f"/sites/{site_id}", "/sites/987654321"):
        response = client.get(url, headers=HTML)
        assert response.status_code == 404
        assert "找不到页面" in response.get_data(as_text=True)
    assert "重复登记" in client.get(f"/sites/{site_id}", headers=HTML).get_data(as_text=True)


def test_workflow_panel_is_included_when_present(client, auth, app, tmp_path) -> None:
    """The workflow branch provides site/_workflow.html; the page works with or without it."""
    import jinja2

    site_id = _create(client, auth)["id"]
    assert client.get(f"/sites/{site_id}", headers=HTML).status_code == 200
    partial = tmp_path / "site"
    partial.mkdir()
    (partial / "_workflow.html").write_text('<div id="wf">照片 {{ site.code }}</div>')
    original = app.jinja_env.loader
    app.jinja_env.loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(tmp_path), original])
    try:
        html = client.get(f"/sites/{site_id}", headers=HTML).get_data(as_text=True)
    finally:
        app.jinja_env.loader = original
        app.jinja_env.cache.clear()
    assert '<div id="wf">照片 T-0001</div>' in html
    assert html.index('id="site-fields"') < html.index('id="wf"') < html.index("处置记录")


# ---------------------------------------------------------------- who sees the page


def test_the_own_street_sees_the_page_with_the_person_another_street_gets_404(client, auth) -> None:
    site_id = _create(client, auth)["id"]
    for role in ("street_officer", "inspector"):
        auth.login(client, f"own.{role}", role, DZG)
        html = client.get(f"/sites/{site_id}", headers=HTML).get_data(as_text=True)
        assert 'data-field="person_name">张某' in html and "13800000000" in html, role
        auth.login(client, f"other.{role}", role, ZSM)
        response = client.get(f"/sites/{site_id}", headers=HTML)
        assert response.status_code == 404, role
        assert "张某" not in response.get_data(as_text=True) and "T-0001" not in response.text
    for role in ("bureau_media", "agency", "bureau_civil", "bureau_housing", "bureau_police"):
        auth.login(client, f"x.{role}", role)
        response = client.get(f"/sites/{site_id}", headers=HTML)
        assert response.status_code == 403 and "张某" not in response.text, role


def test_the_person_concerned_only_where_permissions_allow(client, auth, monkeypatch) -> None:
    """The page asks permissions.sees_personal_data: without it, no person, contact or note."""
    from gis_app.features.ledger import pages as site_pages

    site_id = _create(client, auth)["id"]
    monkeypatch.setattr(site_pages, "sees_personal_data", lambda actor, street: False)
    html = client.get(f"/sites/{site_id}", headers=HTML).get_data(as_text=True)
    assert "T-0001" in html
    assert "张某" not in html and "13800000000" not in html and "相对人" not in html
