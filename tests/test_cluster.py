"""A round on several worker processes sharing Redis and PostgreSQL.

``presscut crawl`` with ``[cluster]`` set is the coordinator; ``presscut
worker`` processes do the crawling (`scraper.frontier`, `rounds.worker`,
`rounds.cluster`).  Against the demo sites on loopback, each test compares
with a one-process crawl of the same web (into SQLite) and reads the sites'
request log: what was stored, how often each URL was fetched, and when.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest
from redis import Redis
from redis import exceptions as redis_errors

from demo.server import LocalWeb
from storage import open_store
from tests.crawling import DEMO_SITES, REPO, presscut, write_config

CLUSTER = """
[cluster]
redis_url = "{url}"
prefix = "{prefix}"
lease = "{lease}s"
"""


def cluster_config(
    folder: Path,
    web: LocalWeb,
    db_url: str,
    redis: tuple[str, str],
    *,
    lease: float = 60,
    delay: float = 0,
) -> Path:
    """A config folder for the demo sites with a ``[cluster]`` section."""
    write_config(folder, web, db_url)
    settings = folder / "settings.toml"
    text = settings.read_text(encoding="utf-8").replace(
        "download_delay = 0", f"download_delay = {delay}"
    )
    url, prefix = redis
    text += CLUSTER.format(url=url, prefix=prefix, lease=lease)
    settings.write_text(text, encoding="utf-8")
    return folder


@contextmanager
def workers(folder: Path, n: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``n`` ``presscut worker`` processes on ``folder``'s config, stopped
    with SIGTERM at the end (SIGKILL when they do not go)."""
    logs = [(folder / f"worker-{i}.log").open("wb") for i in range(n)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "cli.main", "worker", "--config", str(folder)],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()


def stored(db_url: str) -> Counter[tuple[str | None, str, str | None, str | None]]:
    """What a crawl stored: (source, canonical URL's hash, title, content
    hash), counted.  Two links to one article (one with tracking parameters)
    store it once, under the URL of whichever was fetched first."""
    store = open_store(db_url)
    try:
        return Counter(
            (c.source_id, c.url_hash, c.title, c.content_hash) for _, c in store.iter_clippings()
        )
    finally:
        store.close()


def fetches(web: LocalWeb) -> Counter[tuple[str, str, str]]:
    """GET requests per (site, path, query), robots.txt left out (each
    process reads it once per host)."""
    return Counter(
        (r.site, r.path, r.query)
        for r in web.requests
        if r.method == "GET" and r.path != "/robots.txt"
    )


@pytest.fixture
def web() -> Iterator[LocalWeb]:
    with LocalWeb(DEMO_SITES) as served:
        yield served


@dataclass
class Cluster:
    """A test's cluster: the demo web, a PostgreSQL schema and a Redis key
    prefix, with what a one-process crawl of the same web stored."""

    web: LocalWeb
    folder: Path
    db_url: str
    redis: tuple[str, str]
    expected: Counter[tuple[object, ...]]

    def configure(self, **options: float) -> Path:
        return cluster_config(self.folder, self.web, self.db_url, self.redis, **options)

    def stored(self) -> Counter[tuple[object, ...]]:
        return stored(self.db_url)  # type: ignore[return-value]


@pytest.fixture
def cluster(
    web: LocalWeb,
    tmp_path: Path,
    sqlite_url: str,
    postgres_url: str,
    redis_prefix: tuple[str, str],
) -> Cluster:
    """The test's `Cluster`; the one-process crawl is run first (into
    SQLite), and the request log cleared after it."""
    single = write_config(tmp_path / "single", web, sqlite_url)
    result = presscut("crawl", "--all", "--config", str(single))
    assert result.returncode == 0, result.stdout + result.stderr
    web.clear_requests()
    expected = stored(sqlite_url)
    assert expected, "the one-process crawl stored nothing"
    return Cluster(web, tmp_path / "cluster", postgres_url, redis_prefix, expected)  # type: ignore[arg-type]


def crawl(folder: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    result = presscut("crawl", "--all", "--config", str(folder), timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def round_under_way(folder: Path, web: LocalWeb, requests: int) -> subprocess.Popen[str]:
    """``presscut crawl --all`` started, once ``web`` has had ``requests``."""
    round_ = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "crawl", "--all", "--config", str(folder)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(web.requests) < requests and time.monotonic() < deadline:
        time.sleep(0.05)
    return round_


@pytest.mark.parametrize("n", [2, 3])
def test_workers_store_what_one_process_does_fetching_each_url_once(
    n: int, cluster: Cluster
) -> None:
    folder = cluster.configure()
    with workers(folder, n):
        result = crawl(folder)
    assert cluster.stored() == cluster.expected
    twice = {key: count for key, count in fetches(cluster.web).items() if count > 1}
    assert not twice, f"fetched more than once: {twice}"
    # The report counts what the workers stored.
    assert f"{sum(cluster.expected.values())} new clipping(s) stored" in result.stdout


def test_a_second_round_is_conditional_and_stores_nothing_new(cluster: Cluster) -> None:
    folder = cluster.configure()
    with workers(folder, 2):
        crawl(folder)
        cluster.web.clear_requests()
        again = crawl(folder)
    assert "0 new clipping(s) stored" in again.stdout
    # The fetch states written by the coordinator made every feed request
    # conditional, and no article was fetched again.
    feeds = [r for r in cluster.web.requests if r.path != "/robots.txt"]
    assert feeds and all(
        "If-None-Match" in r.headers or "If-Modified-Since" in r.headers for r in feeds
    ), [(r.site, r.path, r.headers) for r in feeds]
    assert cluster.stored() == cluster.expected


def test_spacing_per_host_holds_across_workers(cluster: Cluster) -> None:
    delay = 0.4
    folder = cluster.configure(delay=delay)
    with workers(folder, 3):
        crawl(folder)
    assert cluster.stored() == cluster.expected
    by_site: dict[str, list[float]] = {}
    for record in cluster.web.requests:
        if record.path != "/robots.txt":
            by_site.setdefault(record.site, []).append(record.time)
    gaps = [b - a for times in by_site.values() for a, b in pairwise(times)]
    assert gaps, "no host got two requests"
    # Arrival times as the server's threads see them, on a busy machine: a
    # request's send and its arrival time stamp may drift by tens of
    # milliseconds.  Three workers each spacing alone would send at once.
    assert min(gaps) >= delay * 0.75, sorted(gaps)[:5]
    assert sorted(gaps)[len(gaps) // 2] >= delay, sorted(gaps)


def test_a_worker_killed_mid_round_loses_nothing(cluster: Cluster) -> None:
    # Slow responses and a short lease: the killed worker holds requests in
    # flight, which the other worker takes once their leases run out.
    cluster.web.delay = 0.5
    folder = cluster.configure(lease=3)
    with workers(folder, 2) as procs:
        # Killed once articles are being fetched (past the feeds).
        round_ = round_under_way(folder, cluster.web, 12)
        os.kill(procs[0].pid, signal.SIGKILL)
        out, _ = round_.communicate(timeout=240)
    assert round_.returncode == 0, out
    assert cluster.stored() == cluster.expected
    assert max(cluster.stored().values()) == 1


def test_a_worker_needs_a_cluster_and_a_cluster_needs_postgresql(
    web: LocalWeb, tmp_path: Path, sqlite_url: str
) -> None:
    folder = write_config(tmp_path / "single", web, sqlite_url)
    alone = presscut("worker", "--config", str(folder))
    assert alone.returncode == 2
    assert "[cluster] redis_url" in alone.stderr
    settings = folder / "settings.toml"
    settings.write_text(
        settings.read_text(encoding="utf-8") + '\n[cluster]\nredis_url = "redis://127.0.0.1"\n',
        encoding="utf-8",
    )
    on_sqlite = presscut("crawl", "--all", "--config", str(folder))
    assert on_sqlite.returncode == 2
    assert "postgresql" in on_sqlite.stderr


def redis_server(folder: Path, port: int) -> subprocess.Popen[bytes]:
    """A Redis server of the test's own, persisting every write to its
    append-only file in ``folder`` (a restart keeps the queue)."""
    folder.mkdir(exist_ok=True)
    server = subprocess.Popen(
        [
            "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
            "--appendonly", "yes", "--appendfsync", "always", "--save", "",
        ],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    client = Redis.from_url(f"redis://127.0.0.1:{port}/0")
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis_errors.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    client.close()
    return server


@pytest.mark.skipif(not shutil.which("redis-server"), reason="no redis-server to restart")
def test_redis_restarted_mid_round_loses_nothing(cluster: Cluster) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = cluster.folder.parent / "redis"
    server = redis_server(data, port)
    cluster.web.delay = 0.3
    cluster.redis = (f"redis://127.0.0.1:{port}/0", cluster.redis[1])
    folder = cluster.configure()
    try:
        with workers(folder, 2):
            round_ = round_under_way(folder, cluster.web, 10)
            server.terminate()  # SIGTERM: Redis writes its file and exits
            server.wait(timeout=20)
            time.sleep(2)
            server = redis_server(data, port)
            out, _ = round_.communicate(timeout=240)
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert round_.returncode == 0, out
    assert cluster.stored() == cluster.expected
    assert max(cluster.stored().values()) == 1
