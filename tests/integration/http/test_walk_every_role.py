"""Each role sees only what it can use (issue 15, point 5): log in as every role, follow every
link of every page reachable from the home page, and fail on a link that answers 403 or 404
(or breaks) for that role. Links to the same kind of page (the same path with other ids or
other query values) are followed a few times, not all of them."""

from __future__ import annotations

import html as htmllib
import re
from collections import Counter, deque
from datetime import date
from urllib.parse import parse_qsl, urlsplit

import pytest

from gis_app.core.actor import ROLES, STREET_ROLES
from gis_app.demo.loader import load_demo
from tests.support.workflow import DZG

HREF = re.compile(r"<a\b[^>]*\bhref=\"([^\"]+)\"", re.I)
#: links that end the session or are not pages of the app
SKIP = ("/logout", "/static/", "/login")
PER_KIND = 2  # pages of one kind (path with ids, query keys) followed per role
MAX_PAGES = 160


def _kind(url: str) -> str:
    parts = urlsplit(url)
    keys = sorted(k for k, _ in parse_qsl(parts.query, keep_blank_values=True))
    return re.sub(r"\d+", "N", parts.path) + "?" + "&".join(keys)


def _links(page: str) -> list[str]:
    out = []
    for raw in HREF.findall(page):
        href = htmllib.unescape(raw).split("#")[0]
        if not href.startswith("/") or href.startswith("//"):
            continue
        if href.startswith(SKIP):
            continue
        out.append(href)
    return out


def walk(client) -> tuple[list[str], list[str]]:
    """Every page reachable from the home page; (pages seen, dead links with their origin)."""
    seen: set[str] = set()
    kinds: Counter[str] = Counter()
    queue = deque([("/", "(start)")])
    dead: list[str] = []
    visited: list[str] = []
    while queue and len(visited) < MAX_PAGES:
        url, origin = queue.popleft()
        if url in seen or kinds[_kind(url)] >= PER_KIND:
            continue
        seen.add(url)
        kinds[_kind(url)] += 1
        response = client.get(url, follow_redirects=True)
        visited.append(url)
        if response.status_code >= 400:
            dead.append(f"{url} → {response.status_code} (linked from {origin})")
            response.close()
            continue
        if response.mimetype == "text/html":
            queue.extend((link, url) for link in _links(response.get_data(as_text=True)))
        response.close()
    return visited, dead


@pytest.fixture()
def demo(app, connection) -> None:
    from gis_app.http.database import session

    with app.app_context():
        load_demo(session(), n_sites=40, seed=5, today=date(2026, 6, 15))
        session().commit()


@pytest.mark.slow
@pytest.mark.parametrize("role", list(ROLES))
def test_no_link_a_role_sees_is_refused_to_it(client, auth, demo, role: str) -> None:
    street = DZG if role in STREET_ROLES else None
    auth.login(client, f"walk.{role}", role, street)
    visited, dead = walk(client)
    assert len(visited) > 1, f"{role}: nothing linked from the home page"
    assert dead == [], f"{role}: links refused to the role:\n" + "\n".join(dead)


def _nav(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return page


def test_street_roles_see_no_api_links_nor_what_they_cannot_do(client, auth, demo) -> None:
    auth.login(client, "walk.insp", "inspector", DZG)
    home = _nav(client)
    assert "接口文档" not in home and 'id="data-api"' not in home
    assert "/api/v1/" not in home and "/openapi" not in home
    assert "延期审批" not in home and "延期申请" not in home
    assert "汇总表" not in client.get("/reports").get_data(as_text=True)
    auth.login(client, "walk.officer", "street_officer", DZG)
    home = _nav(client)
    assert "延期审批" not in home and "延期申请" in home
    assert "接口文档" not in home
    auth.login(client, "walk.office", "district_officer")
    home = _nav(client)
    assert "延期审批" in home and "接口文档" in home and 'id="data-api"' in home
    assert "汇总表" in client.get("/reports").get_data(as_text=True)


def test_a_new_account_defaults_to_the_least_privileged_role(client, auth) -> None:
    auth.login(client, "walk.admin", "district_admin")
    page = client.get("/admin/users").get_data(as_text=True)
    form = page[page.index('name="role"') :]
    selected = re.search(r'<option value="(\w+)" selected>', form)
    assert selected and selected[1] == "agency", selected
