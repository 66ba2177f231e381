"""第一责任人 (issue 14, point 8): the office records each street's first responsible person
(name, title, from when); changes are kept; shown on the street's report and the dashboard."""

from __future__ import annotations

from tests.support.workflow import DZG

OFFICE_HEADERS: dict[str, str] = {}


def test_office_records_and_changes_keep_history(client, auth) -> None:
    office = auth.headers("区办王", "district_officer")
    street = auth.headers("街道李", "street_officer", DZG)
    url = f"/api/v1/streets/{DZG}/first-responsible"
    first = {"name": "张三", "title": "街道办事处主任", "since": "2026-01-01"}
    r = client.post(url, json=first, headers=street)
    assert r.status_code == 403
    r = client.post(url, json={**first, "name": " "}, headers=office)
    assert r.status_code == 422 and r.get_json()["field"] == "name"
    assert r.get_json()["message"] == "缺少第一责任人姓名"
    r = client.post(url, json={**first, "since": "今年"}, headers=office)
    assert r.status_code == 422 and r.get_json()["field"] == "since"
    assert client.post(url, json=first, headers=office).status_code == 201
    second = {"name": "李四", "title": "街道党工委书记", "since": "2026-05-01"}
    assert client.post(url, json=second, headers=office).status_code == 201
    history = client.get(url, headers=street).get_json()["leaders"]
    assert [(h["name"], h["since"]) for h in history] == [
        ("李四", "2026-05-01"),
        ("张三", "2026-01-01"),
    ]
    # the report of April names who held it then; June's the current one (clock: 2026-06-15)
    april = client.get(f"/api/v1/reports/{DZG}/2026-04", headers=street).get_json()
    assert april["first_responsible"]["name"] == "张三"
    june = client.get(f"/api/v1/reports/{DZG}/2026-06", headers=street).get_json()
    assert june["first_responsible"]["name"] == "李四"
    stats = client.get("/api/v1/statistics", headers=office).get_json()
    dzg = next(s for s in stats["streets"] if s["code"] == DZG)
    assert dzg["first_responsible"]["title"] == "街道党工委书记"
    auth.login(client, "区办王", "district_officer")
    html = client.get("/dashboard").get_data(as_text=True)
    assert "第一责任人：街道党工委书记 李四" in html
