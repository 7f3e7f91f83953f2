"""Network faults at a feed URL: each source fails with its own clear error,
the healthy source of the same round stores its articles, the round ends in
bounded time, and the next round, with the faults healed, reads every
source."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faultcrawl import article, crawl_round, rss, sources, stored, write_config
from tests.faultserver import FaultServer

#: source id -> (fault path, host, error code, words the message must hold)
FAULTS = {
    "refused": (None, 0, "connection", "refused"),
    "silent": ("/fault/silent", 1, "timeout", "took longer than 2.0 seconds"),
    "drip": ("/fault/drip?every=0.5", 2, "timeout", "took longer than 2.0 seconds"),
    "reset": ("/fault/reset", 3, "connection", "reset"),
    "short": ("/fault/short", 4, "connection", "cut short"),
    "chunked": ("/fault/chunked", 5, "connection", "chunked"),
}


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    with FaultServer(hosts=7) as server:
        yield server


def serve_feed(server: FaultServer, path: str, name: str, count: int = 2) -> list[str]:
    """Put a feed at ``path`` whose ``count`` articles are served too;
    returns their titles."""
    base = server.base_url(6)
    items = [(f"{name} story {i}", f"/articles/{name}-{i}.html") for i in range(count)]
    for title, link in items:
        server.put(link, article(title), content_type="text/html; charset=utf-8")
    server.put(path, rss(base, items, title=name))
    return [title for title, _ in items]


def test_network_faults_fail_their_source_only(tmp_path: Path, faults: FaultServer) -> None:
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    healthy = serve_feed(faults, "/healthy.xml", "healthy")
    urls = {"healthy": faults.url("/healthy.xml", 6)}
    for source_id, (path, host, _, _) in FAULTS.items():
        urls[source_id] = faults.url(path, host) if path else faults.refused_url()
    config = write_config(tmp_path / "config", db, urls)

    started = time.monotonic()
    first = crawl_round(config)
    assert time.monotonic() - started < 60
    assert first.status == "finished", first.output
    rows = sources(db)
    for source_id, (_, _, kind, words) in FAULTS.items():
        row = rows[source_id]
        assert row.last_error_kind == kind, (source_id, row.last_error)
        assert words in (row.last_error or ""), (source_id, row.last_error)
        assert first.error_kind(source_id) == kind
        assert row.failure_score > 0 and row.last_success_at is None
    assert rows["healthy"].last_error_kind is None and rows["healthy"].last_success_at
    assert sorted(c.title for c in stored(db)) == sorted(healthy)
    # The server dripping a byte every half second was cut off at the timeout.
    assert all(s.client_left for s in faults.served("/fault/drip"))

    # The next round still runs; with every fault healed (but the refused
    # port, where nothing listens), every other source reads again.
    titles = list(healthy)
    for source_id, (path, _, _, _) in FAULTS.items():
        if path:
            titles += serve_feed(faults, path.split("?")[0], source_id, count=1)
    second = crawl_round(config)
    assert second.status == "finished", second.output
    rows = sources(db)
    for source_id in FAULTS:
        if source_id == "refused":
            assert rows[source_id].last_error_kind == "connection"
            continue
        assert rows[source_id].failure_score == 0, source_id
        assert rows[source_id].last_success_at > rows[source_id].last_error_at, source_id
    assert sorted(c.title for c in stored(db)) == sorted(titles)


def test_a_lying_short_content_length_keeps_the_entries_before_the_cut(
    tmp_path: Path, faults: FaultServer
) -> None:
    """A Content-Length shorter than the feed cuts it inside its third
    entry: the two entries before the cut are read, not the rest."""
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    titles = serve_feed(faults, "/whole.xml", "cut", count=4)
    body = faults.body("/whole.xml")
    third = body.index(b"<item>", body.index(b"<item>", body.index(b"<item>") + 1) + 1)
    keep = third + 40
    config = write_config(
        tmp_path / "config", db, {"cut": faults.url(f"/fault/long?of=/whole.xml&keep={keep}")}
    )
    result = crawl_round(config)
    assert result.status == "finished", result.output
    assert sorted(c.title for c in stored(db)) == sorted(titles[:2])
    assert sources(db)["cut"].last_success_at is not None
