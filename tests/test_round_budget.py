"""A round's length is set by politeness, not by faults (issue #12, part 4):
no in-round retry of a timeout or a cut body, a Retry-After past the round's
end moved to a later round, and ``crawl.round_budget`` stopping the hosts.
Nothing listed is lost: whatever is not fetched (held back, past the
per-round cap, a listing page that failed) is recorded on an entry and
fetched later, none twice, while the source's validators are saved."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, select

from scraper import retries
from scraper.errors import LeftForNextRound
from scraper.round_budget import RoundBudget
from storage.models import entries
from tests.crawling import presscut
from tests.faultcrawl import article, crawl_round, prose, rss, sources, stored, write_config
from tests.faultserver import FaultServer

HTML = "text/html; charset=utf-8"


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    """The fault server on two loopback hosts; the tests' sites are on host 1."""
    with FaultServer(hosts=2) as server:
        yield server


def serve_stories(faults: FaultServer, stories: list[tuple[str, str]]) -> None:
    """Serve ``(title, path)`` stories, each unlike the others, and a feed
    of them at ``/feed.xml`` with an ETag, all on host 1."""
    for n, (title, path) in enumerate(stories):
        faults.put(path, story(title, n), content_type=HTML)
    faults.put("/feed.xml", rss(faults.base_url(1), stories), headers={"ETag": '"v1"'})


def entry_rows(db: str) -> dict[str, tuple[str, datetime | None, int]]:
    """``url -> (outcome, retry_at, attempts)`` of the seen-entry log."""
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(entries.c.url, entries.c.outcome, entries.c.retry_at, entries.c.attempts)
            )
            return {row.url: (row.outcome, row.retry_at, row.attempts) for row in rows if row.url}
    finally:
        engine.dispose()


def story(title: str, n: int) -> str:
    """An article page whose text shares few words with any other ``n``'s:
    many stories of one source must not look like near-duplicates."""
    words = [f"{w}{n}" if i % 2 else w for i, w in enumerate(prose(title, 300).split())]
    paragraphs = "".join(f"<p>{' '.join(words[i : i + 50])}</p>" for i in range(0, 300, 50))
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"</head><body><article><h1>{title}</h1>{paragraphs}</article></body></html>"
    )


# -- the clock ------------------------------------------------------------------------


def test_the_budget_holds_every_host_once_spent() -> None:
    budget = RoundBudget(10.0)
    assert budget.hold("a", now=5.0) is None  # not started: no round, no budget
    budget.start(now=100.0)
    assert budget.remaining(now=104.0) == 6.0
    assert budget.hold("a", now=109.9) is None
    held = budget.hold("a", now=110.0)
    assert isinstance(held, LeftForNextRound) and held.retry_in == 0.0
    assert "round budget of 10s spent" in str(held)
    assert budget.hold("b", now=110.5) is not None
    assert budget.report() == {
        "a": "1 request(s) left for a later round: round budget of 10s spent",
        "b": "1 request(s) left for a later round: round budget of 10s spent",
    }


def test_a_host_closed_by_its_wait_is_held_until_then() -> None:
    budget = RoundBudget(60.0)
    budget.start(now=0.0)
    budget.close("slow", "Retry-After 3600s runs past the round", 3600.0, now=10.0)
    held = budget.hold("slow", now=20.0)
    assert held is not None and held.retry_in == 3590.0
    assert budget.hold("other", now=20.0) is None


def test_a_retry_after_replaces_the_attempts_delay_up_to_the_longest() -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    step = retries.plan("http_5xx", "HTTP 503", 0, now, retry_after=7200.0)
    assert (step.outcome, step.attempts, step.retry_at) == ("failed", 1, now + timedelta(hours=2))
    capped = retries.plan("http_4xx", "HTTP 429", 0, now, retry_after=10 * 86400.0)
    assert capped.retry_at == now + timedelta(hours=24)


# -- crawls ---------------------------------------------------------------------------


def test_a_never_ending_stream_is_fetched_once_per_round(
    tmp_path: Path, faults: FaultServer
) -> None:
    """With two retries allowed, a 500 is still retried within the round,
    but a body that never ends (cut at the timeout) and a body cut by a
    reset are fetched once: their entries take them to a later round."""
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    base = faults.base_url(1)
    links = [
        ("Stuck", "/fault/drip?every=0.5"),
        ("Cut", "/fault/reset"),
        ("Broken", "/fault/status?code=500"),
    ]
    faults.put("/feed.xml", rss(base, links))
    config = write_config(
        tmp_path / "config",
        db,
        {"news": faults.url("/feed.xml")},
        crawl={"retry_times": 2, "retry_backoff": 0.1, "download_timeout": 1.5},
    )
    started = time.monotonic()
    first = crawl_round(config)
    took = time.monotonic() - started
    assert first.status == "finished", first.output
    assert len(faults.served("/fault/drip")) == 1
    assert len(faults.served("/fault/reset")) == 1
    assert len(faults.served("/fault/status")) == 3  # a quick fault, retried
    assert first.summary["news"]["failed"] == 3
    assert first.stats.get("politeness/not_retried_in_round") == 2
    rows = entry_rows(db)
    assert rows[f"{base}/fault/drip?every=0.5"][0] == "failed"
    assert rows[f"{base}/fault/drip?every=0.5"][2] == 1
    # One timeout, not three; the child process's start-up is the rest.
    assert took < 3 * 1.5 + 15

    second = crawl_round(config)
    assert second.status == "finished", second.output
    assert len(faults.served("/fault/drip")) == 1  # its retry is not due yet


def test_a_retry_after_past_the_round_is_moved_to_a_later_round(
    tmp_path: Path, faults: FaultServer
) -> None:
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    base = faults.base_url(1)
    others = [(f"Story {n}", f"/a/{n}.html") for n in range(3)]
    for title, path in others:
        faults.put(path, article(title), content_type=HTML)
    # Listed last, requested first (the scheduler's queue is last in, first out).
    links = [*others, ("Busy", "/fault/status?code=503&retry_after=3600")]
    faults.put("/feed.xml", rss(base, links))
    config = write_config(
        tmp_path / "config",
        db,
        {"news": faults.url("/feed.xml")},
        crawl={
            "retry_times": 2,
            "retry_after_max": 120.0,
            "concurrent_requests_per_host": 1,
            "round_budget": "60s",
        },
    )
    started = time.monotonic()
    first = crawl_round(config)
    took = time.monotonic() - started
    finished = datetime.now(UTC)
    assert first.status == "finished", first.output
    assert took < 40, "the round waited the Retry-After out"
    assert len(faults.served("/fault/status")) == 1  # not retried within the round
    rows = entry_rows(db)
    busy = rows[f"{base}/fault/status?code=503&retry_after=3600"]
    assert busy[0] == "failed" and busy[1] is not None
    assert busy[1] >= finished + timedelta(seconds=3500)
    # The host's other stories were not sent: pending, no sooner than its wait.
    fetched = {s.path for s in faults.log}
    left = [p for _, p in others if p not in fetched]
    assert left, "no story was held back"
    for path in left:
        outcome, retry_at, attempts = rows[f"{base}{path}"]
        assert (outcome, attempts) == ("pending", 0)
        assert retry_at is not None and retry_at >= finished + timedelta(seconds=3500)
    assert first.summary["news"]["pending"] == len(left)
    assert "Retry-After 3600s runs past the round" in first.stopped[urlsplit(base).hostname]
    stored_urls = {c.url for c in stored(db)}
    assert stored_urls == {f"{base}{p}" for _, p in others if p in fetched}


def test_a_round_budget_stops_a_slow_host_and_the_next_round_fetches_the_rest(
    tmp_path: Path, faults: FaultServer
) -> None:
    """Crawl-delay 1, twelve stories and a budget of 6 s (the feed is read
    in a worker process started with the round, which takes part of it): a
    few stories in the first round at most, the rest pending; the feed's
    validators are saved all the same, and the next round (the feed
    answering 304) fetches exactly the rest."""
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    base = faults.base_url(1)
    faults.put("/robots.txt", "User-agent: *\nCrawl-delay: 1\n", content_type="text/plain")
    stories = [(f"Harbour story {n}", f"/a/{n}.html") for n in range(12)]
    serve_stories(faults, stories)
    folder = tmp_path / "config"
    crawl = {"round_budget": "6s"}
    config = write_config(folder, db, {"news": faults.url("/feed.xml", host=1)}, crawl=crawl)

    first = crawl_round(config)
    assert first.status == "finished", first.output
    fetched_first = [s.path for s in faults.log if s.path.startswith("/a/")]
    assert len(fetched_first) < len(stories) - 3, fetched_first
    # Stopped before the host's own work (robots.txt, feed and twelve
    # stories, a second apart) was done; the rest is closing the round.
    assert first.stats["elapsed_time_seconds"] < len(stories) + 1
    pending = first.summary["news"]["pending"]
    assert pending == len(stories) - len(fetched_first)
    assert "round budget of 6s spent" in first.stopped[urlsplit(base).hostname]
    assert sources(db)["news"].etag == '"v1"'  # saved: the entry log keeps the rest
    rows = entry_rows(db)
    assert sorted(o for o, _, _ in rows.values()) == ["pending"] * pending

    write_config(folder, db, {"news": faults.url("/feed.xml", host=1)}, crawl={})
    second = crawl_round(config)
    assert second.status == "finished", second.output
    assert faults.served("/feed.xml")[-1].headers.get("If-None-Match") == '"v1"'
    fetched = [s.path for s in faults.log if s.path.startswith("/a/")]
    assert sorted(fetched) == sorted(p for _, p in stories)  # each once: none twice
    assert second.summary["news"]["new"] == pending, (second.summary, second.errors)
    assert sorted(c.url for c in stored(db)) == sorted(f"{base}{p}" for _, p in stories)
    assert not second.stopped


def test_entries_past_the_per_round_cap_are_pending_not_hidden_by_the_validators(
    tmp_path: Path, faults: FaultServer
) -> None:
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    stories = [(f"Ferry story {n}", f"/a/{n}.html") for n in range(5)]
    serve_stories(faults, stories)
    config = write_config(
        tmp_path / "config",
        db,
        {"news": faults.url("/feed.xml", host=1)},
        crawl={"max_articles_per_source": 2},
    )
    counts = []
    for _ in range(3):
        report = crawl_round(config)
        assert report.status == "finished", report.output
        counts.append(
            (report.summary["news"].get("new", 0), report.summary["news"].get("pending", 0))
        )
        assert sources(db)["news"].etag == '"v1"'
    assert counts == [(2, 3), (2, 0), (1, 0)]
    conditional = [s.headers.get("If-None-Match") for s in faults.served("/feed.xml")]
    assert conditional == [None, '"v1"', '"v1"']
    fetched = [s.path for s in faults.log if s.path.startswith("/a/")]
    assert sorted(fetched) == sorted(p for _, p in stories)
    assert len(stored(db)) == 5


def test_a_failed_listing_page_is_an_entry_and_comes_back_though_page_one_is_unchanged(
    tmp_path: Path, faults: FaultServer
) -> None:
    """A section's second page fails: its source's validators are saved
    (page one answers 304 next time), and the page's own entry brings it
    back; once read, the entry goes and the page is not fetched again."""
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    base = faults.base_url(1)
    stories = [(f"Quay story {n}", f"/news/{n}.html") for n in range(4)]
    for n, (title, path) in enumerate(stories):
        faults.put(path, story(title, n), content_type=HTML)

    def listing(items: list[tuple[str, str]], following: str | None) -> str:
        links = "".join(f"<li><a href='{base}{p}'>{t}</a></li>" for t, p in items)
        more = f"<a rel='next' href='{base}{following}'>Next page</a>" if following else ""
        return f"<!doctype html><html><body><ul>{links}</ul>{more}</body></html>"

    page_two = "/press/page2.html"
    faults.put(
        "/press/", listing(stories[:2], page_two), content_type=HTML, headers={"ETag": '"p1"'}
    )
    faults.put(page_two, "<h1>Error</h1>", content_type=HTML, status=500)
    folder = tmp_path / "config"
    write_config(folder, db, {}, crawl={"article_retry_delays": ["1s", "1h"]})
    (folder / "sources.toml").write_text(
        f'[[sources]]\nid = "press"\noutlet = "Press"\nkind = "section"\n'
        f'url = "{base}/press/"\nurl_pattern = "/news/"\n',
        encoding="utf-8",
    )

    first = crawl_round(folder)
    assert first.status == "finished", first.output
    assert first.summary["press"]["new"] == 2 and first.summary["press"]["failed"] == 1
    assert sources(db)["press"].etag == '"p1"'
    assert entry_rows(db)[f"{base}{page_two}"][:1] == ("failed",)

    faults.put(page_two, listing(stories[2:], None), content_type=HTML)
    time.sleep(1.5)
    second = crawl_round(folder)
    assert second.status == "finished", second.output
    assert faults.served("/press/")[-1].headers.get("If-None-Match") == '"p1"'
    assert len(faults.served(page_two)) == 2
    assert second.summary["press"]["new"] == 2
    assert f"{base}{page_two}" not in entry_rows(db)

    third = crawl_round(folder)
    assert third.status == "finished", third.output
    assert len(faults.served(page_two)) == 2
    fetched = [s.path for s in faults.log if s.path.startswith("/news/")]
    assert sorted(fetched) == sorted(p for _, p in stories)
    assert sorted(c.url for c in stored(db)) == sorted(f"{base}{p}" for _, p in stories)


def test_a_round_fetches_pending_entries_of_a_source_that_is_not_due(
    tmp_path: Path, faults: FaultServer
) -> None:
    """What a round left is the next round's: a source polled an hour
    apart still gets its pending entries fetched by a round of due sources
    only, without its feed being asked."""
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    stories = [(f"Pier story {n}", f"/a/{n}.html") for n in range(3)]
    serve_stories(faults, stories)
    config = write_config(
        tmp_path / "config",
        db,
        {"news": faults.url("/feed.xml", host=1)},
        crawl={"max_articles_per_source": 1},
    )
    first = crawl_round(config)
    assert first.summary["news"] == {"new": 1, "pending": 2}, first.output
    due = presscut("crawl", "--config", str(config))
    assert due.returncode == 0, due.stdout + due.stderr
    assert len(faults.served("/feed.xml")) == 1  # not due: not polled
    assert len(stored(db)) == 2
    fetched = [s.path for s in faults.log if s.path.startswith("/a/")]
    assert len(fetched) == len(set(fetched)) == 2
