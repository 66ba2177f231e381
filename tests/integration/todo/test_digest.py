"""The daily digest: each user's to-do list queued in the outbox and delivered to a folder and
to a group robot on 127.0.0.1 in 政务钉钉's and 企业微信's formats; a receiver that is down or
slow delays nothing else, and its messages stay pending until a later run sends them."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from gis_app.features.todo.digest import DigestConfig, deliver, queue
from gis_app.features.todo.models import DigestMessage
from tests.support.workflow import DZG, make_site

DAY_TEXT = "2026-06-15"


class Receiver:
    """A robot webhook on 127.0.0.1: records what is posted; `delay` seconds before answering,
    `errcode` in its answer."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.delay = 0.0
        self.errcode = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(receiver.delay)
                receiver.posts.append(json.loads(body))
                answer = json.dumps({"errcode": receiver.errcode, "errmsg": "ok"}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the client gave up (timeout)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/robot/send?access_token=t"


@contextmanager
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/robot"


def _world(db_session, auth) -> None:
    make_site(db_session, committed_deadline="2026-06-01")  # overdue in 大直沽
    auth.user("区办王", "district_officer", display_name="王主任")
    auth.user("大直沽李", "street_officer", DZG, display_name="李科长")
    auth.user("民政局", "bureau_civil")  # nothing to do: no message


def _link(item) -> str:
    return f"/{item['endpoint']}/{'/'.join(str(v) for v in item['args'].values())}"


def _pending(db_session) -> list[DigestMessage]:
    return db_session.scalars(
        select(DigestMessage).where(DigestMessage.status == "pending").order_by(DigestMessage.id)
    ).all()


def test_both_robot_formats_reach_the_receiver(db_session, auth) -> None:
    from datetime import date

    _world(db_session, auth)
    day = date.fromisoformat(DAY_TEXT)
    with receiver() as r:
        for fmt in ("dingtalk", "wecom"):
            config = DigestConfig(webhook_url=r.url, webhook_format=fmt, timeout_seconds=3)
            assert queue(db_session, "120102", day, config, _link) == 2  # two users with items
            assert queue(db_session, "120102", day, config, _link) == 0  # once per day
            assert deliver(db_session, config) == {"sent": 2, "failed": 0, "left": 0}
    dingtalk, wecom = r.posts[:2], r.posts[2:]
    for post in dingtalk:
        assert post["msgtype"] == "markdown" and set(post["markdown"]) == {"title", "text"}
    for post in wecom:
        assert post["msgtype"] == "markdown" and set(post["markdown"]) == {"content"}
    street = next(p for p in dingtalk if "李科长" in p["markdown"]["title"])
    assert "#### 逾期点位（1）" in street["markdown"]["text"]
    assert "(/workflow.site_page/" in street["markdown"]["text"]
    office = next(p for p in wecom if "王主任" in p["markdown"]["content"])
    assert "月报逾期未报送" in office["markdown"]["content"]


def test_a_receiver_down_or_slow_delays_nothing_and_loses_nothing(
    db_session, auth, tmp_path
) -> None:
    from datetime import date

    _world(db_session, auth)
    day = date.fromisoformat(DAY_TEXT)
    folder = tmp_path / "digest"
    down = DigestConfig(folder=str(folder), webhook_url=_closed_port_url(), timeout_seconds=0.5)
    assert queue(db_session, "120102", day, down, _link) == 4  # 2 users × (file, dingtalk)
    result = deliver(db_session, down)
    # the files are written all the same; the first post fails and the other waits
    assert result == {"sent": 2, "failed": 1, "left": 1}
    files = sorted(p.name for p in (folder / DAY_TEXT).iterdir())
    assert files == ["区办王.json", "大直沽李.json"]
    data = json.loads((folder / DAY_TEXT / "大直沽李.json").read_text(encoding="utf-8"))
    assert data["count"] == len(data["items"]) >= 1 and data["items"][0]["url"].startswith("/")
    pending = _pending(db_session)
    assert [(m.channel, m.attempts) for m in pending] == [("dingtalk", 1), ("dingtalk", 0)]
    assert pending[0].last_error
    with receiver() as r:
        r.delay = 2.0  # slower than the timeout
        slow = DigestConfig(webhook_url=r.url, timeout_seconds=0.3)
        started = time.monotonic()
        assert deliver(db_session, slow) == {"sent": 0, "failed": 1, "left": 1}
        assert time.monotonic() - started < 1.5  # one timeout, not one per message
        r.delay = 0.0
        assert deliver(db_session, slow) == {"sent": 2, "failed": 0, "left": 0}
        assert len({p["markdown"]["title"] for p in r.posts if "title" in p["markdown"]}) == 2
    assert _pending(db_session) == []
    first = db_session.scalars(select(DigestMessage).where(DigestMessage.channel == "dingtalk")
                               .order_by(DigestMessage.id)).first()  # fmt: skip
    assert first.attempts == 3 and first.sent_at is not None and first.last_error == ""


def test_a_robot_error_keeps_the_message(db_session, auth) -> None:
    from datetime import date

    _world(db_session, auth)
    with receiver() as r:
        r.errcode = 310000  # e.g. a keyword or signature refused
        config = DigestConfig(webhook_url=r.url, webhook_format="dingtalk", timeout_seconds=3)
        queue(db_session, "120102", date.fromisoformat(DAY_TEXT), config, _link)
        assert deliver(db_session, config) == {"sent": 0, "failed": 2, "left": 0}
    assert all("310000" in m.last_error for m in _pending(db_session))


def test_daily_command_queues_and_sends_after_its_checks(
    app, connection, auth, tmp_path, monkeypatch
) -> None:
    from gis_app.cli import cli
    from gis_app.http.database import session

    auth.user("大直沽李", "street_officer", DZG)
    db = app.extensions["gis_db"]
    db.factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        with app.app_context():
            make_site(session(), committed_deadline="2026-06-01")
            session().commit()
        with receiver() as r:
            monkeypatch.setitem(app.config, "DIGEST_DIR", str(tmp_path))
            monkeypatch.setitem(app.config, "DIGEST_WEBHOOK_URL", r.url)
            monkeypatch.setitem(app.config, "DIGEST_WEBHOOK_FORMAT", "wecom")
            out = CliRunner().invoke(cli, ["daily", "--today", DAY_TEXT], obj={"app": app})
            assert out.exit_code == 0, out.output
            assert json.loads(out.stdout.strip().splitlines()[-1])["newly_overdue"] == 1
            assert "待办推送：新排队 2，已送达 2" in out.stderr
            assert "/sites/" in r.posts[0]["markdown"]["content"]
        assert Path(tmp_path, DAY_TEXT, "大直沽李.json").exists()
    finally:
        db.factory.configure(bind=db.engine, join_transaction_mode="conservative_savepoint")
