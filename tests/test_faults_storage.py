"""Storage faults: the database locked or gone mid-round (SQLite locked,
PostgreSQL's connections cut), and crawls killed
with SIGKILL at random points.  The round that meets the fault fails
without writing half a batch; the next round completes; in the end every
article is stored exactly once, and every stored clipping has its
seen-entry record (and every "stored" record its clipping)."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, select

from demo.server import LocalWeb
from storage import open_store
from storage.models import clippings, entries
from tests.crawling import DEMO_SITES
from tests.crawling import write_config as write_demo_config
from tests.faultcrawl import REPO, article, child_command, crawl_round, rss, stored, write_config
from tests.faultserver import FaultServer
from tests.tcpproxy import TcpProxy
from tests.test_crawl import check_first_crawl

ARTICLES = 12


def consistency(db_url: str) -> None:
    """No duplicate, no orphan: each clipping's URL and entry key are
    unique, each has a ``stored`` record, and each ``stored`` record with a
    URL hash points at a clipping."""
    store = open_store(db_url)
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(
                select(clippings.c.url_hash, clippings.c.source_id, clippings.c.entry_key)
            ).all()
            logged = conn.execute(
                select(entries.c.source_id, entries.c.entry_key, entries.c.url_hash).where(
                    entries.c.outcome == "stored"
                )
            ).all()
    finally:
        store.close()
    assert len({r.url_hash for r in rows}) == len(rows)
    assert not [k for k, n in Counter((r.source_id, r.entry_key) for r in rows).items() if n > 1]
    keys = {(e.source_id, e.entry_key) for e in logged}
    assert all((r.source_id, r.entry_key) in keys for r in rows), "clipping without record"
    hashes = {r.url_hash for r in rows}
    assert all(e.url_hash in hashes for e in logged if e.url_hash), "record without clipping"


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    with FaultServer(hosts=1) as server:
        yield server


def site(server: FaultServer) -> list[str]:
    """A feed of `ARTICLES` articles; returns their titles."""
    titles = [f"Quay works week {i}" for i in range(ARTICLES)]
    items = [(t, f"/articles/{i}.html") for i, t in enumerate(titles)]
    for title, path in items:
        server.put(path, article(title), content_type="text/html; charset=utf-8")
    server.put("/feed.xml", rss(server.base_url(0), items))
    return titles


def when_requested(
    server: FaultServer, path_prefix: str, action: object, timeout: float = 30
) -> threading.Thread:
    """Run ``action()`` in a thread as soon as a request for a path starting
    with ``path_prefix`` reaches the server."""

    def watch() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(s.path.startswith(path_prefix) for s in list(server.log)):
                action()  # type: ignore[operator]
                return
            time.sleep(0.01)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_database_locked_mid_round(tmp_path: Path, faults: FaultServer) -> None:
    path = tmp_path / "presscut.db"
    db = f"sqlite:///{path}"
    titles = site(faults)
    config = write_config(tmp_path / "config", db, {"quay": faults.url("/feed.xml")})
    release = threading.Event()
    locked = threading.Event()

    def hold_lock() -> None:
        conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        conn.execute("BEGIN EXCLUSIVE")
        locked.set()
        release.wait(60)
        conn.rollback()
        conn.close()

    watcher = when_requested(
        faults,
        "/articles/",
        lambda: threading.Thread(target=hold_lock, daemon=True).start(),
    )
    failed = crawl_round(config, env={"PRESSCUT_TEST_SQLITE_BUSY_MS": "300"})
    release.set()
    watcher.join(5)
    assert locked.is_set(), "the lock was never taken mid-round"
    assert failed.status != "finished" or failed.returncode != 0, failed.output
    assert "locked" in failed.output
    consistency(db)

    again = crawl_round(config)
    assert again.status == "finished", again.output
    assert sorted(c.title for c in stored(db)) == sorted(titles)
    consistency(db)


#: Seeds of the kill times; printed in a failure, so a run can be replayed.
SEED = 20261123


def test_sigkill_at_random_points_loses_nothing(tmp_path: Path) -> None:
    """A crawl of the demo sites killed with SIGKILL at random moments, three
    times in a row (each restart resuming what the last left), then run to
    the end: the result is that of an uninterrupted crawl, without
    duplicates or orphans, checked after every kill."""
    rng = random.Random(SEED)
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    kills = [round(rng.uniform(0.8, 3.5), 2) for _ in range(3)]
    with LocalWeb(DEMO_SITES) as web:
        config = write_demo_config(tmp_path / "config", web, db)
        for delay in kills:
            child = subprocess.Popen(
                child_command(config),
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(delay)
            child.send_signal(signal.SIGKILL)
            child.wait(10)
            if (tmp_path / "presscut.db").exists():
                consistency(db)
        final = crawl_round(config)
        assert final.status == "finished", (kills, final.output)
        check_first_crawl(web, db)
    consistency(db)


def test_postgresql_gone_mid_round(tmp_path: Path, faults: FaultServer, postgres_url: str) -> None:
    """PostgreSQL vanishes (every connection dropped, new ones refused) as
    the round starts fetching articles: the round fails with a database
    error instead of a traceback, nothing half-written remains, and once
    the server is back the next round stores every article exactly once."""
    direct = make_url(postgres_url)
    titles = site(faults)
    with TcpProxy((direct.host or "127.0.0.1", direct.port or 5432)) as proxy:
        relayed = direct.set(port=proxy.port).render_as_string(hide_password=False)
        config = write_config(tmp_path / "config", relayed, {"quay": faults.url("/feed.xml")})
        watcher = when_requested(faults, "/articles/", proxy.cut)
        failed = crawl_round(config)
        watcher.join(5)
        assert proxy.relayed > 0 and not watcher.is_alive(), "the database never went away"
        assert failed.returncode != 0 or failed.status != "finished", failed.output
        assert "Traceback" not in failed.output, failed.output
        assert "database" in failed.output.lower(), failed.output
        consistency(postgres_url)

        proxy.restore()
        again = crawl_round(config)
    assert again.status == "finished", again.output
    assert sorted(c.title for c in stored(postgres_url)) == sorted(titles)
    consistency(postgres_url)
