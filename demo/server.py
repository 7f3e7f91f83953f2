"""A local web server for the bundled demo sites, the test suite and the benchmarks.

`LocalWeb` serves each site of a tree ``root/<site>/...`` on its own loopback
address and an ephemeral port: the first site on 127.0.0.1, the next on
127.0.0.2, and so on (Linux routes all of 127.0.0.0/8 to loopback), so each
site is a distinct host to per-host politeness.  Where such an address cannot
be bound (macOS has only 127.0.0.1 by default) the site gets 127.0.0.1.

Each site behaves like a plain static web server:

* ``Content-Type`` by file extension (`CONTENT_TYPES`); feeds carry no
  charset, so their own XML declaration (or its absence) decides;
* in text responses ``{{base:<site>}}`` becomes that site's base URL, such as
  ``http://127.0.0.2:41234``; a placeholder naming no served site stays;
* every 200 response has a strong ``ETag`` (a hash of the body as served),
  and every file ``Last-Modified`` (its mtime); ``If-None-Match``, or when it
  is absent ``If-Modified-Since``, answers ``304 Not Modified`` with no body;
* ``HEAD``; ``index.html`` for a directory (a 301 adds a missing slash); the
  site's ``404.html``, or a plain page, with status 404;
* gzip ``Content-Encoding`` for text of `GZIP_MIN_BYTES` or more when the
  client accepts it; the ETag then ends in ``-gzip"``, as a strong ETag must
  differ per encoding, and either form validates;
* redirects from the site's ``_redirects`` file, checked before files: lines
  ``FROM TO [STATUS]`` (``#`` starts a comment), FROM a path, TO a path or an
  absolute URL (placeholders allowed), STATUS 301 unless given; other lines
  are skipped.  Names starting with ``_`` or ``.`` are never served.

For tests: `LocalWeb.requests` logs every request (`RequestRecord`), appended
before the response is written, so a client that has its response finds it;
`LocalWeb.add_route` answers a path from code, and `LocalWeb.set_file` /
`LocalWeb.remove_file` add, replace or hide files in memory while the sites
run.  Nothing under ``root`` is ever written.

``python -m demo.server [--root DIR] [--sites a,b] [-v]`` serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import re
import sys
import threading
import time
from dataclasses import dataclass, replace
from email.utils import formatdate
from pathlib import Path
from typing import TextIO

from demo.listener import SiteServer, bind
from demo.responses import (
    CONTENT_TYPES,
    DEFAULT_CONTENT_TYPE,
    GZIP_MIN_BYTES,
    NOT_FOUND,
    REDIRECT_STATUSES,
    Reply,
    Request,
    RequestRecord,
    Response,
    Route,
    accepts_gzip,
    call,
    canonical,
    gzip_etag,
    is_text,
    media_type,
    not_modified,
    redirect_reply,
    request_path,
    site_path,
)

__all__ = [
    "CONTENT_TYPES",
    "DEFAULT_CONTENT_TYPE",
    "GZIP_MIN_BYTES",
    "SITES_ROOT",
    "LocalWeb",
    "Request",
    "RequestRecord",
    "Response",
    "Route",
    "main",
]

#: The bundled demo sites.
SITES_ROOT = Path(__file__).resolve().parent / "sites"

_PLACEHOLDER = re.compile(rb"\{\{base:([\w.-]+)\}\}")


@dataclass(frozen=True, slots=True)
class _Entry:
    body: bytes | None  # None hides the file
    mtime: float
    content_type: str | None


class LocalWeb:
    """Sites under ``root`` (every folder whose name does not start with ``.``
    or ``_``, or just ``sites``), each on its own loopback address, from
    `start` (or ``with``) to `stop`.  A named site without a folder raises
    ``FileNotFoundError``.  ``log_to`` gets one line per request."""

    def __init__(
        self,
        root: Path,
        sites: list[str] | None = None,
        *,
        log_to: TextIO | None = None,
        delay: float = 0.0,
    ) -> None:
        self.root = Path(root)
        #: Seconds every response waits before it is sent, like a distant site.
        self.delay = delay
        if sites is None:
            found = self.root.iterdir() if self.root.is_dir() else []
            sites = sorted(p.name for p in found if p.is_dir() and p.name[0] not in "._")
        for site in sites:
            if not (self.root / site).is_dir():
                raise FileNotFoundError(f"no site folder {self.root / site}")
        if not sites:
            raise ValueError(f"no sites to serve under {self.root}")
        self.sites: list[str] = list(sites)
        self._log_to = log_to
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._routes: dict[tuple[str, str], Route] = {}
        self._files: dict[tuple[str, str], _Entry] = {}
        self._servers: dict[str, tuple[SiteServer, threading.Thread]] = {}

    def __enter__(self) -> LocalWeb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalWeb:
        """Bind every site and serve each from a daemon thread."""
        if self._servers:
            return self
        try:
            for index, site in enumerate(self.sites, start=1):
                server = bind(self, site, index)
                thread = threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": 0.05},
                    name=f"localweb {site} {server.base_url}",
                    daemon=True,
                )
                self._servers[site] = (server, thread)
                thread.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop serving, end open connections and free the ports.  Idempotent."""
        # Sites stay known until every server is down: a request in flight
        # may still ask for a base URL.
        for server, thread in self._servers.values():
            if thread.is_alive():
                server.shutdown()
            server.close_connections()
            server.server_close()
            thread.join(timeout=5)
        self._servers = {}

    def base_url(self, site: str) -> str:
        """``http://127.0.0.N:PORT`` of a running site, no trailing slash."""
        try:
            return self._servers[site][0].base_url
        except KeyError:
            state = "running" if self._servers else "not started"
            raise KeyError(f"site {site!r} is not served ({state}: {self.sites})") from None

    def url(self, site: str, path: str = "/") -> str:
        """Absolute URL of ``path`` on ``site``."""
        return self.base_url(site) + "/" + path.lstrip("/")

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of the request log, oldest first."""
        with self._lock:
            return list(self._records)

    def clear_requests(self) -> None:
        with self._lock:
            self._records.clear()

    def add_route(self, site: str, path: str, handler: Route) -> None:
        """Answer ``path`` (exactly; any query, any method) on ``site`` with
        ``handler``, before redirects and files.  An exception in the handler
        is a 500."""
        self._check_site(site)
        with self._lock:
            self._routes[(site, site_path(path))] = handler

    def set_file(
        self, site: str, path: str, content: bytes | str, *, content_type: str | None = None
    ) -> None:
        """Serve ``content`` (``str`` as UTF-8) at ``path`` on ``site`` from now on.

        Its Last-Modified is now, and at least a second after the version it
        replaces: the header counts whole seconds, and a client's
        If-Modified-Since from the old version must not hide the new one.
        """
        self._check_site(site)
        key = (site, site_path(path))
        body = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        previous = self._open(*key)
        mtime = time.time() if previous is None else max(time.time(), int(previous.mtime) + 1)
        with self._lock:
            self._files[key] = _Entry(body, mtime, content_type)

    def remove_file(self, site: str, path: str) -> None:
        """Answer 404 at ``path`` on ``site`` from now on, file on disk or not."""
        self._check_site(site)
        with self._lock:
            self._files[(site, site_path(path))] = _Entry(None, time.time(), None)

    def reset(self) -> None:
        """Forget routes, in-memory files and the request log."""
        with self._lock:
            self._routes.clear()
            self._files.clear()
            self._records.clear()

    def _check_site(self, site: str) -> None:
        if site not in self.sites:
            raise KeyError(f"unknown site {site!r} (sites: {self.sites})")

    # Answering requests: called from the servers' handler threads.

    def _respond(self, request: Request) -> Reply:
        path = request_path(request.path)
        if path is None:
            return self._finish(request, self._not_found(request.site))
        with self._lock:
            route = self._routes.get((request.site, path))
        if route is not None:
            return self._finish(request, call(route, replace(request, path=path)))
        if request.method not in ("GET", "HEAD"):
            reply = Reply(405, {"Allow": "GET, HEAD"}, b"method not allowed\n")
            return self._finish(request, reply)
        found = self._redirect(request, path) or self._static(request, path)
        return self._finish(request, found or self._not_found(request.site))

    def _finish(self, request: Request, reply: Reply) -> Reply:
        headers = {canonical(k): v for k, v in reply.headers.items()}
        ctype = headers.setdefault("Content-Type", media_type(request.path))
        body = self._substitute(reply.body) if is_text(ctype) else reply.body
        if reply.status == 200:
            etag = headers.setdefault("ETag", f'"{hashlib.sha1(body).hexdigest()[:20]}"')
            if reply.mtime is not None:
                headers.setdefault("Last-Modified", formatdate(reply.mtime, usegmt=True))
            if request.method in ("GET", "HEAD") and not_modified(request.headers, headers):
                kept = ("ETag", "Last-Modified", "Cache-Control", "Vary")
                return Reply(304, {k: headers[k] for k in kept if k in headers}, b"")
        else:
            etag = None
        if is_text(ctype) and len(body) >= GZIP_MIN_BYTES:
            headers["Vary"] = "Accept-Encoding"
            if accepts_gzip(request.headers.get("Accept-Encoding", "")):
                body = gzip.compress(body, mtime=0)  # mtime=0: the same bytes every time
                headers["Content-Encoding"] = "gzip"
                if etag is not None and etag.endswith('"'):
                    headers["ETag"] = gzip_etag(etag)
        headers["Content-Length"] = str(len(body))
        return Reply(reply.status, headers, body)

    def _static(self, request: Request, path: str) -> Reply | None:
        if any(part[:1] in ("_", ".") for part in path.split("/")):
            return None
        entry = self._open(request.site, path + "index.html" if path.endswith("/") else path)
        if entry is None and not path.endswith("/"):
            if self._open(request.site, path + "/index.html") is not None:
                location = path + "/" + (f"?{request.query}" if request.query else "")
                return redirect_reply(301, request.base_url + location)
            return None
        if entry is None or entry.body is None:
            return None
        headers = {"Content-Type": entry.content_type} if entry.content_type else {}
        if path.endswith("/"):
            headers.setdefault("Content-Type", CONTENT_TYPES[".html"])
        return Reply(200, headers, entry.body, entry.mtime)

    def _redirect(self, request: Request, path: str) -> Reply | None:
        rules = self._open(request.site, "/_redirects")
        if rules is None or rules.body is None:
            return None
        for line in rules.body.decode("utf-8", "replace").splitlines():
            fields = line.split("#", 1)[0].split()
            if len(fields) not in (2, 3) or fields[0] != path:
                continue
            status = int(fields[2]) if len(fields) == 3 and fields[2].isdigit() else 301
            if status not in REDIRECT_STATUSES:
                continue
            target = self._substitute(fields[1].encode()).decode()
            if target.startswith("/"):
                target = request.base_url + target
            return redirect_reply(status, target)
        return None

    def _not_found(self, site: str) -> Reply:
        page = self._open(site, "/404.html")
        body = page.body if page is not None and page.body is not None else None
        return Reply(404, {"Content-Type": CONTENT_TYPES[".html"]}, body or NOT_FOUND)

    def _open(self, site: str, path: str) -> _Entry | None:
        """The in-memory entry for ``path``, else the file on disk, else None."""
        with self._lock:
            entry = self._files.get((site, path))
        if entry is not None:
            return entry
        folder = (self.root / site).resolve()
        file = (folder / path.lstrip("/")).resolve()
        if not file.is_relative_to(folder) or not file.is_file():
            return None
        try:
            return _Entry(file.read_bytes(), file.stat().st_mtime, None)
        except OSError:
            return None

    def _substitute(self, body: bytes) -> bytes:
        # Bytes in, bytes out: the placeholder is ASCII, so this is right for
        # UTF-8 and for single-byte charsets such as windows-1252 alike.
        def base(match: re.Match[bytes]) -> bytes:
            site = match.group(1).decode()
            return self.base_url(site).encode() if site in self._servers else match.group(0)

        return _PLACEHOLDER.sub(base, body) if b"{{base:" in body else body

    def _log(self, record: RequestRecord, *, replaces: RequestRecord | None = None) -> None:
        with self._lock:
            if replaces is None:
                self._records.append(record)
            else:  # a record cleared meanwhile stays cleared
                for at in range(len(self._records) - 1, -1, -1):
                    if self._records[at] is replaces:
                        self._records[at] = record
                        break
        if self._log_to is not None and replaces is None:
            line = f"{record.site} {record.method} {record.path} {record.status}"
            print(line, file=self._log_to, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Serve the sites until Ctrl-C, printing each one's URL."""
    parser = argparse.ArgumentParser(
        prog="python -m demo.server", description="Serve presscut's demo sites on loopback."
    )
    parser.add_argument("--root", type=Path, default=SITES_ROOT, help="folder of site folders")
    parser.add_argument("--sites", help="comma-separated site names (default: all)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each request")
    parser.add_argument(
        "--delay", type=float, default=0.0, help="seconds each response waits (default 0)"
    )
    args = parser.parse_args(argv)
    sites = [s.strip() for s in args.sites.split(",") if s.strip()] if args.sites else None
    try:
        web = LocalWeb(
            args.root, sites, log_to=sys.stdout if args.verbose else None, delay=args.delay
        )
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    with web:
        width = max(len(site) for site in web.sites)
        for site in web.sites:
            print(f"{site:<{width}}  {web.base_url(site)}/", flush=True)
        print("serving until Ctrl-C", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
