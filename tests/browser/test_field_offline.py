"""Field work without signal (issue 19) in Chromium at phone size (390 × 844, GPS granted):
the field pages as an installable web app; a patrol taken along online and worked offline
(stop ticks, findings with photos, a spot-check result) through a closed and reopened page;
the queue sent once each when the connection is back, even when answers are lost on the way;
what changed on the server meanwhile shown to the inspector item by item."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from gis_app.core.actor import Actor
from tests.support.browser import log_in, serve
from tests.support.field_browser import PHONE, phone_tab
from tests.support.workflow import OFFICE, ZSM, image_bytes, make_site

pytestmark = pytest.mark.browser

GPS = (117.2626, 39.0964)  # inside 中山门, about 500 m from the sites
SITES = [(117.2620, 39.1010), (117.2630, 39.1000), (117.2610, 39.1020)]
NEAR_FIRST = (117.2621, 39.1011)  # about 14 m from PH-1: the server asks
FIELD_TIME = "2026-06-15T09:20:00+08:00"  # the phone's clock; the server's is 10:00
INSPECTOR = "field.insp.zsm"
CHECKED = (117.2381, 39.1100)  # a closed site of 大直沽, sampled for a spot check


@dataclass
class Field:
    url: str
    patrol_id: int
    stop_ids: list[int]
    site_ids: list[int]
    batch_id: int
    checked_site: int


@pytest.fixture()
def field(app_ctx, auth, connection, tmp_path, monkeypatch) -> Iterator[Field]:
    from gis_app.features.patrol import plans
    from gis_app.http.database import session

    monkeypatch.setitem(app_ctx.config, "PHOTO_DIR", str(tmp_path / "photos"))
    user_id = auth.user(INSPECTOR, "inspector", ZSM, display_name="中山门队员")
    sites = [
        make_site(session(), OFFICE, code=f"PH-{i}", lon=lon, lat=lat, status="new")
        for i, (lon, lat) in enumerate(SITES, start=1)
    ]
    closed = make_site(session(), OFFICE, code="SC-1", status="closed")
    inspector = Actor(INSPECTOR, "inspector", ZSM)
    patrol, _plan = plans.create_patrol(
        session(),
        {"title": "今日巡查", "area": {"kind": "street", "street": ZSM}, "start": list(GPS)},
        inspector,
        "120102",
    )
    assert patrol is not None
    stops = [
        r[0]
        for r in connection.execute(
            text("SELECT id FROM patrol_stops WHERE patrol_id = :p ORDER BY ord"),
            {"p": patrol.id},
        )
    ]
    pool = connection.execute(
        text(
            "INSERT INTO inspectors (district_code, name, street_code, user_id, created_by)"
            " VALUES ('120102', '中山门队员', :st, :u, 'test') RETURNING id"
        ),
        {"u": user_id, "st": ZSM},
    ).scalar_one()
    batch = connection.execute(
        text(
            "INSERT INTO sample_batches (district_code, title, method, allocation, seed,"
            " frame_size, sample_size, frame_sha256, created_by) VALUES ('120102', '离线抽查',"
            " 'srs', 'proportional', 1, 1, 1, repeat('0', 64), 'test') RETURNING id"
        )
    ).scalar_one()
    connection.execute(
        text(
            "INSERT INTO sample_frame_units (batch_id, ord, district_code, site_id, stratum,"
            " lon, lat, x, y) SELECT :b, 1, '120102', id, '120102002', ST_X(geom), ST_Y(geom),"
            " 0, 0 FROM sites WHERE id = :s"
        ),
        {"b": batch, "s": closed.id},
    )
    connection.execute(
        text(
            "INSERT INTO sample_sites (batch_id, district_code, site_id, stratum, ord,"
            " frame_ord, inspector_id) VALUES (:b, '120102', :s, '120102002', 1, 1, :i)"
        ),
        {"b": batch, "s": closed.id, "i": pool},
    )
    with serve(app_ctx) as url:
        yield Field(url, patrol.id, stops, [s.id for s in sites], batch, closed.id)


@pytest.fixture()
def phone(chromium) -> Iterator[Any]:
    with phone_tab(chromium, GPS, service_workers="allow") as tab:
        tab.page.context.clock.set_fixed_time(FIELD_TIME)
        yield tab


def _controlled(page: Any) -> None:
    """Wait until the service worker controls the page (the first visit installs it)."""
    page.evaluate("() => navigator.serviceWorker.ready")
    if not page.evaluate("() => !!navigator.serviceWorker.controller"):
        page.reload()
    page.wait_for_function("() => !!navigator.serviceWorker.controller")


def _ready(page: Any) -> None:
    page.wait_for_function("() => document.documentElement.dataset.fieldReady === '1'")


def _go_offline(page: Any, blocked: list[str]) -> None:
    """No network at all: the browser says it is offline, and any request that would still
    leave it (the page's or the service worker's) is refused and recorded."""

    def refuse(route: Any) -> None:
        blocked.append(route.request.url)
        route.abort("internetdisconnected")

    page.context.set_offline(True)
    page.context.route("**/*", refuse)


def _go_online(page: Any) -> None:
    page.context.unroute_all(behavior="ignoreErrors")
    page.context.set_offline(False)


def _photo(tmp_path, name: str, colour: tuple[int, int, int], lonlat) -> str:
    from datetime import datetime

    path = tmp_path / name
    path.write_bytes(image_bytes(colour, taken=datetime(2026, 6, 15, 9, 19), lonlat=lonlat))
    return str(path)


def _record_finding(page: Any, url: str, patrol_id: int, note: str, photo: str) -> None:
    page.locator("a.big-button", has_text="记录发现").click()
    page.wait_for_url(f"{url}/patrols/findings/new?patrol_id={patrol_id}")
    page.wait_for_function("() => document.getElementById('lon').value !== ''")
    page.locator("#photos").set_input_files(photo)
    page.fill("#note", note)
    with page.expect_navigation():
        page.click("#finding-submit")
    page.wait_for_url(f"{url}/patrols/{patrol_id}*")
    _ready(page)


def _waiting(page: Any) -> int:
    return page.locator("#fq-items li.fq-waiting").count()


def test_the_field_pages_are_an_installable_app(field, phone) -> None:
    page = phone.page
    log_in(phone, field.url, INSPECTOR)
    page.goto(f"{field.url}/patrols/{field.patrol_id}")
    href = page.locator("link[rel=manifest]").get_attribute("href")
    manifest = page.evaluate(f"() => fetch('{href}').then(r => r.json())")
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/patrols/"
    assert manifest["scope"] == "/" and manifest["lang"] == "zh-CN"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        got = page.evaluate(
            "src => fetch(src).then(r => r.blob()).then(b => createImageBitmap(b))"
            ".then(i => i.width + 'x' + i.height)",
            icon["src"],
        )
        assert got == icon["sizes"]
    _controlled(page)
    scope = page.evaluate("() => navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == f"{field.url}/"
    headers = page.evaluate(
        "() => fetch('/sw.js').then(r => [r.headers.get('Service-Worker-Allowed'),"
        " r.headers.get('Cache-Control'), r.headers.get('Content-Type')])"
    )
    assert headers[0] == "/" and headers[1] == "no-cache" and "javascript" in headers[2]
    # the app's own files come from the worker's cache once stored: offline they still load
    _ready(page)
    blocked: list[str] = []
    _go_offline(page, blocked)
    status = page.evaluate("() => fetch('/static/css/patrol.css').then(r => r.status)")
    assert status == 200
    # a page that was never opened says so, in Chinese, instead of the browser's error
    page.goto(f"{field.url}/patrols/coverage")
    assert "当前无网络" in page.content()
    _go_online(page)
    assert [p for p in phone.problems() if "503" not in p and "DISCONNECTED" not in p] == []


def test_a_day_offline_is_sent_once_each_even_when_answers_are_lost(
    field, phone, connection, tmp_path
) -> None:
    page = phone.page
    context = page.context
    url = field.url
    log_in(phone, url, INSPECTOR)
    # online: the spot-check batch and the patrol are opened (the patrol is taken along)
    page.goto(f"{url}/sampling/batches/{field.batch_id}")
    _controlled(page)
    _ready(page)
    page.goto(f"{url}/patrols/{field.patrol_id}")
    _ready(page)
    packs = page.locator("#fq-packs").inner_text()
    assert "今日巡查（保存于" in packs and "项" in packs, packs

    blocked: list[str] = []
    _go_offline(page, blocked)
    page.reload()  # the route page opens without a connection
    _ready(page)
    assert page.locator("#stops li.stop").count() == 3
    assert "离线" in page.locator("#fq-net").inner_text()
    assert page.locator("#route-map .leaflet-container").count() == 1
    page.wait_for_function("() => !!document.getElementById('route-map').dataset.position")
    for i in range(3):
        page.locator("#stops li.stop").nth(i).locator("button.tick-button").click()
        page.wait_for_function(
            f"() => document.querySelectorAll('#fq-items li').length === {i + 1}"
        )
    assert page.locator("#stops li.stop.queued").count() == 3
    assert "待发送" in page.locator("#stops li.stop").first.inner_text()

    context.set_geolocation({"longitude": NEAR_FIRST[0], "latitude": NEAR_FIRST[1]})
    _record_finding(
        page,
        url,
        field.patrol_id,
        "PH-1 旁又搭彩钢棚",
        _photo(tmp_path, "a.jpg", (200, 30, 30), NEAR_FIRST),
    )
    context.set_geolocation({"longitude": GPS[0], "latitude": GPS[1]})
    _record_finding(
        page, url, field.patrol_id, "路口新建砖房", _photo(tmp_path, "b.jpg", (30, 30, 200), GPS)
    )
    page.goto(f"{url}/sampling/batches/{field.batch_id}")  # stored when opened online
    row = page.locator(f"#site-{field.checked_site}")
    row.locator("select[name=result]").select_option("fail")
    row.locator("input[name=notes]").fill("违建复建")
    row.locator("button").click()
    page.wait_for_function("() => document.querySelectorAll('#fq-items li').length === 6")

    # the phone closes the page; opened again, still offline, the queue is there
    page.close()
    page = context.new_page()
    page.goto(f"{url}/patrols/{field.patrol_id}")
    _ready(page)
    assert _waiting(page) == 6
    marks = page.locator("#fq-items .fq-mark").all_inner_texts()
    assert marks == ["待发送"] * 6
    assert not any("/api/" in u for u in blocked)  # nothing tried to leave while offline
    assert (
        connection.execute(
            text("SELECT count(*) FROM patrol_stops WHERE patrol_id = :p AND visited"),
            {"p": field.patrol_id},
        ).scalar_one()
        == 0
    )

    # back online: the answers of the 3rd and the 6th request are lost after the server
    # carried them out
    calls: list[tuple[str, int]] = []

    def lossy(route: Any) -> None:
        response = route.fetch()
        calls.append((route.request.url.split("/api/v1")[1], response.status))
        if len(calls) in (3, 6):
            route.abort("connectionreset")
        else:
            route.fulfill(response=response)

    page.route("**/api/v1/**", lossy)
    _go_online(page)
    page.wait_for_function("() => document.getElementById('fq-error')", timeout=30_000)
    assert len(calls) == 3 and _waiting(page) == 4
    page.click("#fq-send")
    page.wait_for_function(
        "() => document.getElementById('fq-error') && !document.querySelector('#fq-send:disabled')"
        " && document.querySelectorAll('#fq-items li.fq-waiting').length === 2",
        timeout=30_000,
    )
    page.click("#fq-send")
    page.wait_for_function(
        "() => document.querySelectorAll('#fq-items li.fq-waiting').length === 0", timeout=30_000
    )
    assert [status for _, status in calls] == [200, 200, 200, 200, 409, 201, 201, 200]
    assert calls[3][0] == calls[2][0] and calls[6][0] == calls[5][0] == "/findings"

    # the finding 14 m from PH-1 came back as a question, not as a duplicate site
    question = page.locator("#fq-items li.fq-question")
    assert question.count() == 1
    assert "PH-1" in question.inner_text() and "请确认是否同一处" in question.inner_text()
    assert (
        connection.execute(
            text("SELECT count(*) FROM sites WHERE note = 'PH-1 旁又搭彩钢棚'")
        ).scalar_one()
        == 0
    )
    question.locator("input[name=attach_to]").first.check()
    question.locator("button[type=submit]").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#fq-items li.fq-sent').length === 6", timeout=30_000
    )

    stops = connection.execute(
        text("SELECT visited, checked_at, recorded_at FROM patrol_stops WHERE patrol_id = :p"),
        {"p": field.patrol_id},
    ).all()
    assert len(stops) == 3 and all(s.visited for s in stops)
    field_time = _instant(FIELD_TIME)
    assert {s.recorded_at for s in stops} == {field_time}  # when it happened in the field
    assert all(s.checked_at > field_time for s in stops)  # when the server got it
    found = connection.execute(
        text(
            "SELECT f.action, f.site_id, f.note, f.recorded_at, jsonb_array_length(f.photo_ids)"
            " FROM patrol_findings f WHERE f.patrol_id = :p ORDER BY f.id"
        ),
        {"p": field.patrol_id},
    ).all()
    assert [(f.action, f.note, f.recorded_at, f[4]) for f in found] == [
        ("created", "路口新建砖房", field_time, 1),
        ("attached", "PH-1 旁又搭彩钢棚", field_time, 1),
    ]
    assert found[1].site_id == field.site_ids[0]
    assert (
        connection.execute(text("SELECT count(*) FROM sites WHERE source = 'patrol'")).scalar_one()
        == 1
    )  # one new site, however often its request went out
    assert (
        connection.execute(
            text("SELECT count(*) FROM photos WHERE site_id = :s"), {"s": found[0].site_id}
        ).scalar_one()
        == 1
    )
    result = connection.execute(
        text("SELECT result, notes, recorded_at, reopened FROM sample_sites WHERE batch_id = :b"),
        {"b": field.batch_id},
    ).one()
    assert tuple(result) == ("fail", "违建复建", field_time, True)  # the fail reopened it
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1
    problems = [
        p
        for p in phone.problems()
        if not any(x in p for x in ("CONNECTION_RESET", "DISCONNECTED", "status of 409"))
    ]
    assert problems == []


def _instant(iso: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(iso)


def test_what_changed_on_the_server_meanwhile_is_shown_item_by_item(
    field, phone, connection, tmp_path
) -> None:
    from gis_app.features.patrol import plans
    from gis_app.http.database import session

    page = phone.page
    context = page.context
    url = field.url
    log_in(phone, url, INSPECTOR)
    page.goto(f"{url}/patrols/{field.patrol_id}")
    _controlled(page)
    _ready(page)
    blocked: list[str] = []
    _go_offline(page, blocked)
    page.reload()
    _ready(page)
    page.locator("#stops li.stop").nth(1).locator("button.tick-button").click()
    context.set_geolocation({"longitude": NEAR_FIRST[0], "latitude": NEAR_FIRST[1]})
    photo = _photo(tmp_path, "c.jpg", (10, 120, 10), NEAR_FIRST)
    _record_finding(page, url, field.patrol_id, "PH-1 旁复建", photo)
    assert _waiting(page) == 2

    # meanwhile the office closes PH-1 (the site the finding lies next to)
    connection.execute(text("RESET ROLE"))  # as the owner, not the last request's scope
    connection.execute(
        text("UPDATE sites SET status = 'closed' WHERE id = :s"), {"s": field.site_ids[0]}
    )
    _go_online(page)
    page.wait_for_function(
        "() => document.querySelectorAll('#fq-items li.fq-waiting').length === 0", timeout=30_000
    )
    question = page.locator("#fq-items li.fq-question")
    assert question.count() == 1
    said = question.inner_text()
    assert "已销账（如现场复建，请确认为回潮）" in said and "确认即为回潮，重新打开" in said
    assert "待确认" in said
    # nothing stored for the finding: no new site, no finding, PH-1 not reopened
    connection.execute(text("RESET ROLE"))  # the last request's street scope, gone
    assert connection.execute(text("SELECT count(*) FROM patrol_findings")).scalar_one() == 0
    assert (
        connection.execute(text("SELECT count(*) FROM sites WHERE source = 'patrol'")).scalar_one()
        == 0
    )
    assert (
        connection.execute(
            text("SELECT status FROM sites WHERE id = :s"), {"s": field.site_ids[0]}
        ).scalar_one()
        == "closed"
    )

    # offline again, the next stop ticked; meanwhile the office ends the patrol
    _go_offline(page, blocked)
    page.locator("#stops li.stop").nth(2).locator("button.tick-button").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#fq-items li.fq-waiting').length === 1"
    )
    plans.finish_patrol(session(), field.patrol_id, OFFICE)
    session().flush()
    _go_online(page)
    refused = page.locator("#fq-items li.fq-refused")
    refused.wait_for(timeout=30_000)
    said = refused.inner_text()
    assert "巡查已经结束，不能再勾选" in said and "服务器未保存此项" in said
    assert "未被接受" in said
    connection.execute(text("RESET ROLE"))
    visited = connection.execute(
        text("SELECT ord FROM patrol_stops WHERE patrol_id = :p AND visited ORDER BY ord"),
        {"p": field.patrol_id},
    ).all()
    assert [v.ord for v in visited] == [2]  # the tick sent before the patrol ended
    # the question and the refusal stay until the inspector deals with them
    assert page.locator("#fq-items li.fq-question").count() == 1
    problems = [p for p in phone.problems() if "DISCONNECTED" not in p and "status of 409" not in p]
    assert problems == []


def test_the_offline_basemap_is_drawn_on_the_route_map_offline(
    field, phone, app_ctx, tmp_path, monkeypatch
) -> None:
    """A raster basemap imported by the command is drawn under the route map, taken along
    with the patrol, and drawn again with no connection."""
    from click.testing import CliRunner

    from gis_app.cli import cli
    from tests.support.tilesets import png, tile_of, write_mbtiles

    monkeypatch.setitem(app_ctx.config, "DATA_DIR", str(tmp_path / "data"))
    tiles = {}
    for z in range(13, 19):
        x0, y0 = tile_of(117.2590, 39.1040, z)
        x1, y1 = tile_of(117.2650, 39.0950, z)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                tiles[(z, x, y)] = png((230, 220 - z * 5, 180))
    path = write_mbtiles(tmp_path / "district.mbtiles", tiles, "png")
    done = CliRunner().invoke(cli, ["basemap", "import", str(path)], obj={"app": app_ctx})
    assert done.exit_code == 0, done.output
    page = phone.page
    log_in(phone, field.url, INSPECTOR)
    page.goto(f"{field.url}/patrols/{field.patrol_id}")
    _controlled(page)
    _ready(page)
    drawn = (
        "() => [...document.querySelectorAll('#route-map img.leaflet-tile')]"
        ".filter(i => i.src.includes('/basemap/tiles/') && i.complete && i.naturalWidth === 256)"
        ".length"
    )
    page.wait_for_function(f"() => ({drawn})() > 0")
    blocked: list[str] = []
    _go_offline(page, blocked)
    page.reload()
    _ready(page)
    page.wait_for_function(f"() => ({drawn})() > 0")
    assert not any("/basemap/" in u for u in blocked)  # every tile came from the phone
    _go_online(page)
    assert [p for p in phone.problems() if "DISCONNECTED" not in p] == []


def test_the_space_used_is_shown_and_a_nearly_full_phone_warned(field, phone) -> None:
    """The panel shows the space the browser reports; above 80 % of the quota it warns. The
    app asks for persistent storage once it keeps something."""
    page = phone.page
    log_in(phone, field.url, INSPECTOR)
    page.add_init_script(
        "window.__persistAsked = 0;"
        "const realPersist = navigator.storage.persist.bind(navigator.storage);"
        "navigator.storage.persist = () => { window.__persistAsked += 1; return realPersist(); };"
    )
    page.goto(f"{field.url}/patrols/{field.patrol_id}")
    _ready(page)
    shown = page.locator("#fq-storage").inner_text()
    assert shown.startswith("本机存储：已用") and "上限约" in shown
    assert "快满了" not in shown
    asked = page.evaluate(
        "() => navigator.storage.persisted().then(p => p || window.__persistAsked > 0)"
    )
    assert asked
    page.add_init_script(
        "navigator.storage.estimate = () => Promise.resolve({usage: 95e6, quota: 100e6});"
    )
    page.reload()
    _ready(page)
    warned = page.locator("#fq-storage")
    assert "已用 90.6 MB，上限约 95.4 MB" in warned.inner_text()
    assert "存储快满了" in warned.inner_text() and "error" in warned.get_attribute("class")
    assert phone.problems() == []


WATER, OTHER, BUILDING, ROAD = (169, 207, 232), (228, 224, 216), (217, 203, 187), (233, 162, 59)
# one tile's content, the same in every tile: water top left, a layer of a name no style
# knows top right, a building bottom right, a road across the bottom left, nothing between
QUARTERS: dict[str, list] = {
    "water": [(3, [[(0, 0), (1900, 0), (1900, 1900), (0, 1900), (0, 0)]], {"class": "lake"})],
    "survey_parcels": [(3, [[(2200, 0), (4096, 0), (4096, 1900), (2200, 1900), (2200, 0)]], {})],
    "building": [(3, [[(2200, 2200), (4096, 2200), (4096, 4096), (2200, 4096), (2200, 2200)]], {})],
    "transportation": [(2, [[(-100, 3072), (1900, 3072)]], {"class": "primary"})],
    "place": [(1, [[(2048, 2048)]], {"name": "测试地名"})],
}
PIXELS = """key => {
  const c = document.querySelector(`#route-map canvas.gis-basemap-tile[data-tile="${key}"]`);
  const w = c.width, copy = document.createElement('canvas');  // read back once, as a copy
  copy.width = copy.height = w;
  const ctx = copy.getContext('2d', {willReadFrequently: true});
  ctx.drawImage(c, 0, 0);
  const data = ctx.getImageData(0, 0, w, w).data;
  const pixel = (px, py) => Array.from(data.slice((py * w + px) * 4, (py * w + px) * 4 + 4));
  const at = (fx, fy) => pixel(Math.floor(fx * w), Math.floor(fy * w));
  const road = [];
  const rx = Math.floor(0.25 * w), ry = Math.floor(0.75 * w);
  for (let dy = -6; dy <= 6; dy++) road.push(pixel(rx, ry + dy));
  return {water: at(0.23, 0.23), other: at(0.77, 0.23), building: at(0.77, 0.77),
          gap: at(0.5, 0.1), centre: at(0.5, 0.5), road: road, drawn: c.dataset.drawn};
}"""


def _near(got: list[int], colour: tuple[int, int, int]) -> bool:
    return got[3] == 255 and all(abs(a - b) <= 3 for a, b in zip(got[:3], colour, strict=False))


@pytest.mark.parametrize("container", ["mbtiles", "pmtiles"])
def test_a_vector_basemap_is_drawn_on_the_route_map_offline(
    container, field, phone, app_ctx, tmp_path, monkeypatch
) -> None:
    """A vector basemap (MBTiles with gzip tiles, PMTiles with plain ones) imported by the
    command is drawn on the route map's canvases: water, buildings, roads by their layer's
    style, a layer of an unknown name by its geometry; offline from the phone's copy, and
    beyond the tile set's highest zoom (15) enlarged from its tile of zoom 15."""
    import gzip

    from click.testing import CliRunner

    from gis_app.cli import cli
    from tests.support.tilesets import mvt, tile_of, write_mbtiles, write_pmtiles

    monkeypatch.setitem(app_ctx.config, "DATA_DIR", str(tmp_path / "data"))
    tile = mvt(QUARTERS)
    tiles = {}
    for z in range(13, 16):
        x0, y0 = tile_of(117.2550, 39.1050, z)
        x1, y1 = tile_of(117.2700, 39.0920, z)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                tiles[(z, x, y)] = gzip.compress(tile) if container == "mbtiles" else tile
    if container == "mbtiles":
        path = write_mbtiles(tmp_path / "v.mbtiles", tiles, "pbf", "117.255,39.092,117.27,39.105")
    else:
        path = write_pmtiles(tmp_path / "v.pmtiles", tiles, 1, gzip_tiles=False)
    done = CliRunner().invoke(cli, ["basemap", "import", str(path)], obj={"app": app_ctx})
    assert done.exit_code == 0, done.output
    page = phone.page
    log_in(phone, field.url, INSPECTOR)
    page.goto(f"{field.url}/patrols/{field.patrol_id}")
    _controlled(page)
    _ready(page)
    blocked: list[str] = []
    _go_offline(page, blocked)
    page.reload()
    _ready(page)
    x, y = tile_of(*GPS, 15)
    centre = page.evaluate(
        "([z, x, y]) => { const n = 2 ** z, lon = (x + 0.5) / n * 360 - 180;"
        " const lat = Math.atan(Math.sinh(Math.PI * (1 - 2 * (y + 0.5) / n))) * 180 / Math.PI;"
        " return [lat, lon]; }",
        [15, x, y],
    )
    view = (
        "([lat, lon, z]) => window[document.querySelector('[data-map]').dataset.map]"
        ".setView([lat, lon], z, {animate: false})"
    )
    shown = 'key => !!document.querySelector(`#route-map canvas[data-tile="${key}"][data-drawn]`)'
    page.evaluate(view, [*centre, 15])
    page.wait_for_function(shown, arg=f"15/{x}/{y}")
    got = page.evaluate(PIXELS, f"15/{x}/{y}")
    assert got["drawn"] == "5"
    assert _near(got["water"], WATER), got
    assert _near(got["other"], OTHER), got  # a layer name no style knows: still drawn
    assert _near(got["building"], BUILDING), got
    assert any(_near(p, ROAD) for p in got["road"]), got
    assert got["gap"][3] == 0, got  # nothing drawn between the shapes

    # zoom 16 (beyond the tile set): the four quarters of the zoom-15 tile, each enlarged
    page.evaluate(view, [*centre, 16])
    for dx, dy, colour in [(0, 0, WATER), (1, 0, OTHER), (1, 1, BUILDING)]:
        key = f"16/{2 * x + dx}/{2 * y + dy}"
        page.wait_for_function(shown, arg=key)
        assert _near(page.evaluate(PIXELS, key)["centre"], colour), (key, colour)
    assert not any("/basemap/" in u for u in blocked)  # every tile came from the phone
    _go_online(page)
    assert [p for p in phone.problems() if "DISCONNECTED" not in p] == []


def test_a_vector_basemap_is_drawn_under_every_map_page(
    field, phone, auth, app_ctx, tmp_path, monkeypatch
) -> None:
    """The district map, a street map, the site form and the patrol pages draw the imported
    vector basemap under their map (online; the route page offline is tested above)."""
    import gzip

    from click.testing import CliRunner

    from gis_app.cli import cli
    from tests.support.tilesets import mvt, tile_of, write_mbtiles

    monkeypatch.setitem(app_ctx.config, "DATA_DIR", str(tmp_path / "data"))
    auth.user("field.office", "district_officer", None, display_name="区办周")
    tile = gzip.compress(mvt(QUARTERS))
    tiles = {}
    for z in range(9, 15):  # the district at every zoom the pages open at
        x0, y0 = tile_of(117.18, 39.16, z)
        x1, y1 = tile_of(117.34, 39.06, z)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                tiles[(z, x, y)] = tile
    path = write_mbtiles(tmp_path / "v.mbtiles", tiles, "pbf", "117.18,39.06,117.34,39.16")
    done = CliRunner().invoke(cli, ["basemap", "import", str(path)], obj={"app": app_ctx})
    assert done.exit_code == 0, done.output
    page = phone.page
    log_in(phone, field.url, "field.office")
    drawn = "() => !!document.querySelector('canvas.gis-basemap-tile[data-drawn=\"5\"]')"
    # a tile arriving still compressed (a proxy that dropped Content-Encoding) is unpacked
    unpacked: list[str] = []

    def compressed(route: Any) -> None:
        unpacked.append(route.request.url)
        route.fulfill(status=200, body=tile, content_type="application/vnd.mapbox-vector-tile")

    page.route("**/basemap/tiles/**", compressed)
    page.goto(f"{field.url}/map")
    page.wait_for_function(drawn, timeout=20_000)
    assert unpacked
    page.unroute("**/basemap/tiles/**")
    for where in (
        "/map",
        f"/map/street/{ZSM}",
        "/sites/new",
        f"/sites/{field.site_ids[0]}",
        f"/patrols/{field.patrol_id}",
        "/patrols/new",
    ):
        page.goto(f"{field.url}{where}")
        page.wait_for_function(drawn, timeout=20_000)
        # under the map's own layers: in Leaflet's tile pane, below the outlines
        assert page.locator(".leaflet-tile-pane .gis-basemap canvas").count() > 0, where
    assert [p for p in phone.problems() if "DISCONNECTED" not in p] == []


# the queue as IndexedDB holds it: each item's state and the sizes of the photos it carries
QUEUED = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open('gis-field');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const got = open.result.transaction('queue').objectStore('queue').getAll();
    got.onsuccess = () => resolve(got.result.map(i => ({
      key: i.key, state: i.state, photos: (i.photos || []).map(p => p.blob ? p.blob.size : null),
    })));
  };
})"""
STORED = """() => caches.open('gis-field').then(c => c.keys())
  .then(ks => ks.map(r => new URL(r.url).pathname))"""
FAR = (117.2640, 39.0975)  # 170 m from GPS, 300 m from the sites: a new site


def test_photos_waiting_to_be_sent_are_never_cleared_to_make_room(
    field, phone, connection, tmp_path
) -> None:
    """The app's own housekeeping — older patrols dropped when the phone is nearly full, and
    the inspector's 清理已带走的巡查 — removes the copies taken along and never the queue:
    the photos waiting are all there, byte for byte, and are sent when the server answers."""
    from gis_app.features.patrol import plans
    from gis_app.http.database import session

    second, _plan = plans.create_patrol(
        session(),
        {"title": "次日巡查", "area": {"kind": "street", "street": ZSM}, "start": list(GPS)},
        Actor(INSPECTOR, "inspector", ZSM),
        "120102",
    )
    assert second is not None
    page = phone.page
    context = page.context
    url = field.url
    log_in(phone, url, INSPECTOR)
    page.goto(f"{url}/patrols/{field.patrol_id}")  # the first patrol taken along
    _controlled(page)
    _ready(page)
    blocked: list[str] = []
    _go_offline(page, blocked)
    page.reload()
    _ready(page)
    photos = [
        _photo(tmp_path, "p1.jpg", (200, 60, 60), GPS),
        _photo(tmp_path, "p2.jpg", (60, 200, 60), GPS),
    ]
    page.locator("a.big-button", has_text="记录发现").click()
    page.wait_for_function("() => document.getElementById('lon').value !== ''")
    page.locator("#photos").set_input_files(photos)
    page.fill("#note", "两张照片的发现")
    with page.expect_navigation():
        page.click("#finding-submit")
    _ready(page)
    context.set_geolocation({"longitude": FAR[0], "latitude": FAR[1]})
    _record_finding(
        page, url, field.patrol_id, "一张照片的发现", _photo(tmp_path, "p3.jpg", (0, 0, 200), FAR)
    )
    before = page.evaluate(QUEUED)
    assert [(i["state"], len(i["photos"])) for i in before] == [("waiting", 2), ("waiting", 1)]
    assert all(size and size > 100 for i in before for size in i["photos"]), before

    # back online, but the server cannot take the findings yet (they stay waiting); the
    # phone is nearly full (95 %) when the inspector opens the next patrol
    context.unroute_all(behavior="ignoreErrors")
    context.route(
        "**/api/v1/findings",
        lambda route: route.fulfill(status=503, content_type="application/json", body="{}"),
    )
    page.add_init_script(
        "navigator.storage.estimate = () => Promise.resolve({usage: 95e6, quota: 100e6});"
    )
    context.set_offline(False)
    page.goto(f"{url}/patrols/{second.id}")
    _ready(page)
    assert "已移除较早带走的巡查 1 项" in page.locator("#fq-tidy").inner_text()
    packs = page.locator("#fq-packs").inner_text()
    assert "次日巡查" in packs and "今日巡查" not in packs
    stored = page.evaluate(STORED)
    assert f"/patrols/{second.id}" in stored and f"/patrols/{field.patrol_id}" not in stored
    assert page.evaluate(QUEUED) == before  # the photos waiting: all there, the same bytes
    assert "存储快满了" in page.locator("#fq-storage").inner_text()

    # the inspector clears what was taken along (from the patrol list: every patrol)
    page.goto(f"{url}/patrols/")
    _ready(page)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#fq-clear")
    page.wait_for_function("() => !!document.getElementById('fq-tidy')")
    assert "已清理带走的巡查 1 项" in page.locator("#fq-tidy").inner_text()
    assert "尚未带走任何巡查" in page.locator("#fq-packs").inner_text()
    stored = page.evaluate(STORED)
    assert not [p for p in stored if p.startswith("/patrols/") or p.startswith("/basemap/")]
    assert page.evaluate(QUEUED) == before
    assert _waiting(page) == 2

    # the server answers again: both findings arrive with all three photos
    context.unroute_all(behavior="ignoreErrors")
    page.click("#fq-send")
    page.wait_for_function(
        "() => document.querySelectorAll('#fq-items li.fq-sent').length === 2", timeout=30_000
    )
    found = connection.execute(
        text(
            "SELECT f.note, jsonb_array_length(f.photo_ids) FROM patrol_findings f"
            " WHERE f.patrol_id = :p ORDER BY f.id"
        ),
        {"p": field.patrol_id},
    ).all()
    assert [tuple(f) for f in found] == [("两张照片的发现", 2), ("一张照片的发现", 1)]
    sizes = sorted(
        connection.execute(
            text(
                "SELECT count(*) FROM photos WHERE site_id IN (SELECT site_id FROM"
                " patrol_findings WHERE patrol_id = :p)"
            ),
            {"p": field.patrol_id},
        ).scalars()
    )
    assert sizes == [3]
    problems = [p for p in phone.problems() if "DISCONNECTED" not in p and "503" not in p]
    assert problems == []
