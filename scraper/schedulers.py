"""The Scrapy side of a cluster's frontier: scrapy-redis's scheduler over leases.

`cluster_settings` routes a crawl through Redis: scrapy-redis's scheduler
(`FrontierScheduler`, for a worker; `EnqueueOnlyScheduler`, for the
coordinator) and its request dupefilter, with `LeasedQueue` as the
scheduler's queue, which keeps each popped request leased in the
`scraper.frontier.Frontier` until the worker is done with it (see there).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import redis
from scrapy_redis.queue import Base
from scrapy_redis.scheduler import Scheduler

from config import Config
from scraper.frontier import LEASE, Frontier, keys, redis_params

logger = logging.getLogger(__name__)


class LeasedQueue(Base):
    """scrapy-redis's queue interface over a `Frontier`: priority order
    (higher first, as Scrapy's), a lease per popped request (its token in
    ``request.meta[LEASE]``)."""

    def __init__(self, server: Any, spider: Any, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        settings = spider.crawler.settings
        self.frontier = Frontier(
            server, settings.get("PRESSCUT_FRONTIER_PREFIX"), settings.getfloat("PRESSCUT_LEASE")
        )
        # The worker's extension renews and acknowledges its leases.
        spider.frontier = self.frontier

    def __len__(self) -> int:
        return self.frontier.queued()

    def push(self, request: Any) -> None:
        handed_over = request.meta.get(LEASE)
        request.meta[LEASE] = uuid.uuid4().hex
        data = self._encode_request(request)
        self.frontier.push(data, -request.priority, request.meta[LEASE], handed_over)

    def pop(self, timeout: int = 0) -> Any:
        leased = self.frontier.pop()
        if leased is None:
            return None
        token, data = leased
        request = self._decode_request(data)
        request.meta[LEASE] = token
        return request

    def clear(self) -> None:
        self.frontier.clear()


class FrontierScheduler(Scheduler):
    """scrapy-redis's scheduler, counting in Scrapy's stats without the
    ``spider`` argument Scrapy 2.13 deprecated (a warning per process)."""

    def enqueue_request(self, request: Any) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self) -> Any:
        try:
            request = self.queue.pop()
        except redis.RedisError as exc:
            # Redis gone for a while: the worker waits (Scrapy asks again
            # within seconds) and goes on when it is back.
            logger.warning("redis unavailable, no request taken: %s", exc)
            return None
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request


class EnqueueOnlyScheduler(FrontierScheduler):
    """The coordinator's scheduler: the round's start requests go to the
    shared queue, and none comes back to this process (the workers take
    them), so its spider closes once they are all enqueued."""

    def next_request(self) -> None:
        return None

    def has_pending_requests(self) -> bool:
        return False


def cluster_settings(config: Config, *, coordinator: bool) -> dict[str, Any]:
    """The Scrapy settings that route a crawl through the shared frontier."""
    cluster = config.settings.cluster
    k = keys(cluster.prefix)
    settings: dict[str, Any] = {
        "SCHEDULER": (
            "scraper.schedulers.EnqueueOnlyScheduler"
            if coordinator
            else "scraper.schedulers.FrontierScheduler"
        ),
        "SCHEDULER_QUEUE_CLASS": "scraper.schedulers.LeasedQueue",
        "SCHEDULER_QUEUE_KEY": k["queue"],
        "SCHEDULER_DUPEFILTER_KEY": k["seen"],
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        # The queue outlives every process: a coordinator or worker closing
        # never flushes the others' work.
        "SCHEDULER_PERSIST": True,
        "REDIS_URL": cluster.redis_url,
        "REDIS_PARAMS": redis_params(),
        "PRESSCUT_FRONTIER_PREFIX": cluster.prefix,
        "PRESSCUT_LEASE": cluster.lease,
    }
    if not coordinator:
        # Spacing per host is held across workers by `scraper.host_tokens`;
        # a second, local delay on top would only slow each worker down.
        settings.update(
            {
                "DOWNLOAD_DELAY": 0,
                "AUTOTHROTTLE_ENABLED": False,
                "DOWNLOADER_MIDDLEWARES": {
                    **_downloader_middlewares(),
                    "scraper.host_tokens.HostTokens": 950,
                },
            }
        )
    return settings


def _downloader_middlewares() -> dict[str, Any]:
    from scraper import settings

    return dict(settings.DOWNLOADER_MIDDLEWARES)
