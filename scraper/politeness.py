"""Politeness: how presscut paces itself on each host, on top of Scrapy's
per-host concurrency, download delay and AutoThrottle (``scraper/settings.py``).

Two downloader middlewares, both in ``DOWNLOADER_MIDDLEWARES``:

* `SourceRobots`, ahead of Scrapy's ``RobotsTxtMiddleware``: the requests of
  a source configured with ``ignore_robots = true`` skip robots.txt.  The
  override is logged as a warning once per source and round and counted
  (``politeness/robots_ignored``); every other request obeys robots.txt.
* `PolitenessMiddleware`, in place of Scrapy's ``RetryMiddleware`` (it reads
  the same ``RETRY_*`` settings and ``dont_retry``/``max_retry_times`` meta):

  - **Crawl-delay**: when robots.txt is read for a host, its ``Crawl-delay``
    for our User-Agent, cut to ``crawl_delay_max``, becomes that host's least
    time between two request starts (no random jitter, and AutoThrottle may
    not lower it);
  - **Retry-After and backoff**: a transient failure (a status in
    ``RETRY_HTTP_CODES``, 408/429/5xx by default, or an exception in
    ``RETRY_EXCEPTIONS``: timeouts, dropped connections) pauses the *whole
    host*: a 429 or 503 for its ``Retry-After`` (seconds or an HTTP date),
    anything else for ``retry_backoff`` seconds doubled for each failure in a
    row; never longer than ``retry_after_max``.  The request is then retried,
    up to ``RETRY_TIMES``, except after a timeout or a body cut short
    (`NOT_RETRIED_IN_ROUND`): another try would cost the round another
    ``download_timeout``, so the entry's retry state (`scraper.retries`)
    takes it to a later round;
  - **round budget** (`scraper.round_budget`): once the round has run for
    ``crawl.round_budget``, no host gets a new request, and a host whose
    ``Retry-After`` is longer than what is left of the round gets none
    either: the request that asked is not retried (its entry's retry time
    is the Retry-After), the host's others are answered with
    `LeftForNextRound`, unsent, and wait for a later round;
  - **error budget**: after ``host_error_budget`` transient failures in a row
    from one host, its remaining requests of the round are not sent: each
    fails at once with the host's last status, or with `HostBudgetSpent`
    naming the host, reported as the last error's kind (``scraper.errors``)
    but never with another request's message;
  - a name the address guard refused (``scraper.addresses``) is a permanent
    answer: counted once (``politeness/address_refused``), never retried,
    no pause.

A host is the downloader's slot key: the URL's host name, so two sites on
one IP address are two hosts, as two ports of one host are one.  All of it
holds for one crawl round, in memory.
"""

# Longer than ~300 lines on purpose: the two downloader middlewares share the
# per-host ledger and the Retry-After and backoff rules; apart they would
# need a module for the state they both write.

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from time import monotonic
from typing import Any, Self
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import DownloadTimeoutError, ResponseDataLossError
from scrapy.http import Response
from scrapy.utils.misc import load_object
from scrapy.utils.response import response_status_message
from twisted.internet.error import TCPTimedOutError
from twisted.internet.error import TimeoutError as ConnectTimeout
from twisted.python.failure import Failure

from config.schema import Crawl
from scraper.addresses import refusal_for
from scraper.errors import HostBudgetSpent, LeftForNextRound
from scraper.round_budget import RoundBudget

logger = logging.getLogger(__name__)

#: Request meta key marking a request failed at once by a spent error budget.
REPLAYED = "presscut_budget_spent"
#: Request meta key: the Retry-After (seconds) of an answer not retried
#: because the wait runs past the round's end.
RETRY_AFTER = "presscut_retry_after"

#: Failures a host is paused and counted for but never retried within the
#: round: a timeout has cost a whole ``download_timeout`` already, and a
#: body cut short (a never-ending or broken stream) would be cut again.
NOT_RETRIED_IN_ROUND = (
    DownloadTimeoutError,
    ResponseDataLossError,
    ConnectTimeout,
    TCPTimedOutError,
)


def retry_after_seconds(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait: its delay-seconds, or
    the time until its HTTP date (0 for a date past); ``None`` when absent
    or unreadable."""
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass
class HostState:
    """A host's transient failures in a row, its last one, and whether its
    error budget is spent."""

    failures: int = 0
    last: Response | BaseException | None = None
    spent: bool = False


class HostLedger:
    """Per-host failure bookkeeping for one round.

    `failed` returns how long the host should now rest: ``retry_after``
    (from the server) when given, else ``backoff * 2 ** (failures - 1)``,
    either way at most ``ceiling`` seconds.  `succeeded` ends a run of
    failures.  Once ``budget`` failures come in a row the host is spent for
    the rest of the round.
    """

    def __init__(self, backoff: float, ceiling: float, budget: int) -> None:
        self.backoff, self.ceiling, self.budget = backoff, ceiling, budget
        self.hosts: dict[str, HostState] = {}

    def failed(
        self, host: str, failure: Response | BaseException, retry_after: float | None = None
    ) -> float:
        state = self.hosts.setdefault(host, HostState())
        state.failures += 1
        state.last = failure
        state.spent = state.spent or state.failures >= self.budget
        wait = retry_after if retry_after is not None else self.backoff * 2 ** (state.failures - 1)
        return min(wait, self.ceiling)

    def succeeded(self, host: str) -> None:
        state = self.hosts.get(host)
        if state is not None and not state.spent:
            state.failures = 0

    def spent(self, host: str) -> HostState | None:
        """The host's state when its budget is spent, else ``None``."""
        state = self.hosts.get(host)
        return state if state is not None and state.spent else None


def crawl_settings(crawler: Any) -> Crawl:
    """The ``[crawl]`` settings the round runs with (defaults for a bare
    ``scrapy crawl``)."""
    config = crawler.settings.get("PRESSCUT_CONFIG")
    return config.settings.crawl if config is not None else Crawl.model_validate({})


class SourceRobots:
    """Skip robots.txt for the requests of a source with ``ignore_robots``."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self._warned: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        source = request.meta.get("source")
        if source is None or not getattr(source, "ignore_robots", False):
            return
        request.meta["dont_obey_robotstxt"] = True
        self.crawler.stats.inc_value("politeness/robots_ignored")
        if source.id not in self._warned:
            self._warned.add(source.id)
            logger.warning(
                "robots.txt IGNORED for source %s (ignore_robots = true in its config)",
                source.id,
                extra={"source": source.id, "url": request.url},
            )


class PolitenessMiddleware:
    """Crawl-delay, Retry-After, backoff and the per-host error budget (see
    the module docstring)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        settings = crawler.settings
        crawl = crawl_settings(crawler)
        self.retry_enabled = settings.getbool("RETRY_ENABLED")
        self.retry_codes = {int(code) for code in settings.getlist("RETRY_HTTP_CODES")}
        self.retry_exceptions = tuple(
            load_object(e) if isinstance(e, str) else e
            for e in settings.getlist("RETRY_EXCEPTIONS")
        )
        self.crawl_delay_max = crawl.crawl_delay_max
        self.ledger = HostLedger(
            crawl.retry_backoff, crawl.retry_after_max, crawl.host_error_budget
        )
        #: Crawl-delay in force per host, in seconds.
        self.floors: dict[str, float] = {}
        self.round = RoundBudget(crawl.round_budget)
        self._timer: Any = None
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> Self:
        return cls(crawler)

    @property
    def _downloader(self) -> Any:
        return self.crawler.engine.downloader

    def _host(self, request: Request) -> str:
        return str(self._downloader.get_slot_key(request))

    # -- round budget ------------------------------------------------------------

    def spider_opened(self, spider: Any) -> None:
        # Rounds only: checking or discovering a source is no round.
        if getattr(spider, "name", None) != "round":
            return
        from twisted.internet import reactor

        self.round.start()
        self._timer = reactor.callLater(self.round.budget, self._round_spent)

    def spider_closed(self, spider: Any) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        for host, what in self.round.report().items():
            self.crawler.stats.set_value(f"politeness/round_stopped/{host}", what)

    def _round_spent(self) -> None:
        """The round's time is up: what waits in any host's slot is left
        for a later round, unsent; later requests are held back by
        `process_request`."""
        self.round.spend()
        self.crawler.stats.set_value("politeness/round_budget_spent", True)
        logger.warning(
            "round budget of %gs spent: requests not sent yet are left for the next round",
            self.round.budget,
        )
        for host in list(self._downloader.slots):
            self._leave(host)

    def _hold(self, request: Request, host: str) -> LeftForNextRound | None:
        held = self.round.hold(host)
        if held is not None:
            self.crawler.stats.inc_value("politeness/left_for_next_round")
        return held

    def _leave(self, host: str) -> None:
        """Answer the requests waiting in ``host``'s slot with
        `LeftForNextRound`, unsent."""
        slot = self._downloader.slots.get(host)
        while slot is not None and slot.queue:
            request, waiting = slot.queue.popleft()
            held = self._hold(request, host)
            assert held is not None, "a host is left only once it is stopped"
            waiting.errback(Failure(held))

    # -- Crawl-delay -------------------------------------------------------------

    def robots_parsed(self, robotparser: Any, request: Request) -> None:
        agent = self.crawler.settings.get("ROBOTSTXT_USER_AGENT") or request.headers.get(
            b"User-Agent", self.crawler.settings.get("USER_AGENT")
        )
        asked = robotparser.crawl_delay(agent)
        if not asked or asked <= 0:
            return
        host = self._host(request)
        delay = min(float(asked), self.crawl_delay_max)
        if delay < asked:
            logger.warning(
                "Crawl-delay %gs cut to crawl_delay_max %gs",
                asked,
                delay,
                extra={"url": request.url},
            )
        self.floors[host] = delay
        self.crawler.stats.set_value(f"politeness/crawl_delay/{host}", delay)
        downloader = self._downloader
        # New slots for the host (Scrapy drops idle ones) start at the floor...
        slot_settings = downloader.per_slot_settings.setdefault(host, {})
        slot_settings["delay"] = max(delay, float(slot_settings.get("delay", 0.0)))
        slot_settings["jitter"] = 0.0
        # ...and so does the live one.
        slot = downloader.slots.get(host)
        if slot is not None:
            slot.delay, slot.jitter = max(slot.delay, delay), 0.0

    # -- requests ----------------------------------------------------------------

    def process_request(self, request: Request) -> Response | None:
        host = self._host(request)
        if host in self.floors:
            # AutoThrottle would otherwise lower the delay below the floor.
            request.meta["autothrottle_dont_adjust_delay"] = True
        held = self._hold(request, host)
        if held is not None:
            raise held
        state = self.ledger.spent(host)
        if state is None or request.meta.get("dont_retry"):
            return None
        replay = self._replay(request, state)
        if isinstance(replay, Response):
            return replay
        raise replay

    def _replay(self, request: Request, state: HostState) -> Response | BaseException:
        """The host's last failure, as the answer to ``request``."""
        self.crawler.stats.inc_value("politeness/budget_spent_requests")
        request.meta[REPLAYED] = True
        if isinstance(state.last, Response):
            return state.last.replace(url=request.url, request=request, flags=["budget-spent"])
        assert state.last is not None
        return HostBudgetSpent(self._host(request), self.ledger.budget, state.last)

    def _drain(self, host: str) -> None:
        """Once the host's budget is spent, answer the requests already
        waiting in its download slot with its last failure, unsent.  (A
        request the downloader sent before a connection failure was known
        is on its way already.)"""
        state = self.ledger.spent(host)
        slot = self._downloader.slots.get(host)
        if state is None or slot is None:
            return
        while slot.queue:
            request, waiting = slot.queue.popleft()
            replay = self._replay(request, state)
            if isinstance(replay, Response):
                waiting.callback(replay)
            else:
                waiting.errback(Failure(replay))

    def response_downloaded(self, response: Response, request: Request, spider: Any) -> None:
        # Runs before the downloader sends the host's next queued request,
        # so a pause here holds back everything queued for the host.
        host = self._host(request)
        if response.status not in self.retry_codes or not self._retryable(request):
            self.ledger.succeeded(host)
            return
        retry_after = None
        if response.status in (429, 503):
            retry_after = retry_after_seconds(response.headers.get(b"Retry-After"))
            if retry_after is not None:
                self.crawler.stats.inc_value("politeness/retry_after")
        wait = self.ledger.failed(host, response, retry_after)
        if retry_after is not None and wait > self.round.remaining():
            # Not waited out: this answer stands (its entry is retried after
            # the Retry-After), and the host's other requests wait for a
            # later round.
            request.meta[RETRY_AFTER] = retry_after
            self.round.close(
                host, f"Retry-After {retry_after:g}s runs past the round", retry_after
            )
            self.crawler.stats.inc_value("politeness/retry_after_past_round")
            self._leave(host)
            return
        self._pause(request, wait)
        self._drain(host)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get(REPLAYED) or response.status not in self.retry_codes:
            return response
        if request.meta.get(RETRY_AFTER) is not None:
            return response
        if not self._retryable(request) or self._give_up(request):
            return response
        reason = response_status_message(response.status)
        return self._retry(request, reason) or response

    def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if request.meta.get(REPLAYED) or isinstance(exception, LeftForNextRound):
            return None
        if refusal_for(urlsplit(request.url).hostname or ""):
            # The guard refused what the name resolves to: asking again
            # gets the same answer, so no retry, no pause, no budget spent.
            # Counted before the retry check: the failure it surfaces as
            # (DNS) is not a retried exception at all.
            self.crawler.stats.inc_value("politeness/address_refused")
            return None
        if not isinstance(exception, self.retry_exceptions) or not self._retryable(request):
            return None
        host = self._host(request)
        self._pause(request, self.ledger.failed(host, exception))
        self._drain(host)
        if self._give_up(request):
            return None
        if isinstance(exception, NOT_RETRIED_IN_ROUND):
            self.crawler.stats.inc_value("politeness/not_retried_in_round")
            return None
        return self._retry(request, exception)

    def _retryable(self, request: Request) -> bool:
        return self.retry_enabled and not request.meta.get("dont_retry", False)

    def _give_up(self, request: Request) -> bool:
        host = self._host(request)
        if self.ledger.spent(host) is None:
            return False
        if self.crawler.stats.get_value(f"politeness/host_given_up/{host}") is None:
            logger.warning(
                "host %s failed %d times in a row: its other requests this round are not sent",
                host,
                self.ledger.budget,
                extra={"url": request.url},
            )
        self.crawler.stats.set_value(f"politeness/host_given_up/{host}", True)
        return True

    def _retry(self, request: Request, reason: str | Exception) -> Request | None:
        return get_retry_request(request, spider=self.crawler.spider, reason=reason)

    def _pause(self, request: Request, seconds: float) -> None:
        """Hold back the host's next request for ``seconds`` (plus its delay)."""
        if seconds <= 0:
            return
        self.crawler.stats.inc_value("politeness/pauses")
        self.crawler.stats.max_value("politeness/longest_pause", seconds)
        slot = self._downloader.slots.get(self._host(request))
        if slot is None:
            return
        # The downloader sends a slot's next request once ``delay`` has passed
        # since ``lastseen``; moving ``lastseen`` ahead pauses the slot.
        slot.lastseen = max(slot.lastseen, monotonic() + seconds)
        slot.delay = max(slot.delay, 0.001)  # a zero delay skips that check
