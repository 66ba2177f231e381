"""What every response and every unsafe request carries: the CSRF token of forms, the
Content-Security-Policy nonce of inline scripts, and the security headers."""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from markupsafe import Markup

from gis_app.core.errors import Forbidden
from gis_app.http.errors import wants_json

LOGIN_CSRF_COOKIE = "gis_login_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# tile hosts of the online basemaps, allowed as image sources when configured
BASEMAP_HOSTS = {
    "tianditu": "https://*.tianditu.gov.cn",
    "osm": "https://tile.openstreetmap.org",
}


def check_csrf(expected: str | None = None) -> None:
    from flask import session as web_session

    expected = expected or getattr(web_session, "csrf", None)
    given = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Forbidden("页面已过期或来源不明（CSRF 校验失败），请刷新页面后重试", "csrf_token")


def csrf_token() -> str:
    """The token the forms carry: the session's, or before login the login form's cookie."""
    from flask import session as web_session

    token = getattr(web_session, "csrf", None)
    if token:
        return token
    if "login_csrf" not in g:
        g.login_csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    return g.login_csrf


def csrf_field() -> Markup:
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(csrf_token())


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def security_headers(response: Response) -> Response:
    """CSP (scripts only from the app or with this response's nonce), no framing, no sniffing,
    no referrer outside the site; HSTS when the deployment says it is https-only."""
    img = ["'self'", "data:", "blob:"]
    host = BASEMAP_HOSTS.get(current_app.config["BASEMAP"])
    if host:
        img.append(host)
    policy = [
        "default-src 'self'",
        f"script-src 'self' 'nonce-{csp_nonce()}'",
        # inline style attributes (swatches, Leaflet's own positioning) need 'unsafe-inline';
        # styles cannot run code, scripts stay nonce-only
        "style-src 'self' 'unsafe-inline'",
        f"img-src {' '.join(img)}",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    headers = response.headers
    headers.setdefault("Content-Security-Policy", "; ".join(policy))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["HSTS"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if (
        response.status_code == 401
        and "WWW-Authenticate" not in headers
        and (wants_json() or "Authorization" in request.headers)
    ):
        _challenge(headers)
    if g.get("actor") is not None and "Cache-Control" not in headers:
        headers["Cache-Control"] = "private, no-store"
    if "login_csrf" in g and not request.cookies.get(LOGIN_CSRF_COOKIE):
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            g.login_csrf,
            path="/",
            secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
            httponly=True,
            samesite="Strict",
        )
    return response


#: the realm of the authentication challenges (ASCII: clients show it in their dialogs)
REALM = "gis-app"


def _challenge(headers: Any) -> None:
    """Ask for credentials: Basic (account name and API token) first, so that desktop
    clients (QGIS, ArcGIS Pro, curl -u) prompt for them, then Bearer. A script of the app's
    own pages (fetch, `Sec-Fetch-Dest: empty`) gets Bearer only: a browser would open a
    password dialog for Basic, and a password is not what it asks for."""
    scripted = request.headers.get("Sec-Fetch-Dest") == "empty"
    if not scripted:
        headers.add("WWW-Authenticate", f'Basic realm="{REALM}", charset="UTF-8"')
    headers.add("WWW-Authenticate", f'Bearer realm="{REALM}"')


class BaseUrl:
    """WSGI middleware: every request is seen at the configured public address (host, scheme,
    path prefix), whatever its `Host` header says, so that no absolute link or redirect can be
    pointed elsewhere by a forged header."""

    def __init__(self, app: Any, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.app = app
        self.scheme = parts.scheme
        self.host = parts.netloc
        self.prefix = parts.path.rstrip("/")

    def __call__(self, wsgi_env: dict[str, Any], start_response: Any) -> Any:
        wsgi_env.update({"wsgi.url_scheme": self.scheme, "HTTP_HOST": self.host})
        wsgi_env.pop("HTTP_X_FORWARDED_HOST", None)
        if self.prefix:
            wsgi_env.update({"SCRIPT_NAME": self.prefix})
        return self.app(wsgi_env, start_response)


def init_app(app: Flask) -> None:
    if app.config.get("BASE_URL"):
        app.wsgi_app = BaseUrl(app.wsgi_app, app.config["BASE_URL"])  # type: ignore[method-assign]
    # X-Forwarded-For / -Proto only from the proxies configured (never X-Forwarded-Host)
    n = int(app.config["TRUSTED_PROXIES"])
    if n:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    app.after_request(security_headers)
    app.jinja_env.globals.update(csrf_token=csrf_token, csrf_field=csrf_field, csp_nonce=csp_nonce)
