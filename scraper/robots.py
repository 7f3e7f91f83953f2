"""robots.txt, read once per host and kept between rounds (RFC 9309).

`RobotsCache` takes the place of Scrapy's ``RobotsTxtMiddleware`` (same
settings, same ``robots_parsed`` signal, so a ``Crawl-delay`` holds as
before: `scraper.politeness`).  For each host (``scheme://host[:port]``),
the first request of a round asks for its rules:

* a stored copy (`storage.RobotsCopy`) still fresh is used as it is: no
  request;
* otherwise robots.txt is fetched, conditionally when the copy has an
  ``ETag`` or ``Last-Modified``, and never retried within the round:

  - **2xx**: its rules, saved;
  - **304**: the stored rules, their freshness renewed;
  - **4xx** (404, 403, 410, ...): no rules, everything allowed (RFC 9309
    2.3.1.3), saved as such;
  - **5xx or 429, or no answer** (a timeout, a reset, a body cut short): "try
    later" (RFC 9309 2.3.1.4).  A stored copy fetched less than `MAX_AGE`
    ago is used for the round; without one *nothing* is fetched from the
    host this round: each of its requests fails at once with
    `scraper.errors.RobotsUnavailable` (``robots_unavailable``, transient:
    an article comes back next round, `scraper.retries`).  Nothing is saved,
    so the next round asks again.
  - a host that cannot be reached at all (connection refused, a name that
    does not resolve, an address the guard refuses, TLS) is no answer about
    robots.txt: its requests go on and fail with their own error, named as
    it is; a redirect loop is robots.txt unavailable: everything allowed.

How long a copy stays fresh (`lifetime`): its ``Cache-Control: max-age``
(``no-store``/``no-cache``: not at all), else its ``Expires`` less its
``Date``, else `MAX_AGE`; never more than `MAX_AGE`, 24 h (RFC 9309 2.4).
Only the first `MAX_BODY` bytes are kept and read, as the RFC allows.

Without a round context (``sources check``, ``sources discover``) the same
rules hold for the one command, with nothing stored.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy import signals
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.extensions.httpcache import parse_cachecontrol, rfc1123_to_epoch
from scrapy.http import Request, Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

from scraper.errors import RobotsUnavailable, classify_exception
from storage import DatabaseUnavailable, RobotsCopy, Store

logger = logging.getLogger(__name__)

#: Seconds a copy may be used, whatever its headers say (RFC 9309 2.4).
MAX_AGE = 24 * 3600.0
#: Bytes of a robots.txt read (RFC 9309 2.5: at least 500 KiB).
MAX_BODY = 500 * 1024

#: Failures that hold no host back: the host cannot be asked at all (its
#: requests fail the same way, with their own error), or robots.txt
#: redirects past the limit (RFC 9309 2.3.1.2: unavailable, so allowed).
_UNREACHABLE_HOST = frozenset({"dns", "address_refused", "invalid_url", "tls", "redirect"})


def lifetime(headers: Any, now: datetime) -> float:
    """Seconds a robots.txt answered with ``headers`` (Scrapy ``Headers``)
    at ``now`` stays fresh: see the module docstring."""
    directives = parse_cachecontrol(headers.get(b"Cache-Control") or b"")
    if b"no-store" in directives or b"no-cache" in directives:
        return 0.0
    max_age = directives.get(b"max-age")
    if max_age is not None:
        try:
            seconds = float(max_age)
        except ValueError:
            seconds = 0.0
    elif headers.get(b"Expires") is not None:
        expires = rfc1123_to_epoch(headers.get(b"Expires"))
        date = rfc1123_to_epoch(headers.get(b"Date")) or now.timestamp()
        seconds = expires - date if expires is not None else 0.0
    else:
        seconds = MAX_AGE
    return min(max(seconds, 0.0), MAX_AGE)


def _kept(store: Store | None, host: str) -> RobotsCopy | None:
    """``host``'s stored copy; ``None`` without a store, or with the
    database gone (robots.txt is then simply asked for)."""
    if store is None:
        return None
    try:
        return store.robots_copy(host)
    except DatabaseUnavailable as exc:
        logger.warning("robots.txt copy of %s not read: %s", host, exc)
        return None


def _keep(store: Store | None, copy: RobotsCopy) -> None:
    """Save ``copy`` when there is a store; with the database gone it is
    asked for again next round."""
    if store is None:
        return
    try:
        store.save_robots_copy(copy)
    except DatabaseUnavailable as exc:
        logger.warning("robots.txt copy of %s not saved: %s", copy.host, exc)


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value else None


class RobotsCache(RobotsTxtMiddleware):
    """robots.txt per host, kept between rounds in the round's store (see
    the module docstring)."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        #: Hosts whose robots.txt could not be had this round, with why.
        self._unavailable: dict[str, str] = {}

    def _store(self) -> Store | None:
        context = getattr(self.crawler.spider, "context", None)
        store = getattr(context, "store", None)
        return store if isinstance(store, Store) else None

    def process_request_2(self, rp: Any, request: Request) -> None:
        reason = self._unavailable.get(urlparse_cached(request).netloc)
        if reason is not None:
            self._stats.inc_value("robotstxt/unavailable_refused")
            raise RobotsUnavailable(reason)
        super().process_request_2(rp, request)

    async def robot_parser(self, request: Request) -> Any:
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            parser = None
            try:
                body = await self._rules(request)
                if body is not None:
                    parser = build_from_crawler(self._parserimpl, self.crawler, body)
                    await self.crawler.signals.send_catch_log_async(
                        signal=signals.robots_parsed, robotparser=parser, request=request
                    )
            except Exception as exc:  # a bug here must not end the round...
                logger.error("robots.txt not read: %r", exc, extra={"url": request.url})
                # ...nor let the host be crawled against rules never read.
                self._unavailable[netloc] = (
                    f"robots.txt of {url.scheme}://{netloc} not read "
                    f"({exc.__class__.__name__}: {exc}): nothing is fetched from the host "
                    "this round"
                )
            waiting = self._parsers[netloc]
            self._parsers[netloc] = parser
            assert isinstance(waiting, Deferred)
            waiting.callback(parser)
        found = self._parsers[netloc]
        if isinstance(found, Deferred):
            return await maybe_deferred_to_future(found)
        return found

    async def _rules(self, request: Request) -> bytes | None:
        """The robots.txt rules for ``request``'s host: a body to parse, or
        ``None`` (no rules, or the host is held back: `_unavailable`)."""
        url = urlparse_cached(request)
        host = f"{url.scheme}://{url.netloc}"
        store = self._store()
        now = datetime.now(UTC)
        copy = _kept(store, host)
        if copy is not None and copy.expires_at > now:
            self._stats.inc_value("robotstxt/kept")
            return copy.body
        answer = await self._fetch(host, copy)
        now = datetime.now(UTC)
        if isinstance(answer, Response) and answer.status < 500 and answer.status != 429:
            fresh = self._answered(host, answer, copy, now)
            _keep(store, fresh)
            return fresh.body
        if isinstance(answer, BaseException):
            kind, message = classify_exception(answer, request)
            if kind in _UNREACHABLE_HOST or message == "connection refused":
                return None
            why = f"{kind}: {message}"
        else:
            why = f"HTTP {answer.status}"
        if copy is not None and now - copy.fetched_at <= timedelta(seconds=MAX_AGE):
            self._stats.inc_value("robotstxt/kept_on_error")
            logger.info(
                "robots.txt of %s unavailable (%s): its copy of %s is used",
                host,
                why,
                copy.fetched_at.isoformat(),
                extra={"url": f"{host}/robots.txt"},
            )
            return copy.body
        self._unavailable[url.netloc] = (
            f"robots.txt of {host} unavailable ({why}): nothing is fetched "
            "from the host until it answers, next round"
        )
        self._stats.inc_value("robotstxt/unavailable")
        logger.warning("%s", self._unavailable[url.netloc], extra={"url": f"{host}/robots.txt"})
        return None

    async def _fetch(self, host: str, copy: RobotsCopy | None) -> Response | BaseException:
        headers = {}
        if copy is not None and copy.etag:
            headers["If-None-Match"] = copy.etag
        if copy is not None and copy.last_modified:
            headers["If-Modified-Since"] = copy.last_modified
        robots = Request(
            f"{host}/robots.txt",
            headers=headers,
            priority=self.DOWNLOAD_PRIORITY,
            # "Try later" means the next round: a 5xx or a timeout is not
            # asked again within this one.
            meta={"dont_obey_robotstxt": True, "dont_retry": True},
            callback=NO_CALLBACK,
        )
        self._stats.inc_value("robotstxt/request_count")
        try:
            response = await self.crawler.engine.download_async(robots)
        except Exception as exc:
            return exc
        self._stats.inc_value("robotstxt/response_count")
        self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        return response

    def _answered(
        self, host: str, response: Response, copy: RobotsCopy | None, now: datetime
    ) -> RobotsCopy:
        """The copy to keep after an answer below 500 (but 429)."""
        seconds = lifetime(response.headers, now)
        if response.status == 304 and copy is not None:
            if not any(response.headers.get(h) for h in (b"Cache-Control", b"Expires")):
                seconds = copy.lifetime_s  # a 304 that says nothing keeps the old terms
            return dataclasses.replace(
                copy,
                etag=_text(response.headers.get(b"ETag")) or copy.etag,
                fetched_at=now,
                expires_at=now + timedelta(seconds=seconds),
                lifetime_s=seconds,
            )
        # A 4xx (or a 3xx left over) has no rules: everything is allowed.
        body = response.body[:MAX_BODY] if 200 <= response.status < 300 else b""
        return RobotsCopy(
            host=host,
            status=response.status,
            body=body,
            etag=_text(response.headers.get(b"ETag")),
            last_modified=_text(response.headers.get(b"Last-Modified")),
            fetched_at=now,
            expires_at=now + timedelta(seconds=seconds),
            lifetime_s=seconds,
        )
