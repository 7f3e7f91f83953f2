"""Memory over many rounds: does the scheduler's process stay flat?

    python benchmarks/memory.py [--rounds 100] [--db URL] [--keep DIR]

Serves the demo sites on loopback (`demo.server.LocalWeb`, in this process)
and runs the real scheduler on them (`scheduler.Scheduler`: APScheduler, its
job store in the database, a 0.2 s tick, each round in a child process),
exactly as ``presscut run`` does, until ``--rounds`` rounds have run.  After
each round it adds a new on-topic article to The Harbour Herald's feed (the
feed keeps its newest 10 added items, their pages rewritten in turn, so the
served content does not grow), so every round fetches, extracts and stores
real work, and makes every source due again (as time passing would).

After each round it prints the scheduler process's resident set size (RSS,
``VmRSS`` of ``/proc/self/status``, in MiB; this process also serves the
sites) and the round process's peak RSS (``getrusage`` in the child), then a
summary: the mean RSS of the first 10 rounds against the last 10, and
whether it stayed within 10%.  Linux only (``/proc``).  The database is a
temporary SQLite file unless ``--db`` names one (it should be empty).
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import load_config  # noqa: E402
from demo.server import SITES_ROOT, LocalWeb  # noqa: E402
from rounds.logs import configure  # noqa: E402
from rounds.report import RoundResult  # noqa: E402
from scheduler import Scheduler  # noqa: E402
from storage import FetchStateUpdate, open_store  # noqa: E402

SITE = "harbour-herald"
FEED = "/feed.rss"
KEEP_ITEMS = 10
SETTINGS = """\
[database]
url = "{db_url}"

[crawl]
allow_loopback = true
download_delay = 0
concurrent_requests_per_host = 4
extract_workers = 1

[schedule]
tick = 0.2
jobs = []

[logging]
level = "WARNING"
"""
SENTENCES = [
    "Crews worked through the night to shore up the sea wall at Gannet Row.",
    "The flood barrier on the lower harbour was raised twice in one week.",
    "Residents said the storm surge reached the steps of the chapel.",
    "The council's engineers will inspect the quay on Monday.",
    "Fishing boats were moved to the inner basin before the spring tide.",
    "Sandbags were handed out at the lifeboat station from six o'clock.",
    "The coastal path beyond Skellow Head remains closed after a landslip.",
    "Insurers say claims for flooded cellars have doubled since September.",
    "A second pump was brought in to clear water from the market square.",
    "The harbour master warned owners to check their moorings.",
    "Volunteers cleared seaweed and shingle from the promenade by noon.",
    "Forecasters expect calmer winds by the end of the week.",
    "The ferry to Wendle Island was cancelled for a third day.",
    "Shopkeepers on Quay Street counted the cost of the flooding.",
    "The school on Harbour Hill opened its hall as a rest centre.",
    "Coastal erosion has taken four metres of the car park since spring.",
    "The sea wall was built in 1894 and last repaired in 1978.",
    "Engineers want a rock armour berm in front of the old wall.",
    "Tide gauges recorded the highest water since the winter of 2014.",
    "Parish councillors asked for a public meeting before Christmas.",
]


def rss_mib() -> float:
    """This process's resident set size, MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def article(n: int) -> str:
    """A new article page, its text different enough from the others that
    it is stored, not clustered as a near-duplicate."""
    rng = random.Random(n)
    paragraphs = "".join(f"<p>{s}</p>" for s in rng.sample(SENTENCES, 12))
    return (
        f"<html><head><title>Sea wall bulletin {n}</title></head><body><article>"
        f"<h1>Sea wall bulletin {n}</h1><p class='byline'>By Ines Harrow</p>"
        f"<time datetime='2026-11-20T09:00:00+00:00'>20 November 2026</time>"
        f"<p>Bulletin number {n} from the harbour front.</p>{paragraphs}"
        "</article></body></html>"
    )


def page(n: int) -> str:
    """Path of article ``n``: one of `KEEP_ITEMS` files, rewritten in turn,
    so the web's own memory stays the same from round to round; the query
    makes each article's URL its own."""
    return f"/news/bulletins/{n % KEEP_ITEMS}.html"


def item(n: int) -> str:
    return (
        f"<item><title>Sea wall bulletin {n}</title>"
        f"<link>{{{{base:{SITE}}}}}{page(n)}?n={n}</link>"
        f"<guid>bulletin-{n}</guid><dc:creator>Ines Harrow</dc:creator>"
        "<pubDate>Fri, 20 Nov 2026 09:00:00 +0000</pubDate></item>"
    )


class Row(NamedTuple):
    status: str
    new: int
    rss_mib: float
    peak_mib: float


class Bench:
    """Changes the web between rounds and records each round's figures."""

    def __init__(self, web: LocalWeb, db_url: str, rounds: int) -> None:
        self.web = web
        self.db_url = db_url
        self.rounds = rounds
        # Figures only: keeping each round's whole result would itself grow
        # the process being measured.
        self.rows: list[Row] = []
        self.done = threading.Event()
        self.feed = (SITES_ROOT / SITE / FEED.lstrip("/")).read_text(encoding="utf-8")

    def after_round(self, result: RoundResult) -> None:
        n = len(self.rows) + 1
        self.change_web(n)
        self.make_due()
        rss = rss_mib()
        self.rows.append(Row(result.status, result.new, rss, (result.peak_rss_kib or 0) / 1024))
        peak = (result.peak_rss_kib or 0) / 1024
        print(
            f"round {n:4d}  {result.status:<11} new {result.new:3d}  {result.seconds:5.1f}s  "
            f"scheduler RSS {rss:6.1f} MiB  round peak RSS {peak:6.1f} MiB",
            flush=True,
        )
        if n >= self.rounds:
            self.done.set()

    def change_web(self, n: int) -> None:
        self.web.set_file(SITE, page(n), article(n))
        added = "".join(item(k) for k in range(n, max(n - KEEP_ITEMS, 0), -1))
        self.web.set_file(SITE, FEED, self.feed.replace("<item>", added + "<item>", 1))
        self.web.clear_requests()

    def make_due(self) -> None:
        store = open_store(self.db_url)
        try:
            ids = [row.id for row in store.list_sources()]
            store.update_fetch_states(
                [FetchStateUpdate(source_id=i, next_due_at=None) for i in ids]
            )
        finally:
            store.close()


def summary(rows: list[Row]) -> bool:
    rss = [row.rss_mib for row in rows]
    first, last = statistics.mean(rss[:10]), statistics.mean(rss[-10:])
    growth = (last - first) / first
    peaks = [row.peak_mib for row in rows]
    statuses = {row.status for row in rows}
    print()
    print(f"rounds: {len(rows)}  statuses: {', '.join(sorted(statuses))}")
    print(f"new clippings: {sum(row.new for row in rows)}")
    print(
        f"scheduler RSS: first 10 rounds {first:.1f} MiB, last 10 {last:.1f} MiB, "
        f"growth {100 * growth:+.1f}%  (min {min(rss):.1f}, max {max(rss):.1f})"
    )
    print(
        f"round peak RSS: first 10 {statistics.mean(peaks[:10]):.1f} MiB, "
        f"last 10 {statistics.mean(peaks[-10:]):.1f} MiB"
    )
    flat = abs(growth) <= 0.10
    print(f"flat within 10%: {'yes' if flat else 'NO'}")
    return flat


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--keep", type=Path, help="folder for config and database (kept)")
    args = parser.parse_args(argv)
    if args.rounds < 20:
        parser.error("--rounds must be at least 20 (first 10 against last 10)")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="presscut-memory-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_url = args.db or f"sqlite:///{folder / 'presscut.db'}"
    config_dir = folder / "config"
    config_dir.mkdir(exist_ok=True)
    configure("text", "WARNING")
    # A 0.2 s tick meets a running round most of the time: skipped ticks are
    # the design here, not news.
    logging.getLogger("presscut.scheduler").setLevel(logging.ERROR)
    with LocalWeb(SITES_ROOT) as web:
        template = (ROOT / "demo" / "sources.toml").read_text(encoding="utf-8")
        sources = re.sub(r"\{\{base:([\w-]+)\}\}", lambda m: web.base_url(m.group(1)), template)
        (config_dir / "sources.toml").write_text(sources, encoding="utf-8")
        (config_dir / "settings.toml").write_text(SETTINGS.format(db_url=db_url), encoding="utf-8")
        config = load_config(config_dir)
        bench = Bench(web, db_url, args.rounds)
        print(f"{args.rounds} rounds against {len(web.sites)} demo sites; database {db_url}")
        began = time.monotonic()
        runner = Scheduler(config, on_round=bench.after_round, log_level="WARNING", reload=False)
        runner.start()
        try:
            bench.done.wait()
        finally:
            runner.stop()
        print(f"wall time: {time.monotonic() - began:.0f} s")
    return 0 if summary(bench.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
