"""The browser tests' live server closes each response body, also when the client drops the
connection right after the response (the favicon flake: Werkzeug skipped close() when its
drain of the socket failed, and the static file's ResourceWarning failed a later test)."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from typing import Any

from tests.support.browser import serve


class _Body:
    """A response body like a static file's: iterated, then closed."""

    def __init__(self, closed: list[int]) -> None:
        self._closed = closed

    def __iter__(self) -> Iterator[bytes]:
        return iter([b"<svg/>" * 100])

    def close(self) -> None:
        self._closed.append(1)


def test_a_dropped_connection_still_closes_the_body() -> None:
    closed: list[int] = []
    asked = 10

    def app(environ: dict[str, Any], start_response: Any) -> _Body:
        start_response("200 OK", [("Content-Type", "image/svg+xml")])
        return _Body(closed)

    with serve(app) as url:
        port = int(url.rsplit(":", 1)[1])
        for _ in range(asked):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"GET /favicon.svg HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.recv(1)  # the server wrote the body and now drains the socket
            # reset (SO_LINGER 0), as Chromium cancels its favicon request
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            time.sleep(0.05)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(closed) < asked:
            time.sleep(0.02)
    assert len(closed) == asked
