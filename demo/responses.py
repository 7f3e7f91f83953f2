"""HTTP for `demo.server.LocalWeb`: what a request and an answer are, and
the rules a plain static web server follows (media types, conditional
requests, gzip, redirects, safe paths).  No sockets here: see
`demo.listener`."""

from __future__ import annotations

import posixpath
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".rss": "application/rss+xml",
    ".xml": "application/xml",
    ".atom": "application/atom+xml",
    ".rdf": "application/rdf+xml",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".ico": "image/x-icon",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"

#: Smaller bodies are sent as they are: gzip would not pay for its header.
GZIP_MIN_BYTES = 256

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request as a site received and answered it."""

    site: str
    method: str
    path: str
    """The path as requested, percent-encoding kept, without the query."""
    query: str
    headers: dict[str, str]
    """Request headers, names in canonical case (``If-None-Match``)."""
    status: int
    bytes_sent: int
    """Body bytes written, after compression; 0 for HEAD and 304."""
    time: float
    """When the request arrived, in seconds since the epoch."""
    aborted: bool = False
    """The client went away before the whole response was written."""


@dataclass(frozen=True, slots=True)
class Request:
    """What a route handler is given."""

    site: str
    method: str
    path: str
    """Decoded path, without the query."""
    query: str
    headers: dict[str, str]
    body: bytes
    base_url: str


#: A route handler's answer: status, headers, body (``str`` is sent as UTF-8).
#: ``Content-Type`` defaults by the path's extension; ETag, gzip and
#: conditional requests work as for files.
Response = tuple[int, Mapping[str, str], bytes | str]
Route = Callable[[Request], Response]


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    mtime: float | None = None


NOT_FOUND = b"<!doctype html><title>404 Not Found</title><h1>Not Found</h1>\n"


def call(route: Route, request: Request) -> Reply:
    try:
        status, headers, body = route(request)
    except Exception:
        traceback.print_exc()
        return Reply(500, {"Content-Type": CONTENT_TYPES[".txt"]}, b"route failed\n")
    data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    return Reply(int(status), dict(headers), data)


def redirect_reply(status: int, location: str) -> Reply:
    body = f'<!doctype html><title>Moved</title><a href="{location}">{location}</a>\n'
    return Reply(
        status, {"Location": location, "Content-Type": CONTENT_TYPES[".html"]}, body.encode()
    )


def request_path(raw: str) -> str | None:
    """The decoded, normalised path of a request (trailing slash kept), or
    None for one that is malformed or climbs out of the site."""
    path = unquote(raw)
    bad = not path.startswith("/") or "\x00" in path or "\\" in path
    if bad or ".." in path.split("/"):
        return None
    clean = posixpath.normpath(path).replace("//", "/")
    return clean + "/" if path.endswith("/") and clean != "/" else clean


def site_path(path: str) -> str:
    """A path given in code (leading slash optional), normalised like a
    request's; ValueError when it climbs out of the site."""
    clean = request_path(path if path.startswith("/") else "/" + path)
    if clean is None:
        raise ValueError(f"not a path on a site: {path!r}")
    return clean


def media_type(path: str) -> str:
    return CONTENT_TYPES.get(posixpath.splitext(path)[1].lower(), DEFAULT_CONTENT_TYPE)


def is_text(content_type: str) -> bool:
    kind = content_type.split(";")[0].strip().lower()
    return kind.startswith("text/") or kind.endswith(("xml", "json", "javascript"))


def canonical(name: str) -> str:
    return "ETag" if name.lower() == "etag" else "-".join(p.capitalize() for p in name.split("-"))


def gzip_etag(etag: str) -> str:
    return etag[:-1] + '-gzip"'


def accepts_gzip(accept_encoding: str) -> bool:
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.partition(";")
        if coding.strip() in ("gzip", "x-gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def not_modified(request: Mapping[str, str], response: Mapping[str, str]) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match, when sent, decides alone
    (weak comparison); otherwise If-Modified-Since against Last-Modified."""
    if "If-None-Match" in request:
        tags = {t.strip().removeprefix("W/") for t in request["If-None-Match"].split(",")}
        etag = response["ETag"]
        return "*" in tags or etag in tags or gzip_etag(etag) in tags
    since, modified = request.get("If-Modified-Since"), response.get("Last-Modified")
    if not since or not modified:
        return False
    try:
        return parsedate_to_datetime(modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):  # unparseable or naive dates: send the body
        return False
