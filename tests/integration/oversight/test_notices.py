"""通报: issued from the lagging list or by choice with the figures frozen, answered by each
named street (late replies kept), scoped per street (another street's: 404), refusals."""

from __future__ import annotations

from io import BytesIO

import pytest
from docx import Document
from sqlalchemy import func, select, text

from gis_app.core import clock
from gis_app.core.actor import Actor
from gis_app.core.errors import Forbidden, NotFound, ValidationError
from gis_app.features.oversight import service as notices
from gis_app.features.oversight.models import Notice, NoticeReply, NoticeStreet
from tests.support.accounts import csrf
from tests.support.rls import as_app
from tests.support.workflow import DZG, OFFICE, ZSM, make_site

ZSM_POINT = {"lon": 117.2620, "lat": 39.1010}
DZG_OFFICER = Actor("大直沽李", "street_officer", DZG)
ZSM_OFFICER = Actor("中山门赵", "street_officer", ZSM)
DZG_INSPECTOR = Actor("大直沽队员", "inspector", DZG)
HOUSING = Actor("住建委", "bureau_housing")


def _district(session):
    """大直沽 with three sites (one overdue), 中山门 with one: both lag (no monthly report)."""
    make_site(session, committed_deadline="2026-05-31")  # overdue on 2026-06-15
    make_site(session)
    make_site(session)
    make_site(session, **ZSM_POINT)


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_lagging_streets_are_candidates_with_reasons_and_figures(db_session) -> None:
    _district(db_session)
    cands = {c["code"]: c for c in notices.candidates(db_session, clock.today())}
    assert cands[DZG]["reasons"] and cands[ZSM]["reasons"]
    assert any("月报未报送" in r for r in cands[DZG]["reasons"])
    assert cands[DZG]["figures"]["total"] == 3 and cands[DZG]["figures"]["overdue"] == 1
    # streets without sites are not lagging, listed after the lagging ones
    order = [c["code"] for c in notices.candidates(db_session, clock.today())]
    assert set(order[:2]) == {DZG, ZSM} and len(order) == 12


def test_issue_numbers_dates_and_freezes_the_figures(db_session) -> None:
    _district(db_session)
    first = notices.issue(
        db_session, OFFICE, "关于进展滞后街道的通报", "2026-06-25", [{"street": DZG}]
    )
    second = notices.issue(
        db_session, OFFICE, "第二期通报", "2026-06-25", [{"street": DZG}, {"street": ZSM}]
    )
    assert first.number == "治违办通报〔2026〕1号" and second.number == "治违办通报〔2026〕2号"
    assert first.issued_on.isoformat() == "2026-06-15" and first.source == "lagging"
    view = notices.notice_view(db_session, first.id, OFFICE)
    (dzg,) = view["streets"]
    assert dzg["figures"]["total"] == 3 and dzg["figures"]["overdue"] == 1
    assert ("逾期", "1") in dzg["figure_texts"]
    assert dzg["reply_state"] == "due"
    # the ledger moves on: the notice keeps the figures of its day
    make_site(db_session, committed_deadline="2026-05-01")
    again = notices.notice_view(db_session, first.id, OFFICE)["streets"][0]["figures"]
    assert again["total"] == 3 and again["overdue"] == 1


def test_a_street_chosen_off_the_list_needs_a_reason(db_session) -> None:
    _district(db_session)
    other = "120102001"  # no sites: not lagging
    with pytest.raises(ValidationError) as err:
        notices.issue(db_session, OFFICE, "通报", "2026-06-25", [{"street": other}])
    assert err.value.field == "streets[0].reason"
    done = notices.issue(
        db_session, OFFICE, "通报", "2026-06-25", [{"street": other, "reason": "排查不力"}]
    )
    assert done.source == "choice"
    row = db_session.scalar(select(NoticeStreet).where(NoticeStreet.notice_id == done.id))
    assert row.reasons == ["排查不力"]


@pytest.mark.parametrize(
    ("actor", "title", "due", "named", "error", "field"),
    [
        (OFFICE, "", "2026-06-25", [{"street": DZG}], ValidationError, "title"),
        (OFFICE, "通报", "2026-06-14", [{"street": DZG}], ValidationError, "reply_due"),
        (OFFICE, "通报", "2026-12-31", [{"street": DZG}], ValidationError, "reply_due"),
        (OFFICE, "通报", "明天", [{"street": DZG}], ValidationError, "reply_due"),
        (OFFICE, "通报", "2026-06-25", [], ValidationError, "streets"),
        (OFFICE, "通报", "2026-06-25", [{"street": "999"}], ValidationError, "streets[0].street"),
        (
            OFFICE,
            "通报",
            "2026-06-25",
            [{"street": DZG}, {"street": DZG}],
            ValidationError,
            "streets[1].street",
        ),
        (DZG_OFFICER, "通报", "2026-06-25", [{"street": DZG}], Forbidden, "role"),
    ],
)
def test_bad_issues_are_refused_and_write_nothing(
    db_session, actor, title, due, named, error, field
) -> None:
    _district(db_session)
    with pytest.raises(error) as err:
        notices.issue(db_session, actor, title, due, named)
    assert err.value.field == field
    assert _count(db_session, Notice) == 0 and _count(db_session, NoticeStreet) == 0


def test_streets_reply_late_replies_are_kept_and_scope_holds(db_session) -> None:
    _district(db_session)
    notice = notices.issue(
        db_session, OFFICE, "通报", "2026-06-20", [{"street": DZG}, {"street": ZSM}]
    )
    notices.reply(db_session, notice.id, DZG_OFFICER, "  一、立即组织拆除；二、落实责任人。 ")
    # a street sees its own row only
    zsm_view = notices.notice_view(db_session, notice.id, ZSM_OFFICER)
    assert [s["street_code"] for s in zsm_view["streets"]] == [ZSM]
    assert zsm_view["streets"][0]["replies"] == []
    office_view = notices.notice_view(db_session, notice.id, OFFICE)
    states = {s["street_code"]: s["reply_state"] for s in office_view["streets"]}
    assert states == {DZG: "answered", ZSM: "due"}
    assert (
        office_view["streets"][0]["replies"][0]["measures"] == "一、立即组织拆除；二、落实责任人。"
    )
    # after the due date: 中山门's reply is late, and kept as such
    clock.freeze("2026-06-22T09:00:00+08:00")
    try:
        assert notices.list_notices(db_session, ZSM_OFFICER)[0]["reply_state"] == "overdue"
        late = notices.reply(db_session, notice.id, ZSM_OFFICER, "补报整改措施")
        assert late.late is True
        rows = {
            r["street_code"]: r["reply_state"] for r in notices.list_notices(db_session, OFFICE)
        }
        assert rows == {DZG: "answered", ZSM: "late"}
        assert notices.history_by_street(db_session, OFFICE)[ZSM] == {
            "notices": 1,
            "late_or_missing": 1,
            "by_month": {"2026-06": 1},
        }
    finally:
        clock.freeze("2026-06-15T10:00:00+08:00")


def test_another_streets_notice_is_not_found_and_only_officers_reply(db_session) -> None:
    _district(db_session)
    notice = notices.issue(db_session, OFFICE, "通报", "2026-06-20", [{"street": DZG}])
    with pytest.raises(NotFound):
        notices.notice_view(db_session, notice.id, ZSM_OFFICER)
    with pytest.raises(NotFound):
        notices.reply(db_session, notice.id, ZSM_OFFICER, "不该写入")
    assert notices.list_notices(db_session, ZSM_OFFICER) == []
    for actor in (DZG_INSPECTOR, OFFICE):
        with pytest.raises(Forbidden):
            notices.reply(db_session, notice.id, actor, "整改")
    with pytest.raises(Forbidden):
        notices.list_notices(db_session, HOUSING)
    with pytest.raises(ValidationError) as err:
        notices.reply(db_session, notice.id, DZG_OFFICER, "   ")
    assert err.value.field == "measures"
    assert _count(db_session, NoticeReply) == 0


def test_row_level_security_keeps_replies_to_their_street(db_session, connection) -> None:
    _district(db_session)
    notice = notices.issue(
        db_session, OFFICE, "通报", "2026-06-20", [{"street": DZG}, {"street": ZSM}]
    )
    notices.reply(db_session, notice.id, DZG_OFFICER, "大直沽的整改措施")
    notices.reply(db_session, notice.id, ZSM_OFFICER, "中山门的整改措施")
    db_session.flush()
    query = text("SELECT measures FROM notice_replies ORDER BY id")
    with as_app(connection, "street_officer", ZSM):
        assert connection.execute(query).scalars().all() == ["中山门的整改措施"]
        assert connection.execute(text("SELECT count(*) FROM notice_streets")).scalar() == 1
        assert connection.execute(text("SELECT count(*) FROM notices")).scalar() == 1
    with as_app(connection, "street_officer", "120102001"):  # not named
        assert connection.execute(text("SELECT count(*) FROM notices")).scalar() == 0
    with as_app(connection, "bureau_housing"):
        assert connection.execute(query).scalars().all() == []
    with as_app(connection, "district_officer"):
        assert len(connection.execute(query).scalars().all()) == 2
    # a street cannot write a reply for another street, nor issue a notice
    dzg_row = connection.execute(
        text(
            "SELECT ns.id, ns.street_id FROM notice_streets ns JOIN streets s"
            " ON s.id = ns.street_id WHERE s.code = :c"
        ),
        {"c": DZG},
    ).one()
    insert = text(
        "INSERT INTO notice_replies (notice_street_id, notice_id, district_code, street_id,"
        " measures, replied_by, replied_at, late) VALUES (:ns, :n, '120102', :st, 'x', 'x',"
        " now(), false)"
    )
    values = {"ns": dzg_row[0], "n": notice.id, "st": dzg_row[1]}
    with as_app(connection, "street_officer", ZSM), pytest.raises(Exception, match="row-level"):
        connection.execute(insert, values)
    with as_app(connection, "street_officer", DZG):
        connection.execute(insert, values)  # its own street: allowed
    with as_app(connection, "street_officer", DZG), pytest.raises(Exception, match="row-level"):
        connection.execute(
            text(
                "INSERT INTO notices (district_code, year, seq, number, title, source, issued_on,"
                " reply_due, issued_by, issued_at) VALUES ('120102', 2026, 9, 'x', 'x',"
                " 'choice', '2026-06-15', '2026-06-20', 'x', now())"
            )
        )


def test_audit_trail_records_the_issue_and_the_reply(db_session) -> None:
    _district(db_session)
    notice = notices.issue(db_session, OFFICE, "通报", "2026-06-20", [{"street": DZG}])
    notices.reply(db_session, notice.id, DZG_OFFICER, "整改")
    db_session.flush()
    tables = (
        db_session.execute(
            text(
                "SELECT DISTINCT table_name FROM audit.events "
                "WHERE table_name IN ('notices', 'notice_streets', 'notice_replies')"
            )
        )
        .scalars()
        .all()
    )
    assert set(tables) == {"notices", "notice_streets", "notice_replies"}


# ---------------------------------------------------------------- API and pages


def test_api_issue_read_reply_and_scope(client, auth, db_session) -> None:
    _district(db_session)
    office = auth.headers("区办王", "district_officer")
    dzg = auth.headers("大直沽李", "street_officer", DZG)
    zsm = auth.headers("中山门赵", "street_officer", ZSM)
    housing = auth.headers("住建委", "bureau_housing")
    body = {"title": "通报", "reply_due": "2026-06-25", "streets": [{"street": DZG}]}
    assert client.post("/api/v1/notices", json=body, headers=dzg).status_code == 403
    bad = client.post("/api/v1/notices", json={**body, "streets": []}, headers=office)
    assert bad.status_code == 422 and bad.json["field"] == "streets"
    bad = client.post("/api/v1/notices", json={**body, "reply_due": "2026-01-01"}, headers=office)
    assert bad.status_code == 422 and bad.json["field"] == "reply_due"
    made = client.post("/api/v1/notices", json=body, headers=office)
    assert made.status_code == 201, made.json
    nid = made.json["id"]
    assert made.json["streets"][0]["figures"]["total"] == 3
    assert client.get(f"/api/v1/notices/{nid}", headers=zsm).status_code == 404
    assert client.get(f"/api/v1/notices/{nid}", headers=housing).status_code == 403
    assert client.get("/api/v1/notices", headers=zsm).json == {"notices": []}
    refused = client.post(f"/api/v1/notices/{nid}/replies", json={"measures": "x"}, headers=zsm)
    assert refused.status_code == 404
    empty = client.post(f"/api/v1/notices/{nid}/replies", json={}, headers=dzg)
    assert empty.status_code == 422 and empty.json["field"] == "measures"
    ok = client.post(f"/api/v1/notices/{nid}/replies", json={"measures": "拆除"}, headers=dzg)
    assert ok.status_code == 201 and ok.json["late"] is False
    listed = client.get(f"/api/v1/notices?street={DZG}", headers=office).json["notices"]
    assert [(r["number"], r["reply_state"]) for r in listed] == [
        ("治违办通报〔2026〕1号", "answered")
    ]


def test_pages_issue_from_the_lagging_list_reply_and_docx(client, auth, db_session) -> None:
    _district(db_session)
    auth.login(client, "区办王", "district_officer")
    form = client.get("/notices/new")
    assert form.status_code == 200 and 'class="lagging"' in form.text
    token = csrf(client, "/notices/new")
    refused = client.post(
        "/notices",
        data={"csrf_token": token, "title": "通报", "reply_due": "2026-06-25", "street": []},
    )
    assert refused.status_code == 422 and "请至少选择一个要通报的街道" in refused.text
    issued = client.post(
        "/notices",
        data={
            "csrf_token": token,
            "title": "关于进展滞后街道的通报",
            "reply_due": "2026-06-25",
            "street": [DZG, ZSM],
            f"reason_{DZG}": "巡查发现新增违建未及时处置",
        },
    )
    assert issued.status_code == 302
    nid = db_session.scalar(select(Notice.id))
    page = client.get(f"/notices/{nid}")
    assert "治违办通报〔2026〕1号" in page.text and "巡查发现新增违建未及时处置" in page.text
    doc = client.get(f"/notices/{nid}.docx")
    assert doc.status_code == 200
    document = Document(BytesIO(doc.data))
    cells = [c.text for row in document.tables[0].rows for c in row.cells]
    assert "大直沽街道" in cells and "中山门街道" in cells
    assert "3" in cells and "巡查发现新增违建未及时处置" in " ".join(cells)
    assert any("治违办通报〔2026〕1号" in p.text for p in document.paragraphs)
    # 中山门 replies through its page; 大直沽 cannot see 中山门's reply
    auth.login(client, "中山门赵", "street_officer", ZSM)
    mine = client.get(f"/notices/{nid}")
    assert "大直沽" not in mine.text.split('id="notice-streets"')[1]
    token = csrf(client, f"/notices/{nid}")
    empty = client.post(f"/notices/{nid}/reply", data={"csrf_token": token, "measures": " "})
    assert empty.status_code == 422 and "缺少整改措施" in empty.text
    sent = client.post(
        f"/notices/{nid}/reply", data={"csrf_token": token, "measures": "中山门整改：限期拆除"}
    )
    assert sent.status_code == 302
    auth.login(client, "大直沽李", "street_officer", DZG)
    assert "中山门整改" not in client.get(f"/notices/{nid}").text
    auth.login(client, "城东某", "street_officer", "120102001")
    assert client.get(f"/notices/{nid}").status_code == 404
    assert client.get(f"/notices/{nid}.docx").status_code == 404
    auth.login(client, "区办王", "district_officer")
    assert "中山门整改：限期拆除" in client.get(f"/notices/{nid}").text
    listing = client.get(f"/notices?street={ZSM}").text
    assert "已回复" in listing
