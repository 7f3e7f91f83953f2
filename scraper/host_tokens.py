"""Politeness held across the workers of a cluster: a token per host in Redis.

Scrapy paces each host inside one process (download slots, delay,
concurrency; `scraper.politeness` adds Crawl-delay and Retry-After).  With
N workers each would do so alone, and a host would see N times the rate.
`HostTokens`, a downloader middleware of workers only
(`scraper.frontier.cluster_settings`), makes a request wait, before it
reaches its download slot, until the host grants it a token in Redis:

* **spacing**: at least the host's delay between two request starts from
  any worker: ``[crawl] download_delay``, or the host's Crawl-delay (which
  `scraper.politeness` sets on the download slot) when longer;
* **concurrency**: at most ``[crawl] concurrent_requests_per_host`` requests
  of all workers in flight at a host; a holder is released with its
  response or failure, and expires after the download timeout (its worker
  died);
* **Retry-After and backoff**: a 429 or 503 with ``Retry-After`` pauses the
  host for every worker (cut to ``retry_after_max``), as it does the
  slot of the worker that received it.

One Lua script decides atomically on Redis's clock, so workers on several
machines agree.  The host is the download slot's key, as in
`scraper.politeness`.  Keys: ``<prefix>:host:<host>:next`` (when the next
start may be) and ``<prefix>:host:<host>:busy`` (holders by expiry).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Self

import redis
from scrapy import Request
from scrapy.http import Response

from scraper.politeness import crawl_settings, retry_after_seconds

#: The request meta key of the host token a request holds.
TOKEN = "host_token"

# KEYS: next, busy; ARGV: delay, limit, holder, hold seconds.
# Returns 0 when granted, else the seconds to wait before asking again.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nxt > now then return tostring(nxt - now) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return '0.05' end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[3])
redis.call('PEXPIRE', KEYS[2], math.ceil(tonumber(ARGV[4]) * 1000))
local delay = tonumber(ARGV[1])
if delay > 0 then
  redis.call('SET', KEYS[1], tostring(now + delay), 'PX', math.ceil(delay * 1000) + 1000)
end
return '0'
"""

# KEYS: next; ARGV: pause seconds.  Moves the host's next start later.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local until_ = now + tonumber(ARGV[1])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > nxt then
  redis.call('SET', KEYS[1], tostring(until_), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
return 0
"""


class HostTokens:
    """Downloader middleware: a request starts only with its host's token."""

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        crawl = crawl_settings(crawler)
        self.crawler = crawler
        self.server = redis.Redis.from_url(settings.get("REDIS_URL"))
        self.prefix = settings.get("PRESSCUT_FRONTIER_PREFIX")
        self.delay = crawl.download_delay
        self.limit = crawl.concurrent_requests_per_host
        self.hold_s = crawl.download_timeout + 5
        self.retry_after_max = crawl.retry_after_max
        self._take = self.server.register_script(_TAKE)
        self._pause = self.server.register_script(_PAUSE)

    @classmethod
    def from_crawler(cls, crawler: Any) -> Self:
        return cls(crawler)

    def _host(self, request: Request) -> str:
        return str(self.crawler.engine.downloader.get_slot_key(request))

    def _keys(self, host: str) -> list[str]:
        return [f"{self.prefix}:host:{host}:next", f"{self.prefix}:host:{host}:busy"]

    def host_delay(self, host: str) -> float:
        """The host's spacing: the configured delay, or its Crawl-delay."""
        slot = self.crawler.engine.downloader.slots.get(host)
        return max(self.delay, slot.delay if slot is not None else 0.0)

    async def process_request(self, request: Request) -> None:
        host = self._host(request)
        holder = uuid.uuid4().hex
        keys = self._keys(host)
        while True:
            args = [self.host_delay(host), self.limit, holder, self.hold_s]
            wait = float(self._take(keys=keys, args=args))
            if wait <= 0:
                break
            self.crawler.stats.inc_value("cluster/host_waits")
            await asyncio.sleep(min(wait, 1.0))
        request.meta[TOKEN] = (host, holder)
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        self._release(request)
        if response.status in (429, 503):
            seconds = retry_after_seconds(response.headers.get("Retry-After"))
            if seconds:
                host = self._host(request)
                pause = min(seconds, self.retry_after_max)
                self._pause(keys=self._keys(host)[:1], args=[pause])
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._release(request)
        return None

    def _release(self, request: Request) -> None:
        held = request.meta.pop(TOKEN, None)
        if held is not None:
            host, holder = held
            self.server.zrem(self._keys(host)[1], holder)
