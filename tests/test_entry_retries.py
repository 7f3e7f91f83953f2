"""Per-entry retry state (issue #12, part 3): a failed article is recorded on
its entry and brought back by the entry log, never by leaving its feed's
validators unsaved, so a broken link cannot defeat conditional polling."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scraper import retries
from storage import open_store
from tests.faultcrawl import article, crawl_round, rss, sources, stored, write_config
from tests.faultserver import FaultServer

HTML = "text/html; charset=utf-8"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    with FaultServer(hosts=2) as server:
        yield server


def test_transient_failures_back_off_then_give_up() -> None:
    waits = []
    attempts = 0
    for _ in range(3):
        step = retries.plan("timeout", "timed out", attempts, NOW)
        assert step.outcome == "failed"
        waits.append(step.retry_at - NOW if step.retry_at else None)
        attempts = step.attempts
    assert waits == [timedelta(hours=1), timedelta(hours=6), timedelta(hours=24)]
    last = retries.plan("http_5xx", "HTTP 503", attempts, NOW)
    assert (last.outcome, last.attempts, last.retry_at) == ("given_up", 4, None)
    assert last.reason == "given up after 4 attempts: http_5xx: HTTP 503"


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("http_4xx", "HTTP 404"),
        ("http_4xx", "HTTP 410"),
        ("parse_error", "not an HTML document"),
        ("too_large", "over the size cap"),
        ("redirect", "too many redirects or a redirect loop"),
    ],
)
def test_permanent_failures_are_given_up_at_once(kind: str, message: str) -> None:
    step = retries.plan(kind, message, 0, NOW)
    assert (step.outcome, step.retry_at) == ("given_up", None)
    assert step.reason == f"permanent failure: {kind}: {message}"


def test_429_and_resets_are_transient_and_the_database_costs_no_attempt() -> None:
    assert retries.plan("http_4xx", "HTTP 429 (Retry-After: 60)", 0, NOW).outcome == "failed"
    assert retries.plan("connection", "connection reset", 0, NOW).outcome == "failed"
    outage = retries.plan("database", "unavailable", 2, NOW)
    assert (outage.outcome, outage.attempts, outage.retry_at) == ("failed", 2, NOW)


def test_a_broken_link_does_not_defeat_conditional_polling(
    tmp_path: Path, faults: FaultServer
) -> None:
    """A feed listing a 404 and a never-answering article is polled with its
    ETag from the second round on, and neither article is fetched again in
    that round (the 404 is given up, the timeout waits for its retry)."""
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    base = faults.base_url(1)
    faults.put("/a/ok.html", article("Harbour wall repaired"), content_type=HTML)
    links = [("Good", "/a/ok.html"), ("Gone", "/a/gone.html"), ("Stuck", "/fault/silent")]
    faults.put("/feed.xml", rss(base, links), headers={"ETag": '"v1"'})
    config = write_config(tmp_path / "config", db, {"news": faults.url("/feed.xml")})

    first = crawl_round(config)
    assert first.status == "finished", first.output
    assert [c.url for c in stored(db)] == [f"{base}/a/ok.html"]
    assert first.summary["news"]["failed"] == 2
    row = sources(db)["news"]
    assert row.etag == '"v1"'
    assert row.last_error and "article " in row.last_error

    faults.log.clear()
    second = crawl_round(config)
    assert second.status == "finished", second.output
    feed = faults.served("/feed.xml")
    assert [s.headers.get("If-None-Match") for s in feed] == ['"v1"']
    assert {s.path for s in faults.log} <= {"/feed.xml", "/robots.txt"}

    store = open_store(db)
    try:
        health = store.source_health(datetime.now(UTC), 86_400.0, ["news"])[0]
    finally:
        store.close()
    assert (health.retrying, health.given_up) == (1, 1)


def test_a_timing_out_article_is_retried_in_a_later_round_not_every_round(
    tmp_path: Path, faults: FaultServer
) -> None:
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    base = faults.base_url(1)
    faults.put("/feed.xml", rss(base, [("Stuck", "/fault/silent")]), headers={"ETag": '"v1"'})
    delay = 15.0
    config = write_config(
        tmp_path / "config",
        db,
        {"news": faults.url("/feed.xml")},
        crawl={"article_retry_delays": [f"{delay:.0f}s", "1h"]},
    )
    first = crawl_round(config)
    failed_at = time.monotonic()
    assert first.error_kind("news") == "timeout", first.output
    assert len(faults.served("/fault/silent")) == 1

    # Before its retry is due: the article is left alone.
    second = crawl_round(config)
    assert time.monotonic() - failed_at < delay, "the round took longer than the retry delay"
    assert second.status == "finished", second.output
    assert len(faults.served("/fault/silent")) == 1

    # Once due, the entry log brings it back, though the feed answers 304.
    faults.put("/fault/silent", article("Ferry timetable changes"), content_type=HTML)
    time.sleep(max(0.0, delay - (time.monotonic() - failed_at)) + 0.5)
    third = crawl_round(config)
    assert third.status == "finished", third.output
    assert len(faults.served("/fault/silent")) == 2
    assert faults.served("/feed.xml")[-1].headers.get("If-None-Match") == '"v1"'
    assert [c.title for c in stored(db)] == ["Ferry timetable changes"]
    assert third.summary["news"]["new"] == 1
