"""Ingest throughput against the machine's limit.

Builds ``--sites`` sites of ``--per-site`` articles each from the article
corpus, serves them from a separate process with ``--delay`` seconds per
response, and prints, in one run:

1. the limit: extraction alone (``scraper.extract.extract_article``) over the
   same pages already in memory, on every core, no network, no database;
2. presscut end to end (``presscut crawl --all``: fetch, extract, topic,
   dedupe, store) into SQLite and into PostgreSQL: articles/s, CPU seconds
   per article (all processes), peak RSS (crawl process plus its workers);
3. the simplest alternative a user might write: feedparser, then each
   article fetched in turn with urllib, trafilatura, exact-URL dedupe, sqlite3.

    python benchmarks/ingest.py                       # 20 sites x 100 articles, 100 ms
    python benchmarks/ingest.py --sites 4 --per-site 20 --db sqlite   # quick look
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.localweb import ServedWeb, build_sites, corpus_pages, sources_toml

POSTGRES = os.environ.get(
    "PRESSCUT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _extract(args: tuple[bytes, str]) -> bool:
    from scraper.extract import extract_article
    from scraper.items import Clipping

    html, url = args
    return bool(extract_article(html, url, base=Clipping(url=url)).text)


def extraction_limit(pages: list[tuple[bytes, str]], workers: int) -> float:
    """Pages per second extracting every page on ``workers`` processes."""
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_extract, pages[: workers * 2]))  # warm the workers
        start = time.perf_counter()
        list(pool.map(_extract, pages, chunksize=4))
        return len(pages) / (time.perf_counter() - start)


class RssSampler(threading.Thread):
    """Peak summed RSS (bytes) of a process and its descendants, from /proc."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, _tree_rss(self.pid))
            time.sleep(0.1)


def _tree_rss(pid: int) -> int:
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
        todo += [int(c) for c in children]
    return total


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def presscut_crawl(workdir: Path, urls: dict[str, str], db_url: str) -> dict[str, float]:
    config = workdir / f"config-{uuid.uuid4().hex[:6]}"
    config.mkdir()
    (config / "sources.toml").write_text(sources_toml(urls), encoding="utf-8")
    (config / "settings.toml").write_text(
        f'[database]\nurl = "{db_url}"\n[crawl]\nextract_workers = 0\n', encoding="utf-8"
    )
    env = {**os.environ, "PRESSCUT_CRAWL_ALLOW_LOOPBACK": "true"}
    subprocess.run(
        [sys.executable, "-m", "cli.main", "db", "upgrade", "--config", str(config)],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    cpu0, start = children_cpu(), time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "crawl", "--all", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    sampler = RssSampler(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    sampler.running = False
    if proc.returncode:
        sys.exit(f"crawl failed:\n{out}\n{err}")
    from storage import open_store

    store = open_store(db_url)
    stored = store.count_clippings()
    store.close()
    cpu = children_cpu() - cpu0
    return {"stored": stored, "wall": wall, "cpu": cpu, "peak_rss": sampler.peak}


def naive_ingest(urls: dict[str, str], db_path: Path) -> dict[str, float]:
    """What a user might write instead: one article at a time."""
    import feedparser
    import trafilatura

    db = sqlite3.connect(db_path)
    db.execute("CREATE TABLE IF NOT EXISTS clippings (url TEXT PRIMARY KEY, title, text)")
    seen: set[str] = set()
    start, stored = time.perf_counter(), 0
    for base in urls.values():
        with urllib.request.urlopen(base + "/feed.rss") as response:
            feed = feedparser.parse(response.read())
        for entry in feed.entries:
            if entry.link in seen:
                continue
            seen.add(entry.link)
            with urllib.request.urlopen(entry.link) as response:
                html = response.read()
            doc = trafilatura.bare_extraction(html, url=entry.link, with_metadata=True)
            if doc is not None and doc.text:
                db.execute(
                    "INSERT OR IGNORE INTO clippings VALUES (?, ?, ?)",
                    (entry.link, doc.title, doc.text),
                )
                db.commit()
                stored += 1
    db.close()
    return {"stored": stored, "wall": time.perf_counter() - start}


def postgres_schema_url() -> tuple[str, str] | None:
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(POSTGRES)
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
    except Exception as exc:  # no server: say so, run the rest
        print(f"PostgreSQL unavailable ({exc.__class__.__name__}); skipping it")
        return None
    sep = "&" if "?" in POSTGRES else "?"
    return f"{POSTGRES}{sep}options=-csearch_path%3D{schema}", schema


def drop_schema(schema: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--per-site", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.1, help="seconds per response")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--naive-sites", type=int, default=2, help="sites the naive loop reads")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    pages = corpus_pages()
    print(f"machine: {cores} cores; {args.sites} sites x {args.per_site} articles, "
          f"{args.delay * 1000:.0f} ms per response")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="presscut-bench-") as tmp:
        root = Path(tmp) / "web"
        built = build_sites(root, pages, args.sites, args.per_site)
        in_memory = [
            ((root / site / p.lstrip("/")).read_bytes(), f"https://{site}.example{p}")
            for site, paths in built.items()
            for p in paths
        ]
        limit = extraction_limit(in_memory, cores)
        print(f"limit: extraction alone, {cores} processes: {limit:.1f} pages/s")
        with ServedWeb(root, args.delay) as web:
            results = {}
            targets = []
            if args.db in ("sqlite", "both"):
                targets.append(("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", None))
            if args.db in ("postgres", "both"):
                pg = postgres_schema_url()
                if pg:
                    targets.append(("postgres", pg[0], pg[1]))
            for name, url, schema in targets:
                try:
                    r = presscut_crawl(Path(tmp), web.urls, url)
                finally:
                    if schema:
                        drop_schema(schema)
                rate = r["stored"] / r["wall"]
                results[name] = rate
                print(
                    f"presscut -> {name}: {r['stored']} stored in {r['wall']:.1f} s = "
                    f"{rate:.1f} articles/s ({rate / limit:.2f} x limit); "
                    f"{r['cpu'] / max(r['stored'], 1) * 1000:.1f} ms CPU/article; "
                    f"peak RSS {r['peak_rss'] / 2**20:.0f} MiB"
                )
            naive_urls = dict(list(web.urls.items())[: args.naive_sites])
            n = naive_ingest(naive_urls, Path(tmp) / "naive.db")
            naive_rate = n["stored"] / n["wall"]
            print(f"naive loop ({args.naive_sites} sites): {n['stored']} stored in "
                  f"{n['wall']:.1f} s = {naive_rate:.1f} articles/s")  # fmt: skip
            for name, rate in results.items():
                print(f"speed-up over the naive loop ({name}): {rate / naive_rate:.1f} x")


if __name__ == "__main__":
    main()
