"""The local web server (`demo.server.LocalWeb`): sites on their own loopback
addresses, placeholders, validators and 304s, HEAD, redirects, gzip, the
request log, content changed while running, clean stops, and the bundled demo
sites against demo/sites/expected.json."""

from __future__ import annotations

import gzip
import html
import http.client
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

from demo.server import SITES_ROOT, LocalWeb, Request

REPO = Path(__file__).resolve().parent.parent
STORY = "<html><body><article><h1>Story</h1>" + "<p>Waves over the wall.</p>" * 40 + "</article>"
MTIME = 1_790_000_000  # 2026-09-21, a whole second


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes


def fetch(
    url: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None
) -> Reply:
    """One request on its own connection; redirects are not followed."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(*address(url), timeout=10)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target, body=body, headers=headers or {})
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname and parts.port, url
    return parts.hostname, parts.port


@pytest.fixture
def root(tmp_path: Path) -> Path:
    files = {
        "alpha/index.html": '<a href="{{base:beta}}/feed.rss">beta</a> {{base:nowhere}}',
        "alpha/news/story.html": STORY,
        "alpha/docs/index.html": "<html>docs</html>",
        "alpha/feed.rss": "<rss><link>{{base:alpha}}/news/story.html</link></rss>",
        "alpha/_redirects": (
            "# moved pages\n"
            "/old.html   /news/story.html\n"
            "/elsewhere  {{base:beta}}/feed.rss  302\n"
            "/bad-status /news/story.html 200\n"
        ),
        "beta/feed.rss": "<rss>{{base:beta}}</rss>",
        "beta/feed.atom": "<feed/>",
        "beta/feed.xml": "<rss/>",
        "beta/robots.txt": "User-agent: *\nSitemap: {{base:beta}}/sitemap.xml\n",
        "beta/data.json": '{"home": "{{base:beta}}"}',
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        os.utime(path, (MTIME, MTIME))
    (tmp_path / "alpha" / "logo.png").write_bytes(b"\x89PNG{{base:alpha}}")
    (tmp_path / ".hidden").mkdir()  # not a site
    return tmp_path


@pytest.fixture
def web(root: Path) -> Iterator[LocalWeb]:
    with LocalWeb(root) as web:
        yield web


def test_each_site_has_its_own_loopback_address(web: LocalWeb) -> None:
    assert web.sites == ["alpha", "beta"]
    hosts = {address(web.base_url(site))[0] for site in web.sites}
    assert len(hosts) == 2
    assert all(host.startswith("127.") for host in hosts)
    assert fetch(web.url("alpha", "/news/story.html")).status == 200
    assert fetch(web.url("beta", "/news/story.html")).status == 404
    assert fetch(web.url("beta", "/feed.rss")).status == 200
    with pytest.raises(KeyError):
        web.base_url("gamma")


def test_sites_must_exist(root: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        LocalWeb(root, ["alpha", "gamma"])
    with pytest.raises(ValueError):
        LocalWeb(tmp_path / "alpha" / "news")  # a folder without site folders


def test_placeholders_become_base_urls_in_text_only(web: LocalWeb) -> None:
    page = fetch(web.url("alpha", "/")).body.decode()
    assert f'href="{web.base_url("beta")}/feed.rss"' in page
    assert "{{base:nowhere}}" in page  # no such site: left as written
    feed = fetch(web.url("alpha", "/feed.rss")).body.decode()
    assert f"<link>{web.base_url('alpha')}/news/story.html</link>" in feed
    assert (
        fetch(web.url("beta", "/robots.txt"))
        .body.decode()
        .endswith(f"Sitemap: {web.base_url('beta')}/sitemap.xml\n")
    )
    assert web.base_url("beta") in fetch(web.url("beta", "/data.json")).body.decode()
    assert fetch(web.url("alpha", "/logo.png")).body == b"\x89PNG{{base:alpha}}"


@pytest.mark.parametrize(
    ("site", "path", "content_type"),
    [
        ("alpha", "/news/story.html", "text/html; charset=utf-8"),
        ("alpha", "/", "text/html; charset=utf-8"),
        ("beta", "/feed.rss", "application/rss+xml"),
        ("beta", "/feed.atom", "application/atom+xml"),
        ("beta", "/feed.xml", "application/xml"),
        ("beta", "/robots.txt", "text/plain; charset=utf-8"),
        ("beta", "/data.json", "application/json"),
        ("alpha", "/logo.png", "image/png"),
    ],
)
def test_content_type_by_extension(web: LocalWeb, site: str, path: str, content_type: str) -> None:
    assert fetch(web.url(site, path)).headers["Content-Type"] == content_type


def test_etag_and_last_modified_validate(web: LocalWeb) -> None:
    url = web.url("alpha", "/news/story.html")
    first = fetch(url)
    etag = first.headers["ETag"]
    assert first.status == 200
    assert etag.startswith('"') and etag.endswith('"')  # strong
    assert first.headers["Last-Modified"] == formatdate(MTIME, usegmt=True)
    assert fetch(url).headers["ETag"] == etag  # a hash of the body: stable

    again = fetch(url, headers={"If-None-Match": etag})
    assert again.status == 304
    assert again.body == b""
    assert again.headers["ETag"] == etag
    assert fetch(url, headers={"If-None-Match": f'"other", W/{etag}'}).status == 304
    assert fetch(url, headers={"If-None-Match": "*"}).status == 304
    assert fetch(url, headers={"If-None-Match": '"other"'}).status == 200


def test_if_modified_since(web: LocalWeb) -> None:
    url = web.url("alpha", "/news/story.html")
    assert fetch(url, headers={"If-Modified-Since": formatdate(MTIME, usegmt=True)}).status == 304
    assert (
        fetch(url, headers={"If-Modified-Since": formatdate(MTIME + 60, usegmt=True)}).status
        == 304
    )
    assert (
        fetch(url, headers={"If-Modified-Since": formatdate(MTIME - 60, usegmt=True)}).status
        == 200
    )
    assert fetch(url, headers={"If-Modified-Since": "yesterday"}).status == 200
    # If-None-Match, when sent, decides alone.
    stale = {"If-None-Match": '"other"', "If-Modified-Since": formatdate(MTIME, usegmt=True)}
    assert fetch(url, headers=stale).status == 200


def test_head_is_get_without_a_body(web: LocalWeb) -> None:
    url = web.url("alpha", "/news/story.html")
    get, head = fetch(url), fetch(url, method="HEAD")
    assert head.status == 200
    assert head.body == b""
    for name in ("Content-Type", "Content-Length", "ETag", "Last-Modified"):
        assert head.headers[name] == get.headers[name]
    assert int(head.headers["Content-Length"]) == len(get.body)


def test_directories_serve_index_html(web: LocalWeb) -> None:
    assert fetch(web.url("alpha", "/docs/")).body == b"<html>docs</html>"
    moved = fetch(web.url("alpha", "/docs") + "?x=1")
    assert moved.status == 301
    assert moved.headers["Location"] == web.url("alpha", "/docs/?x=1")
    assert fetch(web.url("alpha", "/news/")).status == 404  # no index.html there


def test_redirects_file(web: LocalWeb) -> None:
    moved = fetch(web.url("alpha", "/old.html"))
    assert moved.status == 301
    assert moved.headers["Location"] == web.url("alpha", "/news/story.html")
    away = fetch(web.url("alpha", "/elsewhere"), method="HEAD")
    assert away.status == 302
    assert away.headers["Location"] == web.url("beta", "/feed.rss")
    assert fetch(web.url("alpha", "/bad-status")).status == 404  # not a redirect status
    assert fetch(web.url("alpha", "/_redirects")).status == 404  # never served


def test_not_found_and_paths_outside_the_site(web: LocalWeb) -> None:
    missing = fetch(web.url("alpha", "/nothing-here.html"))
    assert missing.status == 404
    assert missing.headers["Content-Type"].startswith("text/html")
    assert b"Not Found" in missing.body
    web.set_file("alpha", "/404.html", "<h1>Lost at sea</h1>")
    assert fetch(web.url("alpha", "/nowhere")).body == b"<h1>Lost at sea</h1>"
    base = web.base_url("alpha")
    for path in ("/../beta/feed.rss", "/%2e%2e/beta/feed.rss", "/news/..%2f..%2fbeta/feed.rss"):
        assert fetch(base + path).status == 404, path


def test_gzip_when_accepted(web: LocalWeb) -> None:
    url = web.url("alpha", "/news/story.html")
    plain = fetch(url)
    packed = fetch(url, headers={"Accept-Encoding": "br, gzip;q=0.8"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Vary"] == "Accept-Encoding"
    assert int(packed.headers["Content-Length"]) == len(packed.body) < len(plain.body)
    assert gzip.decompress(packed.body) == plain.body
    # A strong ETag names one representation; either validates.
    assert packed.headers["ETag"] == plain.headers["ETag"][:-1] + '-gzip"'
    assert fetch(url, headers={"If-None-Match": packed.headers["ETag"]}).status == 304
    refused = fetch(url, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers
    small = fetch(web.url("alpha", "/docs/"), headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers  # too small to be worth it


def test_request_log(web: LocalWeb) -> None:
    before = time.time()
    fetch(web.url("beta", "/feed.rss") + "?page=2", headers={"if-none-match": '"x"'})
    fetch(web.url("alpha", "/missing"), method="HEAD")
    first, second = web.requests
    assert (first.site, first.method, first.path, first.query) == (
        "beta",
        "GET",
        "/feed.rss",
        "page=2",
    )
    assert first.headers["If-None-Match"] == '"x"'  # canonical names
    assert first.status == 200
    assert first.bytes_sent == len(f"<rss>{web.base_url('beta')}</rss>")
    assert before <= first.time <= second.time <= time.time()
    assert (second.site, second.method, second.status, second.bytes_sent) == (
        "alpha",
        "HEAD",
        404,
        0,
    )
    assert not first.aborted
    web.clear_requests()
    assert web.requests == []


def test_set_file_and_remove_file_change_a_running_site(web: LocalWeb, root: Path) -> None:
    url = web.url("beta", "/feed.rss")
    old = fetch(url)
    web.set_file("beta", "/feed.rss", "<rss><item>new</item></rss>")
    new = fetch(url)
    assert new.body == b"<rss><item>new</item></rss>"
    assert new.headers["ETag"] != old.headers["ETag"]
    assert new.headers["Content-Type"] == "application/rss+xml"
    assert fetch(url, headers={"If-None-Match": old.headers["ETag"]}).status == 200
    # Last-Modified moves on even within the same second.
    since = {"If-Modified-Since": new.headers["Last-Modified"]}
    web.set_file("beta", "feed.rss", b"<rss><item>newer</item></rss>")
    assert fetch(url, headers=since).status == 200

    web.set_file("beta", "/news/fresh.html", "<p>{{base:alpha}}</p>")
    fresh = fetch(web.url("beta", "/news/fresh.html"))
    assert fresh.body.decode() == f"<p>{web.base_url('alpha')}</p>"
    web.set_file("beta", "/raw", b"<x/>", content_type="application/xml")
    assert fetch(web.url("beta", "/raw")).headers["Content-Type"] == "application/xml"

    web.remove_file("beta", "/robots.txt")
    assert fetch(web.url("beta", "/robots.txt")).status == 404
    assert (root / "beta" / "robots.txt").exists()  # nothing on disk is touched
    with pytest.raises(ValueError):
        web.set_file("beta", "/../alpha/x.html", "no")
    with pytest.raises(KeyError):
        web.set_file("gamma", "/x.html", "no")

    web.reset()
    assert fetch(url).body == old.body
    assert fetch(web.url("beta", "/robots.txt")).status == 200


def test_routes_answer_from_code(web: LocalWeb) -> None:
    seen: list[Request] = []

    def busy(request: Request) -> tuple[int, dict[str, str], str]:
        seen.append(request)
        return 503, {"Retry-After": "5", "Content-Type": "text/plain"}, "busy {{base:beta}}"

    web.add_route("alpha", "/api/status", busy)
    reply = fetch(web.url("alpha", "/api/status?full=1"), method="POST", body=b"ping")
    assert reply.status == 503
    assert reply.headers["Retry-After"] == "5"
    assert reply.body.decode() == f"busy {web.base_url('beta')}"
    (request,) = seen
    assert (request.site, request.method, request.path, request.query) == (
        "alpha",
        "POST",
        "/api/status",
        "full=1",
    )
    assert request.body == b"ping"
    assert request.base_url == web.base_url("alpha")

    web.add_route("alpha", "/feed.rss", lambda request: (200, {}, "<rss>dynamic</rss>"))
    dynamic = fetch(web.url("alpha", "/feed.rss"))
    assert dynamic.body == b"<rss>dynamic</rss>"
    assert dynamic.headers["Content-Type"] == "application/rss+xml"
    assert (
        fetch(
            web.url("alpha", "/feed.rss"), headers={"If-None-Match": dynamic.headers["ETag"]}
        ).status
        == 304
    )

    def broken(request: Request) -> tuple[int, dict[str, str], bytes]:
        raise RuntimeError("route bug")

    web.add_route("alpha", "/broken", broken)
    assert fetch(web.url("alpha", "/broken")).status == 500
    assert fetch(web.url("alpha", "/news/story.html")).status == 200
    assert fetch(web.url("alpha", "/news/story.html"), method="DELETE").status == 405


def test_keep_alive_serves_several_requests_on_one_connection(web: LocalWeb) -> None:
    conn = http.client.HTTPConnection(*address(web.base_url("alpha")), timeout=10)
    try:
        for path in ("/news/story.html", "/missing", "/docs/", "/old.html"):
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            assert not response.will_close
    finally:
        conn.close()


def test_a_client_that_hangs_up_mid_response_does_not_break_the_server(
    web: LocalWeb, root: Path
) -> None:
    (root / "alpha" / "big.txt").write_bytes(b"x" * (48 * 1024 * 1024))
    host, port = address(web.base_url("alpha"))
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"GET /big.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        # Reset rather than close: the server's next write fails at once.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    deadline = time.monotonic() + 10
    while not any(r.aborted for r in web.requests) and time.monotonic() < deadline:
        time.sleep(0.02)
    (record,) = web.requests
    assert record.aborted
    assert record.status == 200
    assert record.bytes_sent < 48 * 1024 * 1024
    for _ in range(3):
        assert fetch(web.url("alpha", "/news/story.html")).status == 200
    # A client that goes away before finishing its request line.
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"GET /news/sto")
    assert fetch(web.url("alpha", "/docs/")).status == 200


def test_stop_frees_the_ports(root: Path) -> None:
    web = LocalWeb(root)
    with web:
        addresses = [address(web.base_url(s)) for s in web.sites]
        urls = [web.base_url(site) for site in web.sites]
        threads = [t for t in threading.enumerate() if t.name.split()[-1] in urls]
        assert len(threads) == len(urls)
        assert all(t.daemon for t in threads)
        # An idle keep-alive connection must not hold the stop up.
        idle = http.client.HTTPConnection(*addresses[0], timeout=10)
        idle.request("GET", "/docs/")
        idle.getresponse().read()
    idle.close()
    assert not any(t.is_alive() for t in threads)
    for where in addresses:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(where, timeout=2).close()
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(where)
    with pytest.raises(KeyError):
        web.base_url("alpha")
    web.stop()  # idempotent
    with web:  # and it starts again
        assert fetch(web.url("alpha", "/docs/")).status == 200


def test_command_line_serves_until_interrupted(root: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "demo.server", "--root", str(root), "--sites", "beta", "-v"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        name, url = process.stdout.readline().split()
        assert name == "beta" and url.startswith("http://127.")
        assert fetch(url + "feed.rss").status == 200
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0, err
    assert "beta GET /feed.rss 200" in out


EXPECTED = json.loads((SITES_ROOT / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def demo_web() -> Iterator[LocalWeb]:
    with LocalWeb(SITES_ROOT) as web:
        yield web


@pytest.mark.parametrize("site", sorted(EXPECTED))
def test_demo_site_serves_its_expected_articles(demo_web: LocalWeb, site: str) -> None:
    info = EXPECTED[site]
    feed_url = demo_web.url(site, info["feed"])
    feed = fetch(feed_url)
    assert feed.status == 200
    assert feed.headers["Content-Type"].startswith("application/")
    assert b"{{base:" not in feed.body
    # Links as a feed reader resolves them (xml:base, relative hrefs), less
    # the tracking parameters some feeds add.
    parsed = feedparser.parse(feed.body, response_headers={"content-location": feed_url})
    links = {entry.link.split("?utm_")[0] for entry in parsed.entries}
    assert len(links) == len(info["articles"])
    for article in info["articles"]:
        url = demo_web.url(site, article["path"])
        assert url in links, f"{url} not in the feed"
        reply = fetch(url)
        if article["url_variant_of"]:
            original_site, original_path = article["url_variant_of"]
            assert reply.status in (301, 302, 308)
            assert reply.headers["Location"] == demo_web.url(original_site, original_path)
            continue
        assert reply.status == 200, url
        page = reply.body.decode("utf-8")
        assert html.escape(article["title"], quote=True) in page
        assert f'datetime="{article["date"]}T' in page
        for author in article["authors"]:
            assert author in page
        if article["syndicated_from"]:
            original_site, original_path = article["syndicated_from"]
            assert demo_web.url(original_site, original_path) in page  # links its original
    assert fetch(demo_web.url(site, "/robots.txt")).status == 200


def test_demo_sites_are_half_on_topic_and_in_autumn_2026() -> None:
    articles = [
        a for info in EXPECTED.values() for a in info["articles"] if not a["url_variant_of"]
    ]
    on_topic = [a for a in articles if a["on_topic"]]
    assert 0.35 <= len(on_topic) / len(articles) <= 0.65
    assert all("2026-09-01" <= a["date"] <= "2026-11-30" for a in articles)
    assert any(a["syndicated_from"] for a in articles)
    assert {a["language"] for a in articles} >= {"en", "el"}
