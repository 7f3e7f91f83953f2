"""Feed parsing in a process that can be stopped.

feedparser and the XML readers under it run in pure Python or C with no
time limit: a feed crafted for catastrophic regular-expression backtracking
(a megabyte-long ``<author>``) or simply huge can hold the thread that
parses it for minutes.  On Scrapy's reactor thread that would stall every
download of the round.  `FeedParsePool` runs `scraper.feeds.parse_feed` in
worker processes instead and gives each parse a deadline: a worker still
busy at the deadline is killed (pebble's process pool replaces it), and the
feed reads as unreadable, with the reason.

Workers are started with ``spawn``, as forking a process that runs a
Twisted reactor and holds database connections is unsafe; they are created
on first use, so a round in which no feed changed starts none.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Mapping
from concurrent.futures import TimeoutError as FutureTimeout

from pebble import ProcessExpired, ProcessPool

from scraper.feeds import ParsedFeed, parse_feed

#: Seconds a feed may take to parse (``crawl.parse_timeout``): feedparser
#: reads a 10 MB feed of 50,000 entries in well under this on one core.
DEFAULT_TIMEOUT = 60.0


def _warm_up() -> None:
    # Importing feedparser and its XML readers once per worker keeps that
    # cost out of the first feed's deadline.
    import scraper.feeds  # noqa: F401


class FeedParsePool:
    """``workers`` feed-parsing processes, each parse bounded by ``timeout``
    seconds."""

    def __init__(self, workers: int = 2, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.workers = max(1, workers)
        self.timeout = timeout
        self._pool: ProcessPool | None = None

    def _workers(self) -> ProcessPool:
        if self._pool is None:
            self._pool = ProcessPool(
                max_workers=self.workers,
                initializer=_warm_up,
                context=multiprocessing.get_context("spawn"),
            )
        return self._pool

    async def parse(
        self, body: bytes, *, url: str, headers: Mapping[str, str] | None = None
    ) -> ParsedFeed:
        """`parse_feed` of ``body``, in a worker; never raises for the feed's
        sake: a parse past the deadline, or a worker that dies (out of
        memory, a crash in C), gives a `ParsedFeed` with ``error`` set."""
        future = self._workers().schedule(
            parse_feed,
            args=(body,),
            kwargs={"url": url, "headers": dict(headers or {})},
            timeout=self.timeout,
        )
        try:
            return await asyncio.wrap_future(future)
        except FutureTimeout:
            error = f"feed parsing stopped after {self.timeout:g} s (crawl.parse_timeout)"
        except ProcessExpired as exc:
            error = f"feed parser process died: {exc}"
        return ParsedFeed(url=url, bozo=True, error=error)

    def close(self) -> None:
        """Stop the workers, a busy one too."""
        if self._pool is not None:
            self._pool.stop()
            self._pool.join(timeout=10)
            self._pool = None
