"""A round's length next to its politeness, on a local web with faults.

A loopback web (the tests' fault server, `tests.faultserver`) of:

* one host whose robots.txt asks ``Crawl-delay: 2``, with a feed of
  ``--articles`` stories: the round's polite floor;
* one never-ending stream: a feed whose body drips one byte every half
  second, never complete, and an article of a healthy feed that does the same;
* one slow feed, answering after ``--slow`` seconds;
* ``--healthy`` healthy hosts, a feed of five stories each.

One round over all of it (``rounds.round.run_round`` in a child process,
``download_timeout``, ``retry_times`` and ``round_budget`` as shipped)
prints the round's wall time (Scrapy's ``elapsed_time_seconds``, and the
child process's), the Crawl-delay host's own work (its request count x its
delay) and the ratio.  Goal: the round ends within 1.3 x that work, the
never-ending stream fetched once per round.  With ``--budget`` shorter
than that work, the round stops there and leaves the rest pending.

    python benchmarks/faults.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.faultcrawl import CRAWL, article, crawl_round, rss, write_config
from tests.faultserver import FaultServer

HTML = "text/html; charset=utf-8"
DELAY = 2.0
DRIP = "/fault/drip?every=0.5"


def build(faults: FaultServer, articles: int, slow: float, healthy: int) -> dict[str, str]:
    """Serve the web; return the sources, ``{id: feed url}``."""
    polite, stream, slow_host = 1, 2, 3
    faults.put("/robots.txt", f"User-agent: *\nCrawl-delay: {DELAY:g}\n", on=polite)
    sources = {}
    stories = [(f"Polite story {n}", f"/polite/{n}.html") for n in range(articles)]
    for title, path in stories:
        faults.put(path, article(title), content_type=HTML, on=polite)
    faults.put("/feed.xml", rss(faults.base_url(polite), stories), on=polite)
    sources["polite"] = faults.url("/feed.xml", on=polite)
    sources["stream"] = faults.url(DRIP, host=stream)
    slow_stories = [(f"Slow story {n}", f"/slow/{n}.html") for n in range(3)]
    for title, path in slow_stories:
        faults.put(path, article(title), content_type=HTML)
    faults.put("/slow-feed.xml", rss(faults.base_url(slow_host), slow_stories))
    sources["slow"] = faults.url(f"/fault/slow?of=/slow-feed.xml&after={slow:g}", host=slow_host)
    for h in range(healthy):
        host = 4 + h
        items = [(f"Healthy {h} story {n}", f"/healthy/{h}/{n}.html") for n in range(5)]
        for title, path in items:
            faults.put(path, article(title), content_type=HTML, on=host)
        if h == 0:
            items.append(("Never ends", DRIP))
        faults.put("/feed.xml", rss(faults.base_url(host), items), on=host)
        sources[f"healthy-{h}"] = faults.url("/feed.xml", on=host)
    return sources


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=20, help="stories of the Crawl-delay host")
    parser.add_argument("--slow", type=float, default=8.0, help="seconds the slow feed takes")
    parser.add_argument("--healthy", type=int, default=4, help="healthy hosts")
    parser.add_argument("--timeout", type=float, default=30.0, help="crawl.download_timeout")
    parser.add_argument(
        "--budget", default="10m", help="crawl.round_budget (shorter than the work: it stops)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FaultServer(hosts=4 + args.healthy) as faults:
        sources = build(faults, args.articles, args.slow, args.healthy)
        db = f"sqlite:///{Path(tmp) / 'presscut.db'}"
        crawl = {
            **CRAWL,
            "download_delay": 0.25,
            "concurrent_requests_per_host": 2,
            "download_timeout": args.timeout,
            "retry_times": 2,
            "retry_after_max": 120.0,
            "round_budget": args.budget,
        }
        config = write_config(Path(tmp) / "config", db, sources, crawl=crawl)
        started = time.monotonic()
        report = crawl_round(config, timeout=600)
        process_s = time.monotonic() - started
        if report.status != "finished":
            print(report.output, file=sys.stderr)
            return 1
        polite = urlsplit(faults.base_url(1)).hostname
        polite_requests = sum(1 for s in faults.log if s.host == polite)
        drips = sum(1 for s in faults.log if s.path == "/fault/drip")
        work = polite_requests * DELAY
        round_s = float(report.stats.get("elapsed_time_seconds", 0.0))
        new = sum(c.get("new", 0) for c in report.summary.values())
        failed = sum(c.get("failed", 0) for c in report.summary.values())
        pending = sum(c.get("pending", 0) for c in report.summary.values())
        print(
            f"sources {len(sources)}, new {new}, failed {failed}, pending {pending}, "
            f"download_timeout {args.timeout:g}s, retry_times 2"
        )
        print(f"never-ending stream requests: {drips} (2 streams)")
        print(f"Crawl-delay host: {polite_requests} requests x {DELAY:g}s = {work:.1f}s of work")
        print(f"round wall time: {round_s:.1f}s (child process {process_s:.1f}s)")
        for host, what in sorted(report.stopped.items()):
            print(f"host {host} stopped: {what}")
        ratio = round_s / work
        print(f"ratio round / Crawl-delay work: {ratio:.2f} (goal <= 1.3)")
        return 0 if ratio <= 1.3 else 2


if __name__ == "__main__":
    sys.exit(main())
