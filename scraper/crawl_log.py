"""A crawl's log, fit for an operator: routine failures in one line, every
warning naming its source.

* A refused connection, a failed DNS lookup or a timeout is an answer about
  a source, not a fault of presscut: its record loses the traceback Scrapy
  attaches.  Scrapy's own robots.txt error for such a failure is dropped
  altogether, since the source's request fails next and is reported once,
  with its source, by the spider and in the round's summary.
* On Scrapy's text handler (``presscut crawl``, ``sources check``), a record
  carrying ``extra={"source": ...}`` starts with ``source <id>:``; the
  structured handlers of ``presscut run`` print that key themselves.

`quiet_crawl_logging` installs both for a crawler; calling it again
changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import exceptions as scrapy_errors
from scrapy import signals
from twisted.internet import error as net

#: Failures that say the source is unreachable right now.
ROUTINE = (
    scrapy_errors.DownloadConnectionRefusedError,
    scrapy_errors.CannotResolveHostError,
    scrapy_errors.DownloadTimeoutError,
    net.ConnectError,
    net.DNSLookupError,
    net.TimeoutError,
)

#: Loggers whose records about routine failures carry tracebacks.
_SCRAPY_LOGGERS = (
    "scrapy.downloadermiddlewares.robotstxt",
    "scrapy.downloadermiddlewares.retry",
    "scrapy.core.scraper",
    "scrapy.core.engine",
)


def is_routine(error: BaseException | None) -> bool:
    """Whether ``error`` (or an exception it was raised from) is routine."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, ROUTINE):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


class RoutineFailures(logging.Filter):
    """Strips the traceback of a routine failure (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and is_routine(record.exc_info[1]):
            if record.name == "scrapy.downloadermiddlewares.robotstxt":
                return False
            record.exc_info = None
            record.exc_text = None
        return True


class NamedSource(logging.Filter):
    """Prefixes ``source <id>:`` to a text record that names a source."""

    def filter(self, record: logging.LogRecord) -> bool:
        source = getattr(record, "source", None)
        if source and not getattr(record, "_source_named", False):
            record.msg = f"source {source}: {record.msg}"
            record._source_named = True
        return True


def quiet_crawl_logging(crawler: Any) -> None:
    """Install `RoutineFailures` on Scrapy's loggers now, and `NamedSource`
    on Scrapy's text handler when ``crawler``'s engine starts (Scrapy
    replaces that handler as the crawl begins)."""
    for name in _SCRAPY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RoutineFailures) for f in logger.filters):
            logger.addFilter(RoutineFailures())
    crawler.signals.connect(_name_sources, signal=signals.engine_started)


def _name_sources() -> None:
    from scrapy.utils.log import get_scrapy_root_handler

    handler = get_scrapy_root_handler()
    # A null handler (``presscut run``, whose own handler prints the source
    # as a key) must not rewrite the records the other handlers see.
    if handler is None or isinstance(handler, logging.NullHandler):
        return
    if not any(isinstance(f, NamedSource) for f in handler.filters):
        handler.addFilter(NamedSource())
