"""The sockets of `demo.server.LocalWeb`: one threading HTTP server per
site on its own loopback address, and the request handler that turns the
wire into a `demo.responses.Request` and a `demo.responses.Reply` back."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from dataclasses import replace
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from demo.responses import Request, RequestRecord, canonical

if TYPE_CHECKING:
    from demo.server import LocalWeb

_CHUNK = 64 * 1024


class SiteServer(ThreadingHTTPServer):
    """One site's listening socket; remembers its open connections so that
    `LocalWeb.stop` can end idle keep-alive ones."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], web: LocalWeb, site: str) -> None:
        self.web, self.site = web, site
        self._open_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        super().__init__(address, Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host's name up, which can wait on
        # DNS for seconds; the address is name enough.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = self.socket.getsockname()[:2]
        self.base_url = f"http://{self.server_name}:{self.server_port}"

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        with self._open_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self._open_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already gone
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up is ordinary life for a web server.
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def bind(web: LocalWeb, site: str, index: int) -> SiteServer:
    hosts = [f"127.0.0.{index}", "127.0.0.1"] if 1 < index < 255 else ["127.0.0.1"]
    for host in hosts:
        try:
            return SiteServer((host, 0), web, site)
        except OSError:
            if host == hosts[-1]:
                raise
    raise AssertionError("unreachable")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as crawlers expect
    server_version = "presscut-demo/1"
    timeout = 60  # an idle keep-alive connection ends, and its thread with it
    server: SiteServer

    def do_GET(self) -> None:
        arrived = time.time()
        split = urlsplit(self.path)
        headers = headers_of(self.headers)
        web, site = self.server.web, self.server.site
        length = int(headers.get("Content-Length", "0") or 0)
        request = Request(
            site=site,
            method=self.command,
            path=split.path,
            query=split.query,
            headers=headers,
            body=self.rfile.read(length) if length > 0 else b"",
            base_url=self.server.base_url,
        )
        reply = web._respond(request)
        if web.delay:
            time.sleep(web.delay)
        send_body = self.command != "HEAD" and reply.status != 304
        record = RequestRecord(
            site=site,
            method=self.command,
            path=split.path,
            query=split.query,
            headers=headers,
            status=reply.status,
            bytes_sent=len(reply.body) if send_body else 0,
            time=arrived,
        )
        web._log(record)
        sent = 0
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if send_body:
                view = memoryview(reply.body)
                while sent < len(view):
                    self.wfile.write(view[sent : sent + _CHUNK])
                    sent += min(_CHUNK, len(view) - sent)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
            web._log(replace(record, bytes_sent=sent, aborted=True), replaces=record)

    do_HEAD = do_POST = do_PUT = do_DELETE = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass  # LocalWeb.requests is the log


def headers_of(message: Message) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in message.items():
        key = canonical(name)
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out
