"""住建委's review in headless Chromium: a street submits the 规范治理 plan of a renovation site,
住建委 finds it on its to-do list and returns it with comments, the street finds the return on
its own list, revises and resubmits, 住建委 approves it and records the works."""

from __future__ import annotations

import pytest

from tests.support.browser import log_in, serve
from tests.support.workflow import DZG, make_site

pytestmark = pytest.mark.browser


@pytest.fixture()
def live_url(app_ctx, auth):
    """The app on a free local port, its requests in the test's transaction (one at a time),
    with one renovation site of 大直沽."""
    from gis_app.http.database import session

    auth.user("browser.dzg", "street_officer", DZG)
    auth.user("browser.housing", "bureau_housing")
    make_site(session(), code="RENO-1", flag_renovation=True, disposition="rectify")
    session().commit()
    with serve(app_ctx) as url:
        yield url


def test_submit_return_resubmit_approve_and_record_works(live_url, tab) -> None:
    page = tab.page
    log_in(tab, live_url, "browser.dzg")
    page.goto(f"{live_url}/bureau/renovation-plans")
    page.get_by_label("点位编号").fill("RENO-1")
    page.get_by_label("治理内容").fill("结合旧楼区改造拆除外挂构筑物，恢复外立面")
    page.get_by_label("步骤1", exact=True).fill("拆除外挂构筑物")
    page.get_by_label("步骤1日期").fill("2026-08-31")
    with page.expect_navigation():
        page.get_by_role("button", name="报送区住建委审批").click()
    assert page.locator("#plan-status").inner_text() == "待住建委审核"
    plan_url = page.url

    page.context.clear_cookies()
    log_in(tab, live_url, "browser.housing")  # its home: the housing page, with its queue
    assert "待审核的规范治理方案（1）" in page.locator("#plan-queue").inner_text()
    assert int(page.locator("#todo-nav .count").inner_text()) >= 1
    with page.expect_navigation():
        page.click("#todo-nav")
    todo = page.locator("#todo")
    assert "改造治理方案待审核" in todo.inner_text()
    with page.expect_navigation():
        todo.get_by_role("link", name="RENO-1 第 1 次报送", exact=False).click()
    page.get_by_label("审核意见").fill("请补充入户动员步骤")
    with page.expect_navigation():
        page.get_by_role("button", name="退回修改").click()
    assert page.locator("#plan-status").inner_text() == "已退回待修改"

    page.context.clear_cookies()
    log_in(tab, live_url, "browser.dzg")
    todo = page.locator("#todo")
    assert "改造治理方案被退回" in todo.inner_text() and "请补充入户动员步骤" in todo.inner_text()
    with page.expect_navigation():
        todo.get_by_role("link", name="RENO-1", exact=False).click()
    # the form holds the plan as submitted; the street puts a step before it
    assert page.get_by_label("步骤1", exact=True).input_value() == "拆除外挂构筑物"
    page.get_by_label("步骤1", exact=True).fill("入户动员")
    page.get_by_label("步骤1日期").fill("2026-07-01")
    page.get_by_label("步骤2", exact=True).fill("拆除外挂构筑物")
    page.get_by_label("步骤2日期").fill("2026-08-31")
    with page.expect_navigation():
        page.get_by_role("button", name="重新报送区住建委").click()
    assert page.locator("#plan-status").inner_text() == "待住建委审核"
    assert page.locator("#plan-steps li").count() == 2

    page.context.clear_cookies()
    log_in(tab, live_url, "browser.housing")
    page.goto(plan_url)
    with page.expect_navigation():
        page.get_by_role("button", name="批准").click()
    assert page.locator("#plan-status").inner_text() == "已批准"
    page.get_by_label("施工内容").fill("拆除外挂构筑物 2 处")
    with page.expect_navigation():
        page.get_by_role("button", name="记录施工").click()
    assert "拆除外挂构筑物 2 处" in page.locator("#works-done").inner_text()
    assert tab.problems() == []
