"""Walls and gone articles (issue #12): a bot challenge puts its article off
to the next rounds and only a challenge that stays stores it flagged
``blocked``; an article walled off by a 401, 403 or 451 is stored flagged
with what its feed said; a 404 and a soft 404 stay entries, given up with
their reason, never fetched again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from storage import open_store
from storage.models import entries
from tests.faultcrawl import article, crawl_round, prose, stored, write_config
from tests.faultserver import FaultServer

HTML = "text/html; charset=utf-8"
BLOCKS = Path(__file__).parent / "fixtures" / "blocks"
CHALLENGE = (BLOCKS / "cloudflare-challenge.html").read_bytes()
SOFT_404 = (BLOCKS / "soft-404.html").read_bytes()


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    with FaultServer(hosts=1) as server:
        yield server


def feed(base: str, paths: list[str]) -> str:
    """An RSS feed whose items (titled after their path) carry a date, an
    author and a summary of 60 words."""
    items = "".join(
        f"<item><title>Story {p}</title><link>{base}{p}</link><guid>{base}{p}</guid>"
        f"<author>desk@example.org (Ann Example)</author>"
        f"<description>{prose(p, 60)}</description>"
        f"<pubDate>Mon, 07 Dec 2026 09:00:00 +0000</pubDate></item>"
        for p in paths
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Walls</title><link>{base}/</link>{items}</channel></rss>"
    )


def logged(db: str) -> dict[str, tuple[str, str | None, int]]:
    """entry key -> (outcome, reason, attempts)."""
    store = open_store(db)
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(
                select(
                    entries.c.entry_key, entries.c.outcome, entries.c.reason, entries.c.attempts
                )
            )
            return {key: (outcome, reason, n) for key, outcome, reason, n in rows}
    finally:
        store.close()


def setup(tmp_path: Path, faults: FaultServer, paths: list[str]) -> tuple[str, Path]:
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    faults.put("/feed.xml", feed(faults.base_url(0), paths))
    return db, write_config(tmp_path / "config", db, {"walls": faults.url("/feed.xml")})


def test_a_challenge_is_fetched_again_and_stored_flagged_only_if_it_stays(
    tmp_path: Path, faults: FaultServer
) -> None:
    base = faults.base_url(0)
    stays, clears = "/a/stays.html", "/a/clears.html"
    challenge = {"Cf-Mitigated": "challenge"}
    faults.put(stays, CHALLENGE, content_type=HTML, status=403, headers=challenge)
    faults.put(clears, CHALLENGE, content_type=HTML, status=200, headers=challenge)
    db, config = setup(tmp_path, faults, [stays, clears])

    for n in (1, 2):
        faults.log.clear()
        result = crawl_round(config)
        assert result.status == "finished", result.output
        assert len(faults.served(stays)) == 1, n  # asked again each round, first
        assert base + stays not in {c.url for c in stored(db)}, n
        outcome, reason, attempts = logged(db)[base + stays]
        assert (outcome, attempts) == ("failed", n)
        assert reason and reason.startswith(f"challenge {n} of 3, fetched again next round:")
        assert result.summary["walls"]["failed"] == (2 if n == 1 else 1)
        if n == 1:  # the other one answers the article next round
            faults.put(clears, article("Ferry timetable changes"), content_type=HTML)

    cleared = {c.url: c for c in stored(db)}[base + clears]
    assert cleared.flags == [] and cleared.title == "Ferry timetable changes"

    faults.log.clear()
    third = crawl_round(config)
    assert third.status == "finished", third.output
    [walled] = [c for c in stored(db) if c.url == base + stays]
    assert walled.flags == ["blocked"]
    assert walled.title == f"Story {stays}" and walled.authors == ["Ann Example"]
    assert walled.text_from == "feed-summary" and walled.text.startswith(prose(stays, 60)[:40])
    assert walled.published_at is not None and walled.status == "new"
    assert logged(db)[base + stays][0] == "stored"

    faults.log.clear()
    assert crawl_round(config).status == "finished"
    assert not faults.served(stays) and not faults.served(clears)


def test_walled_articles_are_stored_flagged_and_gone_ones_given_up(
    tmp_path: Path, faults: FaultServer
) -> None:
    base = faults.base_url(0)
    walls = {"/w/forbidden.html": 403, "/w/login.html": 401, "/w/legal.html": 451}
    for path, status in walls.items():
        faults.put(path, "", content_type=HTML, status=status)  # a bare status, no page
    gone, soft = "/g/gone.html", "/g/soft-404.html"  # /g/gone.html: the server's 404
    faults.put(soft, SOFT_404, content_type=HTML)
    db, config = setup(tmp_path, faults, [*walls, gone, soft])

    first = crawl_round(config)
    assert first.status == "finished", first.output
    by_url = {c.url: c for c in stored(db)}
    assert set(by_url) == {base + p for p in walls}
    for path in walls:
        clipping = by_url[base + path]
        assert clipping.flags == ["blocked"], path
        assert clipping.title == f"Story {path}" and clipping.text_from == "feed-summary"
    log = logged(db)
    assert log[base + gone][:2] == ("given_up", "permanent failure: http_4xx: HTTP 404")
    outcome, reason, _ = log[base + soft]
    assert outcome == "given_up"
    assert reason and reason.startswith("permanent failure: blocked_page: soft 404: ")
    assert base + soft in reason
    assert first.summary["walls"]["new"] == 3 and first.summary["walls"]["failed"] == 2

    faults.log.clear()
    faults.put("/feed.xml", feed(base, [*walls, gone, soft, "/n/new.html"]))
    faults.put("/n/new.html", article("Harbour wall repaired"), content_type=HTML)
    second = crawl_round(config)
    assert second.status == "finished", second.output
    assert {s.path for s in faults.log} - {"/robots.txt"} == {"/feed.xml", "/n/new.html"}
    assert len(stored(db)) == 4
