"""Ingest throughput against the machine's limit.

Builds ``--sites`` sites of ``--per-site`` articles each from the article
corpus, serves them from a separate process with ``--delay`` seconds per
response, and prints, in one run:

1. the limit: extraction alone (``scraper.extract.extract_article``) over the
   same pages already in memory, on every core, no network, no database;
   measured before the crawls and again after them, as other work on the
   machine may come and go meanwhile: the ratios are to the mean of both;
2. presscut end to end (``presscut crawl --all``: fetch, extract, topic,
   dedupe, store) into SQLite and into PostgreSQL: articles/s, CPU time per
   article (the crawl process and its workers), peak RSS (the same
   processes, summed), and the CPU the served web spent meanwhile (it runs
   on the same machine, which the limit's measurement does not share);
3. the simplest alternative a user might write: feedparser, then each
   article fetched in turn with urllib, trafilatura, exact-URL dedupe, sqlite3.

Each phase prints the load average, as other work on the machine slows the
limit and presscut alike but not the naive loop, which mostly waits.

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


def _extract(args: tuple[bytes, str]) -> float:
    """Extract one page; the worker's CPU seconds it took."""
    from scraper.extract import extract_article
    from scraper.items import Clipping

    html, url = args
    cpu = time.process_time()
    extract_article(html, url, base=Clipping(url=url))
    return time.process_time() - cpu


def extraction_limit(pages: list[tuple[bytes, str]], workers: int) -> tuple[float, float]:
    """Pages per second extracting every page on ``workers`` processes, and
    the CPU seconds per page."""
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_extract, pages[: workers * 2]))  # warm the workers
        start = time.perf_counter()
        cpu = sum(pool.map(_extract, pages, chunksize=4))
        return len(pages) / (time.perf_counter() - start), cpu / len(pages)


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


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


def presscut_crawl(
    workdir: Path, urls: dict[str, str], db_url: str, web_pid: int
) -> dict[str, float]:
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
    cpu0, web0, start = children_cpu(), process_cpu(web_pid), time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "crawl", "--all", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    sampler = RssSampler(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    web_cpu = process_cpu(web_pid) - web0
    sampler.running = False
    if proc.returncode:
        sys.exit(f"crawl failed:\n{out}\n{err}")
    from storage import open_store

    store = open_store(db_url)
    stored = store.count_clippings()
    store.close()
    cpu = children_cpu() - cpu0
    return {
        "stored": stored,
        "wall": wall,
        "cpu": cpu,
        "peak_rss": sampler.peak,
        "web_cpu": web_cpu,
    }


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
        limit_before = show_limit("before", in_memory, cores)
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
                    r = presscut_crawl(Path(tmp), web.urls, url, web.proc.pid)
                finally:
                    if schema:
                        drop_schema(schema)
                rate = r["stored"] / r["wall"]
                results[name] = rate
                per = max(r["stored"], 1)
                print(
                    f"presscut -> {name}: {r['stored']} stored in {r['wall']:.1f} s = "
                    f"{rate:.1f} articles/s; {r['cpu'] / per * 1000:.1f} ms CPU/article; "
                    f"peak RSS {r['peak_rss'] / 2**20:.0f} MiB; served web "
                    f"{r['web_cpu'] / per * 1000:.1f} ms CPU/article; {load()}"
                )
            naive_urls = dict(list(web.urls.items())[: args.naive_sites])
            n = naive_ingest(naive_urls, Path(tmp) / "naive.db")
            naive_rate = n["stored"] / n["wall"]
            print(f"naive loop ({args.naive_sites} sites): {n['stored']} stored in "
                  f"{n['wall']:.1f} s = {naive_rate:.1f} articles/s; {load()}")  # fmt: skip
        limit = (limit_before + show_limit("after", in_memory, cores)) / 2
        print(f"limit, mean of both: {limit:.1f} pages/s")
        for name, rate in results.items():
            print(
                f"presscut -> {name}: {rate / limit:.2f} x the limit; "
                f"{rate / naive_rate:.1f} x the naive loop"
            )


def show_limit(when: str, pages: list[tuple[bytes, str]], cores: int) -> float:
    """Measure and print the limit; pages per second."""
    rate, cpu = extraction_limit(pages, cores)
    print(
        f"limit ({when}): extraction alone, {cores} processes: {rate:.1f} pages/s; "
        f"{cpu * 1000:.1f} ms CPU/page; {load()}"
    )
    return rate


if __name__ == "__main__":
    main()
