"""Loading the store benchmark's database: synthetic clippings made in a
worker process (a few batches ahead, no more) and written through
`Store.bulk_load`, then one site digest recorded per past week, as weekly
``presscut digest`` runs would have left them."""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.synthetic_clippings import Generator
from digest.dates import week_period
from digest.publisher import article_date
from scraper.items import Clipping
from storage import SITE, Store

BATCH = 5000
AHEAD = 3

_generator: Generator | None = None


def _start(rows: int, seed: int) -> None:
    global _generator
    _generator = Generator(rows, seed)


def _batch(start: int, stop: int) -> list[Clipping]:
    assert _generator is not None
    return _generator.batch(start, stop)


def generated(rows: int, seed: int) -> Iterator[Clipping]:
    """Every clipping, made in a worker process at most `AHEAD` batches ahead."""
    with ProcessPoolExecutor(1, initializer=_start, initargs=(rows, seed)) as pool:
        starts = iter(range(0, rows, BATCH))
        pending: deque[Future[list[Clipping]]] = deque()
        for start in starts:
            pending.append(pool.submit(_batch, start, min(start + BATCH, rows)))
            if len(pending) >= AHEAD:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


def week_of(when: datetime) -> str:
    """The digest week (ending on Friday, UTC) holding ``when``."""
    friday = when.date() + timedelta(days=(4 - when.weekday()) % 7)
    year, week, _ = friday.isocalendar()
    return f"{year}-W{week:02d}"


def load(store: Store, rows: int, seed: int) -> dict[str, Any]:
    """Load ``rows`` clippings and the digests; wall seconds (in all, and
    until the last batch was in, before the deferred indexes), rows/s and
    this process's CPU seconds of the clipping load."""
    published: dict[str, list[tuple[datetime, str, str]]] = {}

    def remembered() -> Iterator[Clipping]:
        for clipping in generated(rows, seed):
            when = article_date(clipping)
            if clipping.status == "published" and when is not None:
                item = (when, clipping.url_hash or "", clipping.cluster or "")
                published.setdefault(week_of(when), []).append(item)
            yield clipping

    rows_done = [0.0]

    def progress(done: int) -> None:
        if done == rows:
            rows_done[0] = time.perf_counter() - w0
        if done % 100_000 == 0 or done == rows:
            rate = done / (time.perf_counter() - w0)
            print(f"  loaded {done:,} ({rate:,.0f}/s)", file=sys.stderr)

    w0, c0 = time.perf_counter(), time.process_time()
    inserted = store.bulk_load(remembered(), progress=progress)
    seconds, cpu = time.perf_counter() - w0, time.process_time() - c0
    assert inserted == rows, f"{inserted} of {rows} inserted"
    print(
        f"  rows in {rows_done[0]:.0f} s, deferred indexes and statistics "
        f"{seconds - rows_done[0]:.0f} s, {seconds:.0f} s in all",
        file=sys.stderr,
    )
    record_digests(store, published)
    print(f"  digests recorded in {time.perf_counter() - w0 - seconds:.0f} s", file=sys.stderr)
    return {
        "seconds": seconds,
        "rows_seconds": rows_done[0],
        "rate": rows / seconds,
        "cpu": cpu,
    }


def record_digests(store: Store, published: dict[str, list[tuple[datetime, str, str]]]) -> None:
    """One site digest per week of published clippings, newest article
    first, each cluster once (in the first digest that holds it)."""
    out: set[str] = set()
    for week in sorted(published):
        start, end = week_period(week, "friday", UTC)
        items = sorted(published[week], reverse=True)
        ids = store.clipping_ids_by_url_hash(h for _, h, _ in items)
        chosen = []
        for _, url_hash, cluster in items:
            if cluster not in out:
                out.add(cluster)
                chosen.append((ids[url_hash], cluster))
        store.record_publication(
            kind="digest",
            target=SITE,
            title=f"Digest {week}",
            posted_at=end,
            items=chosen,
            period=(start, end),
        )
