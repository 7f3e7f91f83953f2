"""A loopback web server that misbehaves on purpose: the fault catalogue.

`FaultServer` answers every connection from a raw socket, so it can break
HTTP in the ways a well-behaved server library refuses to: lying
``Content-Length``, broken chunked encoding, a reset mid-body, a body that
never ends.  It listens on several loopback addresses (``127.0.0.20``,
``127.0.0.21``, ...; ``127.0.0.1`` where those cannot be bound), one port
each, so that faults put on different hosts do not share a crawler's
per-host slot.  Every response closes its connection.

Paths (any host; the query holds a fault's parameters):

=============================  ==============================================
``/robots.txt``                 404: everything allowed
``/fault/silent``               reads the request, never answers
``/fault/drip?every=S``         headers, then one body byte every S seconds
``/fault/reset``                half the announced body, then a TCP reset
``/fault/short``                ``Content-Length`` larger than the body sent
``/fault/long?of=PATH&keep=B``  the body put at PATH, announced as B bytes long
``/fault/chunked``              a chunked body whose second chunk size is junk
``/fault/status?code=N``        status N; ``retry_after=S`` adds Retry-After
``/fault/redirect?to=URL``      302 to URL (any scheme)
``/fault/loop?n=K``             302 to itself: a redirect loop
``/fault/stream?size=B``        B bytes (default 2 GiB; ``endless``: no end) of
                                feed-like filler, streamed, never built in
                                memory; ``framing=length|chunked|close``,
                                ``type=`` the Content-Type
``/fault/bomb?encoding=E``      a gzip (or ``br``) bomb: `BOMB_BYTES` of
                                white space, compressed; ``header=0`` leaves
                                out ``Content-Encoding``
``/fault/empty``                200 with an empty body
``/fault/slow?of=PATH&after=S`` the body put at PATH, after S seconds
=============================  ==============================================

Anything else is answered from the bodies given to `FaultServer.put` (which
also override the fault paths: that is how a test heals a fault; one put
``on`` a host overrides the others there) or the faults given to
`FaultServer.fail` (``/robots.txt`` that never answers), else 404;
a body put with an ``ETag`` header is answered 304 to a request whose
``If-None-Match`` names that tag.
`FaultServer.log` records each request with the bytes sent and whether the
client went away first; `FaultServer.accepted` counts connections per host,
requests or not.
"""

from __future__ import annotations

import contextlib
import gzip
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import brotli

#: Uncompressed size of the compression bombs: far above any response cap
#: the tests set, while the compressed body stays a few hundred kilobytes.
BOMB_BYTES = 1 << 28
#: Filler a streamed body repeats: feed-shaped, so nothing rejects it early.
_FILLER = b"<item><title>filler</title><link>http://example.invalid/</link></item>\n" * 900
_HEADER_LIMIT = 64 * 1024
_BOMBS: dict[str, bytes] = {}
_BOMB_LOCK = threading.Lock()
_FIRST_HOST = 20


@dataclass
class Served:
    """One request as the server saw it."""

    host: str
    path: str
    query: str
    headers: dict[str, str]
    bytes_sent: int = 0
    """Body bytes written before the response ended or the client left."""
    client_left: bool = False
    """The client closed the connection before the response was complete."""


@dataclass
class _Static:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    fault: str | None = None
    """A fault path (with its query) to answer with instead."""


class _ClientLeft(Exception):
    pass


class FaultServer:
    """The fault routes on ``hosts`` loopback addresses, from `start` (or
    ``with``) to `stop`."""

    def __init__(self, hosts: int = 4) -> None:
        self._count = hosts
        self._listeners: list[socket.socket] = []
        self._bases: list[str] = []
        self._static: dict[str, _Static] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._open: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self.log: list[Served] = []
        self.accepted: dict[str, int] = {}

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> FaultServer:
        for index in range(self._count):
            listener = _listen(f"127.0.0.{_FIRST_HOST + index}")
            self._listeners.append(listener)
            host, port = listener.getsockname()[:2]
            self._bases.append(f"http://{host}:{port}")
        accept = threading.Thread(target=self._accept, name="faultserver", daemon=True)
        accept.start()
        self._threads.append(accept)
        return self

    def stop(self) -> None:
        """Stop accepting, end every open connection (a silent one too)."""
        self._stopping.set()
        with self._lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)
        for listener in self._listeners:
            listener.close()

    # -- addresses ---------------------------------------------------------------

    def base_url(self, host: int = 0) -> str:
        """``http://127.0.0.N:PORT`` of host number ``host``."""
        return self._bases[host]

    def url(self, path: str, host: int = 0) -> str:
        return self._bases[host] + "/" + path.lstrip("/")

    @staticmethod
    def refused_url(path: str = "/feed.xml") -> str:
        """A loopback URL nothing listens on: connecting is refused."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        return f"http://127.0.0.1:{port}{path}"

    # -- content -----------------------------------------------------------------

    def put(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str = "application/rss+xml",
        status: int = 200,
        headers: dict[str, str] | None = None,
        on: int | None = None,
    ) -> None:
        """Answer ``path`` with ``body`` from now on: on every host, or on
        host number ``on`` only."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        key = path if on is None else f"{self._bases[on]}{path}"
        with self._lock:
            self._static[key] = _Static(
                status, data, {"Content-Type": content_type, **(headers or {})}
            )

    def fail(self, path: str, fault: str, *, on: int | None = None) -> None:
        """Answer ``path`` with the fault at ``fault`` (``/fault/silent``, a
        query allowed) from now on: on every host, or on host ``on`` only."""
        key = path if on is None else f"{self._bases[on]}{path}"
        with self._lock:
            self._static[key] = _Static(0, b"", fault=fault)

    def body(self, path: str) -> bytes:
        """The body put at ``path``."""
        with self._lock:
            return self._static[path].body

    def served(self, path: str) -> list[Served]:
        """The log's requests for ``path``."""
        with self._lock:
            return [s for s in self.log if s.path == path]

    # -- serving -----------------------------------------------------------------

    def _accept(self) -> None:
        with selectors.DefaultSelector() as selector:
            for listener in self._listeners:
                selector.register(listener, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select(timeout=0.05):
                    try:
                        connection, _ = key.fileobj.accept()  # type: ignore[union-attr]
                    except OSError:
                        continue
                    host = connection.getsockname()[0]
                    with self._lock:
                        self.accepted[host] = self.accepted.get(host, 0) + 1
                    thread = threading.Thread(
                        target=self._serve, args=(connection,), name="fault", daemon=True
                    )
                    thread.start()

    def _serve(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.add(connection)
        try:
            request = _read_request(connection)
            if request is None:
                return
            ip, port = connection.getsockname()[:2]
            with self._lock:
                self.log.append(request)
                static = self._static.get(f"http://{ip}:{port}{request.path}")
                static = static or self._static.get(request.path)
            try:
                etag = static.headers.get("ETag") if static is not None else None
                if etag is not None and request.headers.get("If-None-Match") == etag:
                    _respond(connection, request, 304, {"ETag": etag}, b"")
                elif static is not None and static.fault is not None:
                    self._fault(connection, request, static.fault)
                elif static is not None:
                    _respond(connection, request, static.status, static.headers, static.body)
                else:
                    self._fault(connection, request)
            except (_ClientLeft, OSError):
                request.client_left = True
        finally:
            with self._lock:
                self._open.discard(connection)
            with contextlib.suppress(OSError):
                connection.close()

    def _fault(self, connection: socket.socket, request: Served, target: str = "") -> None:
        routed = urlsplit(target)
        path, query = (routed.path, routed.query) if target else (request.path, request.query)
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        name = path.removeprefix("/fault/")
        handler = _FAULTS.get(name) if path.startswith("/fault/") else None
        if handler is None:
            _respond(connection, request, 404, {"Content-Type": "text/plain"}, b"not found\n")
            return
        handler(self, connection, request, params)

    @staticmethod
    def bomb(encoding: str) -> bytes:
        """`BOMB_BYTES` of spaces compressed with ``encoding`` (``gzip`` or
        ``br``), made once per process."""
        with _BOMB_LOCK:
            if encoding not in _BOMBS:
                _BOMBS[encoding] = _compress_bomb(encoding)
            return _BOMBS[encoding]


# -- the faults ---------------------------------------------------------------------

Fault = Callable[[FaultServer, socket.socket, Served, dict[str, str]], None]


def _silent(server: FaultServer, conn: socket.socket, req: Served, p: dict[str, str]) -> None:
    server._stopping.wait(float(p.get("for", 3600)))


def _drip(server: FaultServer, conn: socket.socket, req: Served, p: dict[str, str]) -> None:
    every = float(p.get("every", 1.0))
    _head(conn, 200, {"Content-Type": "application/rss+xml", "Content-Length": "4096"})
    for _ in range(4096):
        if server._stopping.wait(every):
            return
        _send(conn, req, b" ")


def _reset(server: FaultServer, conn: socket.socket, req: Served, p: dict[str, str]) -> None:
    _head(conn, 200, {"Content-Type": "application/rss+xml", "Content-Length": "200000"})
    _send(conn, req, _FILLER[:100_000])
    time.sleep(0.05)
    # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _short(server: FaultServer, conn: socket.socket, req: Served, p: dict[str, str]) -> None:
    _head(conn, 200, {"Content-Type": "application/rss+xml", "Content-Length": "500000"})
    _send(conn, req, b'<?xml version="1.0"?><rss version="2.0"><channel><title>cut</title>')


def _long(server: FaultServer, conn: socket.socket, req: Served, p: dict[str, str]) -> None:
    with server._lock:
        static = server._static[p["of"]]
    _head(conn, 200, {**static.headers, "Content-Length": p["keep"]})
    _send(conn, req, static.body)


def _chunked(server: FaultServer, conn: socket.socket, req: Served, p: dict[str, str]) -> None:
    _head(conn, 200, {"Content-Type": "application/rss+xml", "Transfer-Encoding": "chunked"})
    _send(conn, req, b"10\r\n<rss version='2\r\nzz-not-hex\r\nhello\r\n0\r\n\r\n")


def _status(server: FaultServer, conn: socket.socket, req: Served, p: dict[str, str]) -> None:
    code = int(p.get("code", 500))
    headers = {"Content-Type": "text/html; charset=utf-8"}
    if "retry_after" in p:
        headers["Retry-After"] = p["retry_after"]
    body = f"<!doctype html><title>{code}</title><h1>Error {code}</h1>\n".encode()
    _respond(conn, req, code, headers, body)


def _redirect(server: FaultServer, conn: socket.socket, req: Served, p: dict[str, str]) -> None:
    status = int(p.get("status", 302))
    _respond(conn, req, status, {"Location": p["to"], "Content-Type": "text/plain"}, b"moved\n")


def _loop(server: FaultServer, conn: socket.socket, req: Served, p: dict[str, str]) -> None:
    # Alternates between two URLs for ever: a -> b -> a -> ...
    other = "b" if p.get("at", "a") == "a" else "a"
    location = f"/fault/loop?at={other}"
    _respond(conn, req, 302, {"Location": location, "Content-Type": "text/plain"}, b"loop\n")


def _stream(server: FaultServer, conn: socket.socket, req: Served, p: dict[str, str]) -> None:
    endless = p.get("size") == "endless"
    size = 1 << 62 if endless else int(p.get("size", 1 << 31))
    framing = p.get("framing", "length")
    headers = {"Content-Type": p.get("type", "application/rss+xml")}
    if framing == "length" and not endless:
        headers["Content-Length"] = str(size)
    elif framing == "chunked":
        headers["Transfer-Encoding"] = "chunked"
    _head(conn, 200, headers)
    chunked = framing == "chunked"
    opening = b'<?xml version="1.0"?>\n<rss version="2.0"><channel>\n'
    left = size
    while left > 0 and not server._stopping.is_set():
        piece = (opening if left == size else _FILLER)[:left]
        framed = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
        _send(conn, req, framed, count=False)
        req.bytes_sent += len(piece)
        left -= len(piece)
    if chunked:
        _send(conn, req, b"0\r\n\r\n", count=False)


def _bomb(server: FaultServer, conn: socket.socket, req: Served, p: dict[str, str]) -> None:
    encoding = p.get("encoding", "gzip")
    headers = {"Content-Type": p.get("type", "application/rss+xml")}
    if p.get("header", "1") == "1":
        headers["Content-Encoding"] = encoding
    _respond(conn, req, 200, headers, server.bomb(encoding))


def _empty(server: FaultServer, conn: socket.socket, req: Served, p: dict[str, str]) -> None:
    _respond(conn, req, 200, {"Content-Type": "application/rss+xml"}, b"")


def _slow(server: FaultServer, conn: socket.socket, req: Served, p: dict[str, str]) -> None:
    if server._stopping.wait(float(p.get("after", 5))):
        return
    with server._lock:
        static = server._static[p["of"]]
    _respond(conn, req, static.status, static.headers, static.body)


_FAULTS: dict[str, Fault] = {
    "silent": _silent,
    "drip": _drip,
    "reset": _reset,
    "short": _short,
    "long": _long,
    "chunked": _chunked,
    "status": _status,
    "redirect": _redirect,
    "loop": _loop,
    "stream": _stream,
    "bomb": _bomb,
    "empty": _empty,
    "slow": _slow,
}

# -- raw HTTP ------------------------------------------------------------------------

_REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    404: "Not Found",
}


def _listen(host: str) -> socket.socket:
    for candidate in (host, "127.0.0.1"):
        try:
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((candidate, 0))
            listener.listen(64)
            listener.setblocking(False)
            return listener
        except OSError:
            listener.close()
    raise OSError(f"cannot listen on {host} nor 127.0.0.1")


def _read_request(conn: socket.socket) -> Served | None:
    conn.settimeout(10)
    data = b""
    try:
        while b"\r\n\r\n" not in data and len(data) < _HEADER_LIMIT:
            chunk = conn.recv(4096)
            if not chunk:
                return None
            data += chunk
    except OSError:
        return None
    conn.settimeout(None)
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) < 2:
        return None
    target = urlsplit(parts[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().title()] = value.strip()
    host = conn.getsockname()[0]
    return Served(host=host, path=target.path, query=target.query, headers=headers)


def _head(conn: socket.socket, status: int, headers: dict[str, str]) -> None:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    lines += [f"{k}: {v}" for k, v in {**headers, "Connection": "close"}.items()]
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


def _send(conn: socket.socket, req: Served, data: bytes, *, count: bool = True) -> None:
    try:
        conn.sendall(data)
    except OSError as exc:
        raise _ClientLeft from exc
    if count:
        req.bytes_sent += len(data)


def _respond(
    conn: socket.socket, req: Served, status: int, headers: dict[str, str], body: bytes
) -> None:
    _head(conn, status, {**headers, "Content-Length": str(len(body))})
    _send(conn, req, body)


def _compress_bomb(encoding: str) -> bytes:
    block = b" " * (1 << 20)
    if encoding == "br":
        compressor = brotli.Compressor(quality=5)
        out = [compressor.process(block) for _ in range(BOMB_BYTES // len(block))]
        return b"".join(out) + compressor.finish()
    sink = _Sink()
    with gzip.GzipFile(fileobj=sink, mode="wb", compresslevel=9, mtime=0) as packer:
        for _ in range(BOMB_BYTES // len(block)):
            packer.write(block)
    return b"".join(sink.parts)


class _Sink:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass
