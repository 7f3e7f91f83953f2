"""The error vocabulary: why a fetch or a parse failed, as a short code.

Codes are recorded on the source (``last_error_kind``) and in crawl
summaries.  The set is closed; what each means for a curator is listed in
``docs/errors.md``.

========================  ==================================================
``timeout``               the server did not answer in time
``dns``                   the host name does not resolve
``connection``            refused, reset or dropped connection
``tls``                   TLS handshake or certificate failure
``http_4xx``              the server answered 4xx (gone, forbidden, ...)
``http_5xx``              the server answered 5xx after retries
``too_large``             the response exceeded the size cap
``parse_error``           the feed or page could not be read at all
``blocked_page``          a challenge, wall or "access denied" page
``robots``                robots.txt forbids the URL
``invalid_url``           not an absolute http(s) URL
``other``                 anything not classified above (a bug to report)
========================  ==================================================
"""

from __future__ import annotations

from typing import Any

ERROR_KINDS = (
    "timeout",
    "dns",
    "connection",
    "tls",
    "http_4xx",
    "http_5xx",
    "too_large",
    "parse_error",
    "blocked_page",
    "robots",
    "invalid_url",
    "other",
)

# Hard errors back a source off faster than transient ones.
HARD_ERRORS = frozenset({"dns", "tls", "http_4xx", "parse_error", "invalid_url", "robots"})


def classify_failure(failure: Any) -> tuple[str, str]:
    """Map a Twisted ``Failure`` from a Scrapy errback to ``(kind, message)``."""
    from scrapy.exceptions import IgnoreRequest
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.internet import error as net
    from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        return ("http_5xx" if status >= 500 else "http_4xx"), f"HTTP {status}"
    if isinstance(exc, net.DNSLookupError):
        return "dns", f"DNS lookup failed: {exc}"
    if isinstance(exc, net.TimeoutError | net.TCPTimedOutError):
        return "timeout", f"timed out: {exc}"
    if isinstance(exc, net.ConnectionRefusedError | net.ConnectionLost | net.ConnectionDone):
        return "connection", f"connection failed: {exc.__class__.__name__}"
    if isinstance(exc, ResponseNeverReceived | ResponseFailed):
        reasons = getattr(exc, "reasons", [])
        text = "; ".join(str(r.value) for r in reasons) or str(exc)
        if "SSL" in text or "certificate" in text.lower():
            return "tls", f"TLS failure: {text}"
        if "maxsize" in text.lower() or "Cancelling" in text:
            return "too_large", text
        return "connection", f"connection failed: {text}"
    if isinstance(exc, IgnoreRequest):
        message = str(exc) or exc.__class__.__name__
        if "robots" in message.lower() or (
            exc.__class__.__name__ == "IgnoreRequest" and "Forbidden by robots.txt" in message
        ):
            return "robots", message
        if "maxsize" in message.lower() or "size" in message.lower():
            return "too_large", message
        return "other", message
    name = exc.__class__.__name__
    if "SSL" in name or "TLS" in name or "Certificate" in name:
        return "tls", f"TLS failure: {exc}"
    if "Cancelled" in name:
        return "too_large", f"download cancelled: {exc}"
    return "other", f"{name}: {exc}"


def transient(kind: str) -> bool:
    """Whether an error of ``kind`` is expected to clear up by itself."""
    return kind not in HARD_ERRORS
