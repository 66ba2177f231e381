"""One turn of the leading group's loop in headless Chromium: the office issues a 通报 from
the lagging list, the street finds it on its to-do list and replies with its measures, the
office reads the reply; the .docx opens with python-docx and holds the streets and figures."""

from __future__ import annotations

from io import BytesIO

import pytest
from docx import Document

from tests.support.browser import log_in, serve
from tests.support.workflow import DZG, ZSM, make_site

pytestmark = pytest.mark.browser


@pytest.fixture()
def live_url(app_ctx, auth):
    """The app on a free local port, its requests in the test's transaction (one at a time):
    three sites of 大直沽 (one overdue) and one of 中山门, no monthly report (both lag)."""
    from gis_app.http.database import session

    auth.user("browser.office", "district_officer")
    auth.user("browser.zsm", "street_officer", ZSM)
    make_site(session(), committed_deadline="2026-06-01")
    make_site(session())
    make_site(session())
    make_site(session(), lon=117.2620, lat=39.1010)
    session().commit()
    with serve(app_ctx) as url:
        yield url


def test_issue_from_the_lagging_list_reply_and_read_the_reply(live_url, tab, tmp_path) -> None:
    page = tab.page
    log_in(tab, live_url, "browser.office")
    page.goto(f"{live_url}/dashboard")
    lagging = page.locator("#lagging")
    assert "大直沽街道" in lagging.inner_text() and "中山门街道" in lagging.inner_text()
    page.click("#issue-notice")
    # the lagging streets are ticked; the office keeps both and sets the reply date
    assert page.get_by_label("通报大直沽街道").is_checked()
    assert page.get_by_label("通报中山门街道").is_checked()
    page.fill("input[name=reply_due]", "2026-06-25")
    page.get_by_label("中山门街道补充理由").fill("月报长期未报送")
    with page.expect_navigation():
        page.get_by_role("button", name="签发通报").click()
    assert page.locator("#notice-number").inner_text() == "治违办通报〔2026〕1号"
    rows = page.locator("#notice-streets tbody tr")
    assert rows.count() == 2
    with page.expect_download() as download:
        page.click("#notice-docx")
    path = tmp_path / "notice.docx"
    download.value.save_as(path)
    document = Document(BytesIO(path.read_bytes()))
    table = [[c.text for c in row.cells] for row in document.tables[0].rows]
    by_street = {row[0]: row for row in table[1:]}
    assert set(by_street) == {"大直沽街道", "中山门街道"}
    assert by_street["大直沽街道"][2:6] == ["3", "0", "0.0%", "1"]  # 点位, 已销账, 销账率, 逾期
    assert "月报长期未报送" in by_street["中山门街道"][1]
    assert any("2026-06-25" in p.text for p in document.paragraphs)

    # 中山门 finds it on its to-do list (home page), opens it, replies
    page.context.clear_cookies()
    log_in(tab, live_url, "browser.zsm")
    todo = page.locator("#todo")
    assert "通报待回复整改措施" in todo.inner_text()
    assert int(page.locator("#todo-nav .count").inner_text()) >= 1
    with page.expect_navigation():
        todo.get_by_role("link", name="治违办通报〔2026〕1号").click()
    assert page.locator("#notice-streets tbody tr").count() == 1  # its own row only
    page.get_by_label("整改措施").fill("一、6月底前报送5月月报；二、明确专人负责。")
    with page.expect_navigation():
        page.get_by_role("button", name="报送整改措施").click()
    assert "整改措施已报送" in page.locator(".flash").inner_text()
    assert "通报待回复整改措施" not in page.goto(f"{live_url}/todo").text()

    # the office reads the reply; 大直沽 is still awaited
    page.context.clear_cookies()
    log_in(tab, live_url, "browser.office")
    page.goto(f"{live_url}/notices")
    assert page.locator(f"#notice-list tr[data-street='{ZSM}']").get_attribute("data-state") == (
        "answered"
    )
    assert page.locator(f"#notice-list tr[data-street='{DZG}']").get_attribute("data-state") == (
        "due"
    )
    page.locator(f"#notice-list tr[data-street='{ZSM}'] a").click()
    reply = page.locator(f"#notice-replies div[data-street='{ZSM}'] blockquote")
    assert "明确专人负责" in reply.inner_text()
    assert tab.problems() == []
