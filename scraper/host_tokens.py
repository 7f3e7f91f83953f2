"""Politeness held across the workers of a cluster: a token per host in Redis.

Scrapy paces each host inside one process (download slots, delay,
concurrency; `scraper.politeness` adds Crawl-delay and Retry-After).  With
N workers each would do so alone, and a host would see N times the rate.
`HostTokens`, a downloader middleware of workers only
(`scraper.schedulers.cluster_settings`), makes a request wait, before it
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

Lua scripts decide atomically on Redis's clock, so workers on several
machines agree.  Spacing counts from when a request is *sent* (Scrapy's
``request_reached_downloader``, `HostTokens.reached`), not from when its
token was granted: a busy process may send a moment later.  So with a
delay, a host grants one token at a time, and the next only once that
request is sent (or its grant lapses after 2 s).  The host is the download
slot's key, as in `scraper.politeness`.  Keys under
``<prefix>:host:<host>:``: ``next`` (when the next start may be), ``busy``
(holders by expiry), ``granted`` (the grant not yet sent).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Self

from scrapy import Request, signals
from scrapy.http import Response

from scraper.frontier import connect
from scraper.politeness import crawl_settings, retry_after_seconds

#: The request meta key of the host token a request holds.
TOKEN = "host_token"

# The clock of every script: Redis's, in seconds.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
"""

# KEYS: next, busy, granted; ARGV: delay, limit, holder, hold seconds.
# Returns '0' when granted, else the seconds to wait before asking again.
# With a delay, one grant at a time: the next waits until the granted
# request is sent (`_SENT`), and ``delay`` after that.
_TAKE = (
    _NOW
    + """
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nxt > now then return tostring(nxt - now) end
local delay = tonumber(ARGV[1])
if delay > 0 and redis.call('EXISTS', KEYS[3]) == 1 then return '0.02' end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return '0.05' end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[3])
redis.call('PEXPIRE', KEYS[2], math.ceil(tonumber(ARGV[4]) * 1000))
if delay > 0 then
  redis.call('SET', KEYS[3], ARGV[3], 'PX', GRANT_MS)
end
return '0'
"""
).replace("GRANT_MS", "2000")

# KEYS: next, granted; ARGV: seconds, holder.  The host's next start is no
# sooner than ``seconds`` from now; ``holder``'s grant, if it is the one
# pending, is used.
_SENT = (
    _NOW
    + """
local until_ = now + tonumber(ARGV[1])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > nxt then
  redis.call('SET', KEYS[1], tostring(until_), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
return 0
"""
)


class HostTokens:
    """Downloader middleware: a request starts only with its host's token."""

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        crawl = crawl_settings(crawler)
        self.crawler = crawler
        self.server = connect(settings.get("REDIS_URL"))
        self.prefix = settings.get("PRESSCUT_FRONTIER_PREFIX")
        self.delay = crawl.download_delay
        self.limit = crawl.concurrent_requests_per_host
        self.hold_s = crawl.download_timeout + 5
        self.retry_after_max = crawl.retry_after_max
        self._take = self.server.register_script(_TAKE)
        self._sent = self.server.register_script(_SENT)

    @classmethod
    def from_crawler(cls, crawler: Any) -> Self:
        tokens = cls(crawler)
        crawler.signals.connect(tokens.reached, signal=signals.request_reached_downloader)
        return tokens

    def reached(self, request: Request, spider: Any) -> None:
        """The request is being sent, maybe a moment after its token was
        granted (a busy process): the host's next start counts from now."""
        held = request.meta.get(TOKEN)
        if held is not None:
            host, holder = held
            self._sent(keys=self._keys(host)[::2], args=[self.host_delay(host), holder])

    def _host(self, request: Request) -> str:
        return str(self.crawler.engine.downloader.get_slot_key(request))

    def _keys(self, host: str) -> list[str]:
        """next start, holders in flight, pending grant."""
        return [f"{self.prefix}:host:{host}:{name}" for name in ("next", "busy", "granted")]

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
                self._sent(keys=self._keys(host)[::2], args=[pause, ""])
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._release(request)
        return None

    def _release(self, request: Request) -> None:
        held = request.meta.pop(TOKEN, None)
        if held is not None:
            host, holder = held
            keys = self._keys(host)
            self.server.zrem(keys[1], holder)
            self._sent(keys=keys[::2], args=[0, holder])
