"""The shared frontier of a cluster: scrapy-redis's scheduler over a leased queue.

With ``[cluster] redis_url`` set, every request of a round goes through
Redis: the coordinator (``presscut crawl``/``run``) enqueues the due
sources' requests, ``presscut worker`` processes take them, and what a
worker's callbacks yield (articles, child sitemaps, next pages) goes back
to the same queue for any worker.  scrapy-redis provides the scheduler and
the request dupefilter (`scraper.schedulers`, which plugs this module into
Scrapy); this module adds what it lacks, leases:

* `Frontier` holds the queue.  Popping a request moves its
  token from the queue (a sorted set by priority) to the lease set (a
  sorted set by deadline: now + ``[cluster] lease``), atomically, in one
  Lua script: a request is never in neither place.
* A worker acknowledges a request (`Frontier.ack`) once its response or
  failure is wholly handled (callback run, items stored): only then does
  the request leave Redis.  A request that becomes another (a redirect, a
  retry) hands its lease to the new one in the same transaction.
* A worker renews the leases it holds (`Frontier.renew`, every third of a
  lease), so only a lease whose worker stopped renewing (killed, or hung)
  runs out.
* A lease whose deadline passed (its worker was killed, or hangs) goes back
  to the queue at its old priority, on the next pop of any worker and while
  the coordinator waits (`Frontier.reclaim`).  Redis's clock is the only
  one read, so workers on several machines agree on deadlines.

A request may therefore be fetched twice (its worker died after fetching,
before acknowledging), never lost; stored clippings stay single since the
store's inserts are idempotent.

Keys, all under ``[cluster] prefix`` (`keys`): ``:queue`` (tokens by
priority), ``:leases`` (tokens by deadline), ``:payload`` and ``:priority``
(token -> serialized request, score), ``:seen`` (the dupefilter's request
fingerprints, one round's), ``:urls`` (the round's article URL hashes: the
spider's article requests bypass the dupefilter, and claim their canonical
URL here instead); and ``:body:<content hash>`` (`SharedBodies`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from config import Config

logger = logging.getLogger(__name__)

#: The request meta key holding a request's lease token.
LEASE = "frontier_lease"

# ``now``, on Redis's clock.
_NOW_ONLY = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
"""

# Expired leases back to the queue at their priority.  KEYS[1] the queue,
# KEYS[2] the leases, KEYS[4] the priorities; sets ``now``.
_EXPIRED = (
    _NOW_ONLY
    + """
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
for _, token in ipairs(expired) do
  redis.call('ZREM', KEYS[2], token)
  redis.call('ZADD', KEYS[1], tonumber(redis.call('HGET', KEYS[4], token) or '0'), token)
end
"""
)

# KEYS: queue, leases, payload, priority; ARGV: lease seconds.  Expired
# leases back first, then the best request leased: (token, payload).
_POP = (
    _EXPIRED
    + """
while true do
  local head = redis.call('ZRANGE', KEYS[1], 0, 0)
  if #head == 0 then return false end
  redis.call('ZREM', KEYS[1], head[1])
  local payload = redis.call('HGET', KEYS[3], head[1])
  if payload then
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), head[1])
    return {head[1], payload}
  end
end
"""
)

# KEYS: leases; ARGV: lease seconds, tokens.  Moves the deadline of the
# leases still held (XX: one already given back stays so).
_RENEW = (
    _NOW_ONLY
    + """
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i])
end
return 0
"""
)

# Same KEYS: how many expired leases went back.
_RECLAIM = _EXPIRED + "return #expired\n"


def redis_params() -> dict[str, Any]:
    """Client options every cluster process uses: a call waits out a Redis
    outage of up to about a minute (retried with backoff), then fails."""
    return {
        "retry": Retry(ExponentialBackoff(cap=2.0, base=0.05), retries=40),
        "retry_on_error": [redis.ConnectionError, redis.TimeoutError],
        "socket_connect_timeout": 2,
        "socket_timeout": 30,
    }


def connect(url: str) -> redis.Redis:
    """A Redis client with `redis_params`."""
    return redis.Redis.from_url(url, **redis_params())


def keys(prefix: str) -> dict[str, str]:
    """The Redis keys of the frontier under ``prefix``."""
    return {
        name: f"{prefix}:{name}"
        for name in ("queue", "leases", "payload", "priority", "seen", "urls")
    }


class Frontier:
    """The queue and leases in Redis, without Scrapy: what the queue class,
    the worker's acknowledgements and the coordinator's wait share."""

    def __init__(self, server: redis.Redis, prefix: str, lease_s: float) -> None:
        self.server = server
        self.prefix = prefix
        self.lease_s = lease_s
        self.keys = keys(prefix)
        self._pop = server.register_script(_POP)
        self._reclaim = server.register_script(_RECLAIM)
        self._renew = server.register_script(_RENEW)
        #: Tokens this process leased and has not acknowledged yet.
        self.held: set[str] = set()

    @classmethod
    def from_config(cls, config: Config) -> Frontier:
        cluster = config.settings.cluster
        return cls(connect(cluster.redis_url), cluster.prefix, cluster.lease)

    def push(self, data: bytes, score: float, token: str, handed_over: str | None) -> None:
        """Queue ``data`` (a serialized request) under ``token``;
        ``handed_over``, the lease of the request it comes from (a redirect,
        a retry), is released in the same transaction."""
        k = self.keys
        pipe = self.server.pipeline(transaction=True)
        pipe.hset(k["payload"], token, data)
        pipe.hset(k["priority"], token, score)
        pipe.zadd(k["queue"], {token: score})
        if handed_over:
            self._release(pipe, [handed_over])
        pipe.execute()
        self.held.discard(handed_over or "")

    def pop(self) -> tuple[str, bytes] | None:
        """Lease the next request: ``(token, data)``, or ``None``."""
        k = self.keys
        found = self._pop(
            keys=[k["queue"], k["leases"], k["payload"], k["priority"]], args=[self.lease_s]
        )
        if not found:
            return None
        token, data = found[0].decode(), found[1]
        self.held.add(token)
        return token, data

    def ack(self, tokens: Iterable[str], pipe: Any = None) -> None:
        """Release the leases of ``tokens``: their requests are done.  With
        ``pipe`` (a transaction), as part of it."""
        tokens = list(tokens)
        own = pipe is None
        pipe = self.server.pipeline(transaction=True) if own else pipe
        self._release(pipe, tokens)
        if own:
            pipe.execute()
        self.held.difference_update(tokens)

    def renew(self) -> None:
        """Move the deadlines of the leases this process holds: a lease runs
        out only for a process that stopped renewing (killed, or hung)."""
        if self.held:
            self._renew(keys=[self.keys["leases"]], args=[self.lease_s, *self.held])

    def give_back(self, tokens: Iterable[str]) -> None:
        """Put leased requests back in the queue now (a worker stopping)."""
        k = self.keys
        for token in tokens:
            score = self.server.hget(k["priority"], token)
            pipe = self.server.pipeline(transaction=True)
            pipe.zrem(k["leases"], token)
            if score is not None:
                pipe.zadd(k["queue"], {token: float(score)})
            pipe.execute()

    def reclaim(self) -> int:
        """Give expired leases' requests back to the queue; how many."""
        k = self.keys
        return int(self._reclaim(keys=[k["queue"], k["leases"], k["payload"], k["priority"]]))

    def queued(self) -> int:
        return int(self.server.zcard(self.keys["queue"]))

    def leased(self) -> int:
        return int(self.server.zcard(self.keys["leases"]))

    def clear(self) -> None:
        """Forget everything queued and leased, and the seen requests."""
        self.server.delete(*self.keys.values())

    def forget_seen(self) -> None:
        """Start a round's dupefilter and article claims afresh: listing
        pages are read again every round (an article of a stored entry is
        skipped by the spider, before any request)."""
        self.server.delete(self.keys["seen"], self.keys["urls"])

    def claim_url(self, hashed: str) -> bool:
        """Claim the article whose canonical URL hashes to ``hashed`` for
        this round: true for the first worker to ask only."""
        return bool(self.server.sadd(self.keys["urls"], hashed))

    def _release(self, pipe: Any, tokens: list[str]) -> None:
        if not tokens:
            return
        k = self.keys
        # From the queue too: an expired lease whose request was put back
        # and is done after all need not be done again.
        pipe.zrem(k["queue"], *tokens)
        pipe.zrem(k["leases"], *tokens)
        pipe.hdel(k["payload"], *tokens)
        pipe.hdel(k["priority"], *tokens)


class SharedBodies:
    """Which cluster each article body went to, across workers: the first
    to claim a content hash wins (``SET NX``), so two workers storing two
    copies of one story at the same moment put them in one cluster (see
    ``pipelines/dedupe.py``).  A claim lasts ``ttl_s`` (an hour), long past
    the store write after which the database answers the same."""

    def __init__(self, server: redis.Redis, prefix: str, ttl_s: int = 3_600) -> None:
        self.server = server
        self.prefix = prefix
        self.ttl_s = ttl_s

    def claim(self, content_hash: str, cluster: str, source_id: str) -> tuple[str, str]:
        """``(cluster, source_id)`` of the first claim of ``content_hash``:
        this one's, or the earlier one's."""
        key = f"{self.prefix}:body:{content_hash}"
        value = f"{cluster}\t{source_id}"
        if self.server.set(key, value, nx=True, ex=self.ttl_s):
            return cluster, source_id
        first = self.server.get(key)
        if first is None:  # lapsed meanwhile
            return cluster, source_id
        held, _, source = first.decode().partition("\t")
        return held, source
