"""Article extraction off the reactor thread.

Parsing a page costs tens of milliseconds of CPU; done on Scrapy's reactor
thread it would serialise the whole crawl on one core.  `ExtractionPool`
runs `scraper.extract.extract_article` in worker processes and gives the
spider an awaitable, so the reactor keeps downloading while every core parses.

Workers are started with ``spawn``: forking a process that runs a Twisted
reactor and holds database connections is unsafe.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from scraper.extract import extract_article
from scraper.items import Clipping


def _warm_up() -> None:
    # Importing trafilatura and lxml once per worker keeps the first
    # article's latency out of the crawl.
    import scraper.extract  # noqa: F401


class ExtractionPool:
    """A pool of ``workers`` extraction processes (``0``: one per core).

    Created lazily on first use, so a round with nothing new starts none.
    """

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_warm_up,
            )
        return self._executor

    async def extract(self, body: bytes, url: str, base: Clipping) -> Clipping:
        """Extract ``body`` fetched from ``url``, merging into ``base``."""
        loop = asyncio.get_running_loop()
        job = functools.partial(extract_article, body, url, base=base)
        return await loop.run_in_executor(self._pool(), job)

    def close(self) -> None:
        """Stop the workers; extractions not yet started are abandoned."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
