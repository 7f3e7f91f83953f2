"""A crawl worker of a cluster: ``presscut worker``, until SIGTERM.

It runs the round spider in worker mode (`RoundSpider(worker=True)`: it
starts no request of its own) over the shared frontier
(`scraper.frontier`): it takes any request of the current round from
Redis, fetches it with the same middlewares as one process (politeness held
across workers by `scraper.host_tokens`), reads feeds, sitemaps and
sections, extracts articles, runs the pipelines and writes to the one
PostgreSQL store.

`ClusterWorker`, its Scrapy extension, ends each request's lease once its
response or failure is wholly handled (Scrapy's scraper is done with it:
callback run, items through the pipelines): the store stage's buffer is
written first, then, in one Redis transaction, what the worker's
`SourceStates` gathered goes to the round's tally (`rounds.tally`) and the
lease is released.  If the write fails (the database is gone) the lease is
kept and runs out, and another worker (or this one) does the request again.

While it works on a request the worker renews its lease (every third of
``[cluster] lease``); killed, it stops renewing, and its requests go back
to the queue once their leases run out.  On SIGTERM Scrapy stops
gracefully, and the worker gives back at once the requests it still holds.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import DontCloseSpider
from twisted.internet.task import LoopingCall

from config import Config
from rounds.tally import RoundTally
from scraper.context import RoundContext
from scraper.crawl_log import quiet_crawl_logging
from scraper.frontier import LEASE, Frontier, SharedBodies, connect
from scraper.schedulers import cluster_settings
from scraper.settings import scrapy_settings
from scraper.spiders.round import RoundSpider
from storage import DatabaseUnavailable, open_store

logger = logging.getLogger("presscut.worker")


def run_worker(config: Config, *, log_level: str = "WARNING") -> None:
    """Crawl from the shared frontier until the process is stopped."""
    store = open_store(config.settings.database.url)
    try:
        store.upgrade()
        settings = scrapy_settings(config, log_level=log_level)
        settings.update(cluster_settings(config, coordinator=False), priority="cmdline")
        settings.set("EXTENSIONS", {"rounds.worker.ClusterWorker": 0}, priority="cmdline")
        settings.set("LOG_INSTALL_ROOT_HANDLER", log_level != "NONE", priority="cmdline")
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(RoundSpider)
        quiet_crawl_logging(crawler)
        context = RoundContext.open(config, store)
        cluster = config.settings.cluster
        context.bodies = SharedBodies(connect(cluster.redis_url), cluster.prefix)
        process.crawl(crawler, context=context, worker=True)
        process.start()
    finally:
        store.close()


class ClusterWorker:
    """Scrapy extension of a worker: keeps the spider open while the queue
    is empty, and ends each request's lease once it is handled (see the
    module docstring)."""

    def __init__(self, crawler: Any, tally: RoundTally) -> None:
        self.crawler = crawler
        self.server = tally.server
        self.tally = tally
        self.renewal = LoopingCall(self.renew)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ClusterWorker:
        settings = crawler.settings
        server = connect(settings.get("REDIS_URL"))
        worker = cls(crawler, RoundTally(server, settings.get("PRESSCUT_FRONTIER_PREFIX")))
        for handler, signal in (
            (worker.spider_opened, signals.spider_opened),
            (worker.spider_closed, signals.spider_closed),
            (worker.spider_idle, signals.spider_idle),
            (worker.request_dropped, signals.request_dropped),
        ):
            crawler.signals.connect(handler, signal=signal)
        return worker

    def spider_opened(self, spider: Any) -> None:
        self.context: RoundContext = spider.context
        # The scheduler's queue, opened before this signal, shares its
        # frontier: the leases it took are the ones to renew and end.
        self.frontier: Frontier = spider.frontier
        self.renewal.start(self.frontier.lease_s / 3, now=False)
        self.store_stage = _store_stage(self.crawler)
        # Scrapy's scraper calls its slot's ``finish_response`` once a
        # response or failure is wholly handled, whatever path it took
        # (callback, errback, a request dropped by a downloader middleware):
        # the one place that sees the end of every request.
        slot = self.crawler.engine.scraper.slot
        finish = slot.finish_response

        def finish_response(result: Any, request: Any) -> None:
            finish(result, request)
            self.handled(request)

        slot.finish_response = finish_response

    def spider_closed(self, spider: Any) -> None:
        if self.renewal.running:
            self.renewal.stop()
        # Stopped gracefully: what this worker still holds goes back now,
        # not when its leases run out.
        held = list(self.frontier.held)
        try:
            self.frontier.give_back(held)
            self.frontier.held.clear()
        except redis.RedisError as exc:
            logger.warning("redis unavailable, %d lease(s) left to run out: %s", len(held), exc)

    def renew(self) -> None:
        try:
            self.frontier.renew()
        except redis.RedisError as exc:
            logger.warning("redis unavailable, leases not renewed: %s", exc)

    def spider_idle(self, spider: Any) -> None:
        # The queue is empty for now: a worker waits for the next round.
        raise DontCloseSpider

    def request_dropped(self, request: Any, spider: Any) -> None:
        # A request that came from a leased one (a redirect) and was refused
        # by the dupefilter: the lease it carried ends here.
        self.handled(request)

    def handled(self, request: Any) -> None:
        """``request`` is done: write the store stage's buffer, then hand
        the tally over and release the lease in one transaction."""
        token = request.meta.get(LEASE)
        if token is None:
            return
        try:
            if self.store_stage is not None:
                self.store_stage.flush()
        except DatabaseUnavailable as exc:
            logger.warning(
                "database unavailable, %s left to its lease: %s",
                request.url,
                str(exc.orig or exc).splitlines()[0],
            )
            return
        pipe = self.server.pipeline(transaction=True)
        self.tally.hand_over(self.context.states, pipe)
        self.frontier.ack([token], pipe)
        try:
            pipe.execute()
        except redis.RedisError as exc:
            logger.warning("redis unavailable, %s left to its lease: %s", request.url, exc)


def _store_stage(crawler: Any) -> Any:
    """The crawl's store stage (``pipelines.store``, found by its stats
    namespace: `rounds` does not import the stages)."""
    for stage in crawler.engine.scraper.itemproc.middlewares:
        if getattr(stage, "namespace", None) == "store":
            return stage
    return None
