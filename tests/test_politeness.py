"""Politeness: Retry-After and backoff alone, then crawls of the mock sites
that check what the servers saw: waits after 429/503, a failing host left
alone after its error budget, per-host spacing and concurrency while several
sites are crawled at once, and the explicit robots.txt override."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from itertools import pairwise
from pathlib import Path

import pytest

from demo.server import LocalWeb, Request, RequestRecord
from scraper.politeness import HostLedger, retry_after_seconds
from tests.crawling import presscut
from tests.mock_sites import SITES, dated, fetched, paths, serve, stored, write_config

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (b"0", 0.0),
        (" 7 ", 7.0),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        (format_datetime(NOW - timedelta(hours=1), usegmt=True), 0.0),  # a date past: now
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_seconds(value: str | bytes | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, now=NOW) == seconds


def test_ledger_backoff_ceiling_and_budget() -> None:
    ledger = HostLedger(backoff=1.0, ceiling=5.0, budget=4)
    failure = RuntimeError("boom")
    assert [ledger.failed("a", failure) for _ in range(3)] == [1.0, 2.0, 4.0]
    assert ledger.spent("a") is None
    ledger.succeeded("a")  # a success ends the run of failures
    assert ledger.failed("a", failure) == 1.0
    assert ledger.failed("a", failure, retry_after=3600) == 5.0  # clamped
    assert ledger.failed("a", failure, retry_after=0.5) == 0.5
    assert ledger.failed("a", failure) == 5.0  # 8s, clamped
    state = ledger.spent("a")
    assert state is not None and state.last is failure and state.failures == 4
    ledger.succeeded("a")  # too late: spent for the round
    assert ledger.spent("a") is not None
    assert ledger.spent("b") is None and ledger.failed("b", failure) == 1.0


# -- crawls ---------------------------------------------------------------------------

WIRE = """
[[sources]]
id = "wire"
outlet = "Flaky Wire"
url = "{{base:flaky-wire}}/feed.xml"
"""


def article(web: LocalWeb, n: int) -> str:
    """Story ``n`` of the wire as its file would serve it."""
    text = dated((SITES / "flaky-wire" / "wire" / f"{n}.html").read_text(encoding="utf-8"), NOW)
    return text.replace("{{base:flaky-wire}}", web.base_url("flaky-wire"))


def faulty(web: LocalWeb, n: int, answers: list[tuple[int, dict[str, str]]]) -> None:
    """Story ``n`` answers ``answers`` in turn, then the story for good."""
    lock, calls = threading.Lock(), iter(answers)

    def route(request: Request) -> tuple[int, dict[str, str], str]:
        with lock:
            status, headers = next(calls, (200, {}))
        body = article(web, n) if status == 200 else f"<h1>{status}</h1>"
        return status, {"Content-Type": "text/html; charset=utf-8", **headers}, body

    web.add_route("flaky-wire", f"/wire/{n}.html", route)


def crawl(config: Path, timeout: float = 120) -> str:
    result = presscut("crawl", "--all", "--config", str(config), timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


@pytest.fixture
def wire() -> Iterator[LocalWeb]:
    web = serve(["flaky-wire"])
    yield web
    web.stop()


def after(records: list[RequestRecord], path: str, status: int) -> float:
    """Seconds from the request to ``path`` answered ``status`` to the
    host's next request."""
    for record, following in pairwise(records):
        if record.path == path and record.status == status:
            return following.time - record.time
    raise AssertionError(f"no {status} for {path} followed by a request: {records}")


def test_retry_after_and_backoff_pause_the_host(tmp_path: Path, wire: LocalWeb) -> None:
    faulty(wire, 1, [(429, {"Retry-After": "1"})])
    faulty(wire, 2, [(503, {"Retry-After": "3600"})])  # cut to retry_after_max
    faulty(wire, 3, [(500, {}), (502, {})])
    db_url = f"sqlite:///{tmp_path / 'presscut.db'}"
    config = write_config(
        tmp_path / "config",
        wire,
        db_url,
        WIRE,
        per_host=1,
        retry_backoff=0.4,
        retry_after_max=1.5,
    )
    started = datetime.now(UTC)
    crawl(config)
    took = (datetime.now(UTC) - started).total_seconds()

    records = fetched(wire, "flaky-wire")
    assert len(stored(db_url)) == 6  # every story arrived in the end
    counts = Counter(paths(records))
    assert (counts["/wire/1.html"], counts["/wire/2.html"], counts["/wire/3.html"]) == (2, 2, 3)
    # The whole host rests: no request of any kind until the wait is over.
    assert after(records, "/wire/1.html", 429) >= 0.95
    assert 1.45 <= after(records, "/wire/2.html", 503) < 5  # 3600s asked, 1.5s given
    assert after(records, "/wire/3.html", 500) >= 0.38
    assert after(records, "/wire/3.html", 502) >= 0.38
    assert took < 60


def test_error_budget_stops_hammering_a_failing_host(tmp_path: Path, wire: LocalWeb) -> None:
    for n in range(1, 7):
        faulty(wire, n, [(500, {})] * 100)
    db_url = f"sqlite:///{tmp_path / 'presscut.db'}"
    config = write_config(
        tmp_path / "config",
        wire,
        db_url,
        WIRE,
        per_host=1,
        retry_backoff=0.05,
        host_error_budget=3,
    )
    output = crawl(config)
    wire_requests = [p for p in paths(fetched(wire, "flaky-wire")) if p.startswith("/wire/")]
    assert len(wire_requests) == 3, wire_requests  # the budget, then silence
    assert stored(db_url) == {}
    assert "6" in output and "HTTP 500" in output  # six failed, with the host's error
    assert "are not sent" in output  # the warning naming the host


def test_error_budget_replays_timeouts(tmp_path: Path, wire: LocalWeb) -> None:
    # Counted on arrival: the server logs a request only once its (slow)
    # answer is ready, which may be after the crawl has ended.
    arrived: list[str] = []

    def slow(request: Request) -> tuple[int, dict[str, str], str]:
        arrived.append(request.path)
        threading.Event().wait(2.5)
        return 200, {}, "too late"

    for n in range(1, 7):
        wire.add_route("flaky-wire", f"/wire/{n}.html", slow)
    db_url = f"sqlite:///{tmp_path / 'presscut.db'}"
    config = write_config(
        tmp_path / "config",
        wire,
        db_url,
        WIRE,
        per_host=1,
        download_timeout=1.0,
        retry_times=1,
        retry_backoff=0.05,
        host_error_budget=2,
    )
    output = crawl(config)
    wire_requests = [p for p in arrived if p.startswith("/wire/")]
    # The budget; one more may be on its way before a timeout is known.
    assert 2 <= len(wire_requests) <= 3, wire_requests
    assert "timeout" in output and "are not sent" in output


SEVERAL = """
[[sources]]
id = "gazette-sitemaps"
outlet = "The Tidewater Gazette"
kind = "sitemap"
url = "{{base:tidewater-gazette}}/sitemap_index.xml"
url_pattern = "/news/"

[[sources]]
id = "gazette-news"
outlet = "The Tidewater Gazette"
kind = "sitemap"
url = "{{base:tidewater-gazette}}/news-sitemap.xml"

[[sources]]
id = "council-press"
outlet = "Saltmarsh District Council"
kind = "section"
url = "{{base:saltmarsh-council}}/press/"

[[sources]]
id = "wire"
outlet = "Flaky Wire"
url = "{{base:flaky-wire}}/feed.xml"
"""
DISALLOWED = {
    "tidewater-gazette": "/news/drafts/",
    "saltmarsh-council": "/press/internal/",
}


def in_flight(records: list[RequestRecord], hold: float) -> int:
    """Most requests in flight at once, each held ``hold`` seconds from arrival."""
    events = sorted([(r.time, 1) for r in records] + [(r.time + hold, -1) for r in records])
    most = current = 0
    for _, change in events:
        current += change
        most = max(most, current)
    return most


def test_spacing_and_concurrency_per_host_across_sites(tmp_path: Path) -> None:
    sites = ["tidewater-gazette", "saltmarsh-council", "flaky-wire"]
    web = serve(sites, delay=0.15)  # each response takes 0.15s, like a distant site
    try:
        db_url = f"sqlite:///{tmp_path / 'presscut.db'}"
        config = write_config(
            tmp_path / "config", web, db_url, SEVERAL, download_delay=0.2, per_host=2
        )
        crawl(config)
        records = web.requests
    finally:
        web.stop()

    by_site: dict[str, list[RequestRecord]] = defaultdict(list)
    for record in records:
        by_site[record.site].append(record)
    assert set(by_site) == set(sites)
    assert len(stored(db_url)) == 5 + 4 + 6
    for site, seen in by_site.items():
        assert in_flight(seen, 0.15 * 0.9) <= 2, site
        gaps = sorted(b.time - a.time for a, b in pairwise(seen))
        # the delay (0.2s, jittered by up to half) or the Crawl-delay (0.5s).
        # Arrival times are taken by server threads on a loaded machine (a
        # stamp can land 0.15 s late), so one gap may read short; no second
        # one may, and the median may not.
        if site == "saltmarsh-council":
            assert gaps[0] >= 0.3 and gaps[1] >= 0.45, (site, gaps)
            assert gaps[len(gaps) // 2] >= 0.48, (site, gaps)
        else:
            assert gaps[0] >= 0.2 * 0.5 - 0.02, (site, gaps)
        if site in DISALLOWED:
            assert not [r.path for r in seen if r.path.startswith(DISALLOWED[site])]
    # ...while the hosts were crawled side by side, not one after another.
    assert in_flight(records, 0.15 * 0.9) >= 2
    council = by_site["saltmarsh-council"]
    overlapping = [r for r in records if r.site != "saltmarsh-council"]
    assert any(council[0].time < r.time < council[-1].time for r in overlapping)


IGNORING = """
[[sources]]
id = "council-press"
outlet = "Saltmarsh District Council"
kind = "section"
url = "{{base:saltmarsh-council}}/press/"
max_pages = 1
ignore_robots = true
"""


def test_ignore_robots_is_explicit_and_loud(tmp_path: Path) -> None:
    web = serve(["saltmarsh-council"])
    try:
        db_url = f"sqlite:///{tmp_path / 'presscut.db'}"
        config = write_config(tmp_path / "config", web, db_url, IGNORING)
        output = crawl(config)
        requested = paths(fetched(web, "saltmarsh-council"))
    finally:
        web.stop()
    assert "/press/internal/draft-statement-on-budget-cuts/" in requested
    assert "/robots.txt" not in requested
    assert "robots.txt IGNORED" in output and "council-press" in output
