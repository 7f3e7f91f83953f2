"""Re-poll cost when nothing changed.

``--feeds`` feeds spread over ``--hosts`` hosts (default 1,000 on 50), served
from a separate process with ``--delay`` seconds per response.  A first
round reads every feed (its entries are marked as already seen beforehand, so
no article is fetched, as after any earlier round); the second round, with
nothing changed, is measured: wall time, requests, bytes per feed, and
whether every feed request was conditional (a 304 only answers a conditional
request) and no article was requested.

    python benchmarks/repoll.py
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.localweb import ServedWeb, site_name, write_feed

ENTRIES_PER_FEED = 10


def build(root: Path, feeds: int, hosts: int) -> dict[str, list[str]]:
    """Feeds ``/f/<n>.rss`` on each host; returns each host's feed paths."""
    now = datetime(2026, 11, 20, tzinfo=UTC)
    paths: dict[str, list[str]] = {site_name(h): [] for h in range(hosts)}
    for n in range(feeds):
        site = site_name(n % hosts)
        folder = root / site
        (folder / "f").mkdir(parents=True, exist_ok=True)
        items = [
            f"<item><title>Story {n}-{k}</title><link>{{{{base:{site}}}}}/a/{n}-{k}.html</link>"
            f"<guid>{site}-{n}-{k}</guid>"
            f"<pubDate>{format_datetime(now - timedelta(hours=k))}</pubDate></item>"
            for k in range(ENTRIES_PER_FEED)
        ]
        write_feed(folder / "f", f"{n}", items)
        (folder / "f" / "feed.rss").rename(folder / "f" / f"{n}.rss")
        paths[site].append(f"/f/{n}.rss")
    return paths


def config(folder: Path, urls: dict[str, str], paths: dict[str, list[str]], db: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    blocks = []
    for site, feed_paths in sorted(paths.items()):
        for p in feed_paths:
            sid = f"{site}-{Path(p).stem}"
            blocks.append(
                f'[[sources]]\nid = "{sid}"\noutlet = "Outlet {site}"\nurl = "{urls[site]}{p}"\n'
            )
    (folder / "sources.toml").write_text("\n".join(blocks), encoding="utf-8")
    (folder / "settings.toml").write_text(f'[database]\nurl = "{db}"\n', encoding="utf-8")
    return folder


def mark_entries_seen(config_dir: Path) -> None:
    """Record every feed entry as already stored, as an earlier round would."""
    from config import load_config
    from scraper.urls import canonical_url, url_hash
    from storage import EntryOutcome, open_store

    cfg = load_config(config_dir)
    store = open_store(cfg.settings.database.url)
    store.upgrade()
    store.sync_sources(cfg.sources)
    outcomes = []
    for source in cfg.sources:
        base = source.url.rsplit("/f/", 1)[0]
        site, n = source.id.rsplit("-", 1)
        for k in range(ENTRIES_PER_FEED):
            link = f"{base}/a/{n}-{k}.html"
            outcomes.append(
                EntryOutcome(
                    source_id=source.id,
                    entry_key=f"{site}-{n}-{k}",
                    url_hash=url_hash(canonical_url(link)),
                    outcome="stored",
                )
            )
    store.write_batch([], outcomes, [])
    store.close()


def crawl(config_dir: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "crawl", "--all", "--config", str(config_dir)],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    if result.returncode:
        sys.exit(f"crawl failed:\n{result.stdout}\n{result.stderr}")
    return time.perf_counter() - start


def last_run_stats(config_dir: Path) -> dict[str, object]:
    from config import load_config
    from storage import open_store

    store = open_store(load_config(config_dir).settings.database.url)
    run = store.recent_runs(1)[0]
    store.close()
    return dict(run.stats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.1)
    args = parser.parse_args()
    env = {**os.environ, "PRESSCUT_CRAWL_ALLOW_LOOPBACK": "true"}
    with tempfile.TemporaryDirectory(prefix="presscut-repoll-") as tmp:
        root = Path(tmp) / "web"
        paths = build(root, args.feeds, args.hosts)
        with ServedWeb(root, args.delay) as web:
            cfg = config(Path(tmp) / "config", web.urls, paths, f"sqlite:///{tmp}/repoll.db")
            mark_entries_seen(cfg)
            first = crawl(cfg, env)
            second = crawl(cfg, env)
        stats = last_run_stats(cfg)
    requests = int(stats.get("downloader/request_count", 0))
    robots = int(stats.get("robotstxt/request_count", 0))
    not_modified = int(stats.get("downloader/response_status_count/304", 0))
    articles = int(stats.get("feed/articles_requested", 0))
    sent = int(stats.get("downloader/request_bytes", 0))
    received = int(stats.get("downloader/response_bytes", 0))
    feed_requests = requests - robots
    print(f"{args.feeds} feeds on {args.hosts} hosts, {args.delay * 1000:.0f} ms per response")
    print(f"first round (reads every feed): {first:.1f} s")
    print(f"second round, nothing changed: {second:.1f} s wall (process start included), "
          f"{float(stats.get('elapsed_time_seconds', 0)):.1f} s crawling")  # fmt: skip
    print(f"requests: {requests} ({robots} robots.txt, {feed_requests} feed); "
          f"304 answers: {not_modified}; article requests: {articles}")  # fmt: skip
    print(f"every feed request conditional: {not_modified == feed_requests == args.feeds}")
    print(f"bytes per feed: {(sent + received) / args.feeds:.0f} "
          f"(sent {sent / args.feeds:.0f}, received {received / args.feeds:.0f})")  # fmt: skip


if __name__ == "__main__":
    main()
