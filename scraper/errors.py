"""The error vocabulary: why a fetch or a parse failed, as a short code.

Codes are recorded on the source (``last_error_kind``), in the seen-entry
log and in crawl summaries, always as ``"<code>: <message>"`` where a
message travels with them.  The set is closed; what each means for a
curator is listed in ``docs/errors.md``.

========================  ==================================================
``timeout``               the server did not answer in time
``dns``                   the host name does not resolve
``address_refused``       the host is (or resolves to) a loopback, private,
                          link-local or reserved address settings forbid
``connection``            refused, reset or dropped connection; a body cut
                          short or malformed on the wire
``tls``                   TLS handshake or certificate failure
``http_4xx``              the server answered 4xx (gone, forbidden, ...)
``http_5xx``              the server answered 5xx after retries
``redirect``              a redirect loop, too many redirects, or a redirect
                          to a URL that is not http(s)
``too_large``             the response exceeded the size cap
``decompression_limit``   the body, decompressed, exceeded the size cap
``parse_error``           the feed or page could not be read at all
``blocked_page``          a challenge, wall or "access denied" page
``robots``                robots.txt forbids the URL
``robots_unavailable``    the host's robots.txt answered 5xx or not at all:
                          nothing is fetched from it until the next round
``invalid_url``           not an absolute http(s) URL
``other``                 anything not classified above (a bug to report)
========================  ==================================================

`classify_failure` maps what a Scrapy errback receives to a code and a
message naming the cause.  It knows the exceptions of Scrapy >= 2.14's
download handlers and the Twisted ones they wrap.

The crawl core's own exceptions, all declared here::

    Exception
    +-- RuntimeError
    |   +-- MissingContext        a round spider or stage built without a
    |                             RoundContext (a bare ``scrapy crawl``)
    +-- HostBudgetSpent           a request not sent: its host's error budget
    |                             is spent this round (the message names the host)
    +-- LeftForNextRound          a request not sent: the round's time is spent
    |                             (``crawl.round_budget``) or its host asked for a
    |                             wait past the round's end; no error, its entry
    |                             is pending for a later round
    +-- ValueError
    |   +-- ExtractionError       page bytes that are no HTML document
    +-- scrapy.exceptions.IgnoreRequest
    |   +-- AddressRefused        a host that is (or resolves to) an address
    |   |                         the settings forbid -> ``address_refused``
    |   +-- RobotsUnavailable     a request not sent: its host's robots.txt
    |                             could not be had this round
    |                             -> ``robots_unavailable``
    +-- scrapy.exceptions.DropItem
        +-- Drop                  a stage's verdict on an article, with its
        |                         outcome (`scraper.items.OUTCOMES`), final
        +-- Deferred              no verdict now (the database is gone): no
                                  outcome, the article is fetched again

Elsewhere, each in the one module that raises it: `config.ConfigError`
(a configuration file or variable breaks a rule), `storage.DatabaseUnavailable`
(SQLAlchemy's ``OperationalError``: retry later), `storage.ReviewError` and
`storage.AlreadyPublished` (a curator's request refused),
`digest.PublishError` and `digest.wordpress.WordPressError` (publishing).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import DropItem, IgnoreRequest

from scraper.items import OUTCOMES

ERROR_KINDS = (
    "timeout",
    "dns",
    "address_refused",
    "connection",
    "tls",
    "http_4xx",
    "http_5xx",
    "redirect",
    "too_large",
    "decompression_limit",
    "parse_error",
    "blocked_page",
    "robots",
    "robots_unavailable",
    "invalid_url",
    "database",
    "other",
)

# Hard errors back a source off faster than transient ones.
HARD_ERRORS = frozenset(
    {
        "dns",
        "address_refused",
        "tls",
        "http_4xx",
        "redirect",
        "decompression_limit",
        "parse_error",
        "blocked_page",
        "invalid_url",
        "robots",
    }
)


class MissingContext(RuntimeError):
    """A round's spider or stage built without its `RoundContext`: rounds are
    run by ``presscut crawl`` / ``presscut run``, never by a bare ``scrapy
    crawl``."""


class ExtractionError(ValueError):
    """The page is not an HTML document: empty, too large, binary or
    unparseable.  The message says which."""


class AddressRefused(IgnoreRequest):
    """A request refused because of the address its host is or resolves to."""


class RobotsUnavailable(IgnoreRequest):
    """A request not sent because its host's robots.txt answered 5xx or not
    at all this round (RFC 9309: "try later"); the message says which host
    and why (`scraper.robots`)."""


class HostBudgetSpent(Exception):
    """A request not sent because its host's error budget is spent this
    round.  The message names the host; ``last`` is the host's last failure
    (another request's, so its message is not this request's)."""

    def __init__(self, host: str, budget: int, last: BaseException) -> None:
        self.host, self.last = host, last
        super().__init__(
            f"not sent: host {host} failed {budget} time(s) in a row this round "
            "(its error budget is spent)"
        )


class LeftForNextRound(Exception):
    """A request not sent this round, through no fault of its own: the
    round's time (``crawl.round_budget``) is spent, or its host asked for a
    wait (``Retry-After``) past the round's end.  ``retry_in`` is how many
    seconds from now the host wants to be left alone (0: any later round).
    Not an error: its entry is recorded ``pending`` for a later round."""

    def __init__(self, host: str, why: str, retry_in: float = 0.0) -> None:
        self.host, self.why, self.retry_in = host, why, retry_in
        super().__init__(f"left for a later round: host {host}: {why}")


class Drop(DropItem):
    """An expected drop, logged at INFO, with the outcome to record (one of
    `scraper.items.OUTCOMES`)."""

    def __init__(self, message: str, outcome: str) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown entry outcome {outcome!r}: not one of {OUTCOMES}")
        super().__init__(message, log_level="INFO")
        self.outcome = outcome


class Deferred(DropItem):
    """Not a verdict on the article: it could not be judged now (the
    database is unavailable).  Nothing is recorded for its entry, and its
    source keeps its feed validators, so the next round fetches it again."""

    def __init__(self, message: str) -> None:
        super().__init__(message, log_level="DEBUG")


def classify_failure(failure: Any) -> tuple[str, str]:
    """Map a Twisted ``Failure`` from a Scrapy errback to ``(kind, message)``."""
    return classify_exception(failure.value, getattr(failure, "request", None))


def classify_exception(exc: BaseException, request: Any = None) -> tuple[str, str]:
    """``(kind, message)`` of ``exc``, raised for ``request`` (a Scrapy
    request, or ``None``)."""
    from scrapy import exceptions as scrapy_errors
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.internet import defer
    from twisted.internet import error as net
    from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

    from scraper.addresses import refusal_for

    if isinstance(exc, HostBudgetSpent):
        # The kind of the host's last failure, with a message of its own:
        # the last failure's message is another request's.
        return classify_exception(exc.last, request)[0], str(exc)
    if isinstance(exc, HttpError):
        return _http_status(exc.response)
    if isinstance(exc, LeftForNextRound):
        # Read by the errbacks before any classifying; a time limit, if
        # anything reaches here.
        return "timeout", str(exc)
    if isinstance(exc, AddressRefused):
        return "address_refused", str(exc)
    if isinstance(exc, RobotsUnavailable):
        return "robots_unavailable", str(exc)
    if isinstance(exc, scrapy_errors.CannotResolveHostError | net.DNSLookupError):
        refused = refusal_for(_host(request))
        if refused:
            return "address_refused", refused
        return "dns", f"DNS lookup failed: {exc}"
    if isinstance(exc, scrapy_errors.DownloadTimeoutError | net.TimeoutError):
        return "timeout", f"timed out: {exc}"
    if isinstance(exc, scrapy_errors.DownloadCancelledError | defer.CancelledError):
        # Scrapy's handler cancels a download at the size cap, announced
        # (Content-Length) or reached while reading.
        return "too_large", _cap_message(exc)
    if isinstance(exc, scrapy_errors.DownloadConnectionRefusedError | net.ConnectionRefusedError):
        return "connection", "connection refused"
    if isinstance(exc, scrapy_errors.UnsupportedURLSchemeError):
        return "invalid_url", f"not an http(s) URL: {exc}"
    if isinstance(exc, scrapy_errors.ResponseDataLossError):
        return "connection", _data_loss(exc.__cause__)
    if isinstance(exc, net.ConnectionLost | net.ConnectionDone | net.ConnectError):
        return "connection", f"connection failed: {exc.__class__.__name__}"
    if isinstance(exc, scrapy_errors.DownloadFailedError | ResponseNeverReceived | ResponseFailed):
        cause = exc.__cause__ if exc.__cause__ is not None else exc
        text = _reasons(cause) or str(exc)
        if "SSL" in text or "certificate" in text.lower():
            return "tls", f"TLS failure: {text}"
        return "connection", f"connection failed: {text}"
    if isinstance(exc, scrapy_errors.IgnoreRequest):
        return _ignored(exc)
    name = exc.__class__.__name__
    if "SSL" in name or "TLS" in name or "Certificate" in name:
        return "tls", f"TLS failure: {exc}"
    return "other", f"{name}: {exc}"


def transient(kind: str) -> bool:
    """Whether an error of ``kind`` is expected to clear up by itself."""
    return kind not in HARD_ERRORS


def _http_status(response: Any) -> tuple[str, str]:
    status = response.status
    message = f"HTTP {status}"
    if 300 <= status < 400:
        # Scrapy follows redirects to http(s) only; any other 3xx that
        # reaches an errback points somewhere presscut never goes.
        location = response.headers.get("Location", b"").decode("latin-1")
        target = location[:200] or "no Location header"
        return "redirect", f"{message}: redirect to a URL that is not http(s): {target}"
    retry_after = response.headers.get("Retry-After")
    if retry_after:
        message += f" (Retry-After: {retry_after.decode('latin-1')[:40]})"
    return ("http_5xx" if status >= 500 else "http_4xx"), message


def _ignored(exc: Exception) -> tuple[str, str]:
    message = str(exc) or exc.__class__.__name__
    lower = message.lower()
    if "robots.txt" in lower:
        return "robots", message
    if "during decompression" in lower:
        return "decompression_limit", message
    if "redirection" in lower or "redirect" in lower:
        return "redirect", f"too many redirects or a redirect loop: {message}"
    if "maxsize" in lower or "max size" in lower:
        return "too_large", message
    return "other", message


def _cap_message(exc: Exception) -> str:
    detail = str(exc).strip()
    return detail or "response body exceeded the size cap (crawl.max_response_bytes)"


def _data_loss(cause: Any) -> str:
    text = _reasons(cause)
    if "Chunk" in text or "chunk" in text:
        return f"malformed chunked encoding: {text}"
    if "non-clean" in text or "ConnectionLost" in text or "reset" in text.lower():
        return "connection reset before the whole body arrived"
    return "body cut short: the connection closed before Content-Length bytes arrived"


def _reasons(exc: Any) -> str:
    reasons = getattr(exc, "reasons", None) or []
    parts = []
    for reason in reasons:
        value = getattr(reason, "value", reason)
        if value.__class__.__name__ == "_DataLoss" and not str(value):
            continue
        parts.append(f"{value.__class__.__name__}: {value}".rstrip(": "))
    return "; ".join(parts)


def _host(request: Any) -> str:
    url = getattr(request, "url", "") or ""
    return (urlsplit(url).hostname or "") if url else ""
