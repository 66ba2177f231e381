"""A TCP proxy on 127.0.0.1 in threads: stopping it is a server going away (new connections
refused, open ones cut); changing `target` while it runs is a switch-over to another server
(what a virtual IP, haproxy or pgbouncer does in production)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

from gis_app.core.localdb import free_port


class TcpProxy:
    """127.0.0.1:<port> forwarded to the database: stopping it is the database going away
    (new connections refused, open ones cut)."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)  # may be changed: a switch-over
        self.port = free_port(47000)
        self.listener: socket.socket | None = None
        self.conns: list[socket.socket] = []

    def start(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.listener.settimeout(0.2)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            listener.close()
        self._cut()

    def switch(self, target_port: int) -> None:
        """Send new connections to another server and cut the open ones."""
        self.target = ("127.0.0.1", target_port)
        self._cut()

    def _cut(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self.conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        while self.listener is listener:
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def proxy_to(url: str) -> Iterator[tuple[TcpProxy, str]]:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    proxy = TcpProxy(parsed.port or 5432)
    proxy.start()
    try:
        yield proxy, str(parsed.set(port=proxy.port).render_as_string(hide_password=False))
    finally:
        proxy.stop()
