"""The repository's nginx configuration (gis_app/features/ops/deploy/nginx/gis-app.conf, only
its paths, ports and certificate replaced) run by Debian's nginx in front of the live app on
127.0.0.1, with a certificate made here: TLS, http → https, static files and gzip from nginx,
/metrics closed, a login, the map page and a photo upload through it, the photo sent by nginx
only after the app's check (X-Accel-Redirect), the upload limit the app's. The systemd units
pass `systemd-analyze verify`."""

from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.core.actor import Actor
from gis_app.core.localdb import PROJECT_ROOT, free_port
from gis_app.features.ledger.service import create_site
from gis_app.settings import load_settings
from tests.support.accounts import PASSWORD, Accounts, csrf_of
from tests.support.live import serve_app
from tests.support.sites import site_payload
from tests.support.workflow import DZG, image_bytes

pytestmark = pytest.mark.slow
DEPLOY = PROJECT_ROOT / "gis_app" / "features" / "ops" / "deploy"
SITE_CONF = DEPLOY / "nginx" / "gis-app.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _replace(conf: str, old: str, new: str) -> str:
    assert old in conf, f"the nginx configuration no longer has {old!r}: update this test"
    return conf.replace(old, new)


def _certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _write_config(folder: Path, app_port: int, photo_dir: Path) -> tuple[Path, int, int, Path]:
    cert, key = _certificate(folder)
    http_port, https_port = free_port(48100), free_port(48300)
    site = SITE_CONF.read_text()
    for old, new in (
        ("server 127.0.0.1:5000;", f"server 127.0.0.1:{app_port};"),
        ("    listen [::]:80;\n", ""),
        ("    listen [::]:443 ssl http2;\n", ""),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("/etc/ssl/gis-app/fullchain.pem", str(cert)),
        ("/etc/ssl/gis-app/privkey.pem", str(key)),
        ("/srv/gis-app/static/", f"{PROJECT_ROOT}/static/"),
        ("/srv/gis-app/var/photos/", f"{photo_dir}/"),
    ):
        site = _replace(site, old, new)
    (folder / "gis-app.conf").write_text(site)
    # run as root (the test machine): the workers read the photo folder as root too
    user = "user root root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"  {kind}_temp_path {folder}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = folder / "nginx.conf"
    main.write_text(
        f"{user}worker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\n"
        "events { worker_connections 128; }\n"
        "http {\n  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n"
        f"  access_log {folder}/access.log;\n{temp}\n  include {folder}/gis-app.conf;\n}}\n"
    )
    return main, http_port, https_port, cert


def _wait_for_port(port: int, proc: subprocess.Popen, folder: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError((folder / "error.log").read_text(errors="replace"))
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("nginx did not start listening")


def _status_of_oversized_upload(port: int, cert: Path, mb: int) -> int:
    """Send only the headers of a `mb` MB upload: nginx answers before the body."""
    context = ssl.create_default_context(cafile=str(cert))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=20) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(
            (
                "POST /api/v1/sites/1/photos HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: multipart/form-data; boundary=x\r\n"
                f"Content-Length: {mb * 1024 * 1024}\r\n\r\n"
            ).encode()
        )
        status_line = tls.recv(200).split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1])


@pytest.fixture()
def front_door(database_url, engine, demo_streets, tmp_path, monkeypatch):
    photo_dir = tmp_path / "photos"
    photo_dir.mkdir()
    monkeypatch.setenv("GIS_APP_PHOTO_DIR", str(photo_dir))
    monkeypatch.setenv("GIS_APP_PHOTO_ACCEL_REDIRECT", "/_photos/")
    monkeypatch.setenv("GIS_APP_TRUSTED_PROXIES", "1")
    with serve_app(database_url, engine) as app_url:
        app_port = int(app_url.rsplit(":", 1)[1])
        folder = tmp_path / "nginx"
        folder.mkdir()
        main, http_port, https_port, cert = _write_config(folder, app_port, photo_dir)
        test = subprocess.run(
            [NGINX, "-t", "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(main)],
            capture_output=True,
            text=True,
        )
        assert test.returncode == 0, test.stderr
        proc = subprocess.Popen(
            [NGINX, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(main),
             "-g", "daemon off;"],
        )  # fmt: skip
        try:
            _wait_for_port(https_port, proc, folder)
            yield {
                "base": f"https://127.0.0.1:{https_port}",
                "http": f"http://127.0.0.1:{http_port}",
                "https_port": https_port,
                "cert": cert,
                "photo_dir": photo_dir,
            }
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def test_login_map_and_photo_upload_through_nginx(front_door, engine):
    base, cert = front_door["base"], str(front_door["cert"])
    with engine.begin() as conn:
        Accounts(conn).user("门户.街道", "street_officer", DZG)
    with Session(engine) as s, s.begin():
        site_id = create_site(
            s, site_payload(code="NGX-0001"), Actor("门户.区级", "district_officer")
        ).id

    web = requests.Session()
    web.trust_env = False  # REQUESTS_CA_BUNDLE would replace the test's certificate
    web.verify = cert

    # TLS, the app behind it, nginx's request id passed through
    alive = web.get(f"{base}/healthz", timeout=20)
    assert alive.status_code == 200 and alive.json() == {"status": "alive"}
    assert alive.headers["Server"].startswith("nginx")
    assert re.fullmatch(r"[0-9a-f]{32}", alive.headers["X-Request-ID"])
    plain = requests.get(f"{front_door['http']}/map", allow_redirects=False, timeout=20)
    assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")

    # static files: from the disk by nginx (no app headers), gzipped
    css = web.get(f"{base}/static/css/map.css", headers={"Accept-Encoding": "gzip"}, timeout=20)
    assert css.status_code == 200 and css.headers.get("Content-Encoding") == "gzip"
    assert "X-Request-ID" not in css.headers
    assert css.headers["Content-Type"] == "text/css; charset=utf-8"
    assert css.content == (PROJECT_ROOT / "static" / "css" / "map.css").read_bytes()
    assert web.get(f"{base}/metrics", timeout=20).status_code == 403

    # log in through the form (Secure cookies: the app sees https from X-Forwarded-Proto)
    page = web.get(f"{base}/login", timeout=20)
    assert page.status_code == 200
    login = web.post(
        f"{base}/login",
        data={"username": "门户.街道", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        allow_redirects=False,
        timeout=20,
    )
    assert login.status_code == 302, login.text[:300]
    the_map = web.get(f"{base}/map", timeout=20)
    assert the_map.status_code == 200 and "/static/vendor/leaflet" in the_map.text

    # a photo uploaded through the site's form
    token = csrf_of(web.get(f"{base}/account/password", timeout=20).text)
    photo = image_bytes(size=(320, 240))
    upload = web.post(
        f"{base}/sites/{site_id}/photos",
        data={"kind": "before", "csrf_token": token},
        files={"file": ("before.jpg", photo, "image/jpeg")},
        allow_redirects=False,
        timeout=30,
    )
    assert upload.status_code in (302, 303), upload.text[:300]
    with engine.connect() as conn:
        photo_id, sha = conn.execute(
            text("SELECT id, sha256 FROM photos WHERE site_id = :s"), {"s": site_id}
        ).one()

    # the file: the app checks, nginx sends it from the photo folder
    got = web.get(f"{base}/photos/{photo_id}/file", timeout=20)
    assert got.status_code == 200 and got.content == photo
    assert got.headers["Content-Type"] == "image/jpeg"
    assert "X-Accel-Redirect" not in got.headers
    thumb = web.get(f"{base}/photos/{photo_id}/thumb", timeout=20)
    assert thumb.status_code == 200 and thumb.content[:2] == b"\xff\xd8"
    direct = web.get(f"{base}/_photos/originals/{sha[:2]}/{sha}.jpg", timeout=20)
    assert direct.status_code == 404
    stranger = requests.get(
        f"{base}/photos/{photo_id}/file", verify=cert, allow_redirects=False, timeout=20
    )
    assert stranger.status_code in (302, 401) and stranger.content != photo

    # the upload limit: nginx's is the app's
    limit_mb = load_settings({}).data.max_upload_mb
    assert f"client_max_body_size {limit_mb}m;" in SITE_CONF.read_text()
    assert (
        _status_of_oversized_upload(front_door["https_port"], front_door["cert"], limit_mb + 1)
        == 413
    )


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze")
def test_the_systemd_units_verify(tmp_path):
    units = tmp_path / "units"
    units.mkdir()
    for unit in (DEPLOY / "systemd").iterdir():
        body = unit.read_text().replace("/srv/gis-app", str(PROJECT_ROOT))
        (units / unit.name).write_text(body)
    names = sorted(str(p) for p in units.iterdir())
    assert {Path(n).name for n in names} >= {
        "gis-app.service", "gis-app-daily.service", "gis-app-daily.timer",
        "gis-app-backup.service", "gis-app-backup.timer",
    }  # fmt: skip
    result = subprocess.run(
        ["systemd-analyze", "verify", *names], capture_output=True, text=True, timeout=60
    )
    problems = [
        line for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and "EnvironmentFile" not in line
    ]  # fmt: skip
    assert problems == [], problems
