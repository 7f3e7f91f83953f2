"""HTTP faults, at feed URLs and at article URLs, in one round: every status
class, Retry-After, redirect loops and redirects to other hosts and other
schemes, a 2 GB body streamed three ways, compression bombs with and
without a Content-Encoding header, a never-ending chunked stream, a wrong
Content-Type and an empty 200.  Each source gets its own error; the healthy
ones store their articles; the crawling process stays under 500 MB of
resident memory throughout (tests/test_faults_network.py runs the next
round)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scraper.errors import ERROR_KINDS
from tests.faultcrawl import article, crawl_round, rss, sources, stored, write_config
from tests.faultserver import BOMB_BYTES, FaultServer

STATUSES = (400, 401, 403, 404, 410, 429, 451, 500, 502, 503, 504)
MEMORY_CAP_MB = 500
HTML = "text/html; charset=utf-8"


@pytest.fixture(scope="module")
def faults() -> Iterator[FaultServer]:
    FaultServer.bomb("gzip"), FaultServer.bomb("br")  # made before any client waits
    with FaultServer(hosts=12) as server:
        yield server


def feed_at(server: FaultServer, path: str, links: list[tuple[str, str]], host: int = 0) -> None:
    server.put(path, rss(server.base_url(host), links, title=path))


def fault_sources(server: FaultServer) -> dict[str, tuple[str, str, str]]:
    """source id -> (feed URL, error code, words the message must hold)."""
    out = {}
    for index, status in enumerate(STATUSES):
        kind = "http_5xx" if status >= 500 else "http_4xx"
        url = server.url(f"/fault/status?code={status}", host=1 + index % 3)
        out[f"status-{status}"] = (url, kind, f"HTTP {status}")
    after = "/fault/status?retry_after=3600&code="
    out["retry-429"] = (server.url(after + "429", 4), "http_4xx", "Retry-After: 3600")
    out["retry-503"] = (server.url(after + "503", 4), "http_5xx", "Retry-After: 3600")
    out["loop"] = (server.url("/fault/loop", 5), "redirect", "redirect loop")
    for scheme, target in (("file", "file:///etc/passwd"), ("data", "data:text/xml,<rss/>")):
        url = server.url(f"/fault/redirect?to={target}", 5)
        out[f"to-{scheme}"] = (url, "redirect", target)
    for framing in ("length", "chunked", "close"):
        url = server.url(
            f"/fault/stream?framing={framing}", 6 + ("length", "chunked").count(framing)
        )
        out[f"2gb-{framing}"] = (url, "too_large", "")
    out["endless"] = (server.url("/fault/stream?size=endless&framing=chunked", 8), "too_large", "")
    out["bomb-gzip"] = (server.url("/fault/bomb?encoding=gzip", 9), "decompression_limit", "")
    out["bomb-br"] = (server.url("/fault/bomb?encoding=br", 9), "decompression_limit", "")
    out["bomb-bare"] = (server.url("/fault/bomb?header=0", 9), "parse_error", "not an RSS")
    out["empty"] = (server.url("/fault/empty", 10), "parse_error", "empty body")
    return out


def test_http_faults_fail_their_source_only(tmp_path: Path, faults: FaultServer) -> None:
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    base = faults.base_url(0)
    good = [
        ("Tide tables printed again", "/a/tides.html"),
        ("Lifeboat crew honoured", "/a/boat.html"),
    ]
    for title, path in good:
        faults.put(path, article(title), content_type=HTML)
    # A feed whose articles fail in every way an article can, beside two good ones.
    broken = [
        ("Gone", "/fault/status?code=404"),
        ("Server error", "/fault/status?code=500"),
        ("Loop", "/fault/loop"),
        ("Huge", "/fault/stream?type=text/html&framing=chunked"),
        ("Bomb", "/fault/bomb?type=text/html"),
        ("Bare bomb", "/fault/bomb?type=text/html&header=0"),
        ("Empty", "/fault/empty"),
    ]
    feed_at(faults, "/mixed.xml", good + broken)
    # A feed moved to another host, and one served with a wrong media type
    # whose article is served as a binary download.
    faults.put("/moved-article.html", article("Ferry timetable changes"), content_type=HTML)
    feed_at(faults, "/moved.xml", [("Ferry timetable changes", "/moved-article.html")], host=11)
    faults.put(
        "/odd-article.html", article("Museum reopens"), content_type="application/octet-stream"
    )
    faults.put(
        "/odd.xml",
        rss(base, [("Museum reopens", "/odd-article.html")]),
        content_type="image/png",
    )
    expected = fault_sources(faults)
    urls = {source_id: url for source_id, (url, _, _) in expected.items()}
    urls["mixed"] = faults.url("/mixed.xml")
    urls["moved"] = faults.url(f"/fault/redirect?to={faults.url('/moved.xml', 11)}", 0)
    urls["odd"] = faults.url("/odd.xml")
    config = write_config(tmp_path / "config", db, urls)

    started = time.monotonic()
    result = crawl_round(config)
    assert time.monotonic() - started < 60
    assert result.status == "finished", result.output
    assert result.peak_rss_mb < MEMORY_CAP_MB and result.workers_peak_rss_mb < MEMORY_CAP_MB

    rows = sources(db)
    for source_id, (_, kind, words) in expected.items():
        row = rows[source_id]
        assert row.last_error_kind == kind, (source_id, row.last_error)
        assert words in (row.last_error or ""), (source_id, row.last_error)
    for source_id in ("moved", "odd"):
        assert rows[source_id].last_error_kind is None, rows[source_id].last_error
        assert rows[source_id].last_success_at is not None
    # The feed itself read: no failure score; its articles' failures still
    # show on the source row, naming the article.
    mixed = rows["mixed"]
    assert mixed.last_success_at is not None and mixed.failure_score == 0.0
    assert mixed.last_error_kind in ERROR_KINDS, mixed.last_error
    assert (mixed.last_error or "").startswith(f"article {faults.base_url(0)}/fault/"), mixed
    titles = sorted(c.title or "" for c in stored(db))
    assert titles == sorted(["Tide tables printed again", "Lifeboat crew honoured",
                             "Ferry timetable changes", "Museum reopens"])  # fmt: skip
    # The failed articles are counted, and the first failure is reported.
    assert result.summary["mixed"]["failed"] == len(broken)
    assert result.summary["mixed"]["new"] == 2
    assert result.errors["mixed"]

    # The 2 GB and endless bodies were streamed and abandoned, never read whole.
    for served in faults.served("/fault/stream"):
        assert served.client_left and served.bytes_sent < 64_000_000, served
    # Each bomb's compressed body was read whole, its inflation stopped early.
    assert BOMB_BYTES > 100 * 2_000_000
    assert all(not s.client_left for s in faults.served("/fault/bomb"))
