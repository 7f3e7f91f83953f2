"""One crawl round: the crawl spider over due (or named) sources, in-process.

`run_round` maps presscut's settings onto Scrapy's, runs the crawl to the
end (blocking; Twisted's reactor cannot be restarted, so a process runs one
round, and long-lived callers such as the scheduler start a process per
round), records it as a crawl run, and returns a `RoundReport`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings
from sqlalchemy.exc import SQLAlchemyError

from config import Config
from scraper.crawl_log import quiet_crawl_logging
from scraper.spiders.feed import FeedSpider
from storage import open_store

#: Outcomes counted per source in a round's summary.
OUTCOMES = ("new", "duplicate", "off_topic", "invalid", "out_of_window", "failed")


@dataclass
class RoundReport:
    """What a round did: ``summary[source_id][outcome]`` counts (see
    `OUTCOMES`), the first error per failed source, and Scrapy's stats."""

    run_id: int
    status: str
    summary: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def new(self) -> int:
        return sum(counts.get("new", 0) for counts in self.summary.values())


def scrapy_settings(config: Config, *, log_level: str = "WARNING") -> dict[str, Any]:
    """Scrapy settings for a round: the project's settings module overlaid
    with the values from presscut's configuration."""
    crawl = config.settings.crawl
    settings = get_project_settings()
    settings.setmodule("scraper.settings", priority="project")
    settings.update(
        {
            "PRESSCUT_CONFIG": config,
            "USER_AGENT": crawl.user_agent,
            "CONCURRENT_REQUESTS": crawl.concurrent_requests,
            "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_requests_per_host,
            "DOWNLOAD_DELAY": crawl.download_delay,
            "AUTOTHROTTLE_START_DELAY": max(crawl.download_delay, 0.01),
            "DOWNLOAD_TIMEOUT": crawl.download_timeout,
            "DOWNLOAD_MAXSIZE": crawl.max_response_bytes,
            "DOWNLOAD_WARNSIZE": crawl.max_response_bytes // 2,
            "ROBOTSTXT_OBEY": crawl.obey_robots_txt,
            "RETRY_TIMES": crawl.retry_times,
            "LOG_LEVEL": log_level,
        },
        priority="cmdline",
    )
    return settings


def _json_safe(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in stats.items()}


def run_round(
    config: Config,
    *,
    source_ids: list[str] | None = None,
    force: bool = False,
    log_level: str = "WARNING",
    extensions: dict[str, int] | None = None,
) -> RoundReport:
    """Crawl due sources (all named ones, or every source with ``force``)."""
    store = open_store(config.settings.database.url)
    try:
        store.upgrade()
        run_id = store.start_run()
    finally:
        store.close()
    settings = scrapy_settings(config, log_level=log_level)
    if extensions:
        settings.set("EXTENSIONS", extensions, priority="cmdline")
    settings.set("LOG_INSTALL_ROOT_HANDLER", log_level != "NONE", priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(FeedSpider)
    quiet_crawl_logging(crawler)
    status = "failed"
    try:
        process.crawl(crawler, source_ids=source_ids or None, force=force)
        process.start()
        reason = crawler.stats.get_value("finish_reason", "finished")
        status = "finished" if reason == "finished" else "interrupted"
        if crawler.stats.get_value("store/failed_batches"):
            status = "failed"
        if "database" in (getattr(crawler.spider, "errors", None) or {}):
            status = "failed"
    finally:
        spider = crawler.spider
        summary = {k: dict(Counter(v)) for k, v in (getattr(spider, "summary", {}) or {}).items()}
        errors = dict(getattr(spider, "errors", {}) or {})
        stats = _json_safe(crawler.stats.get_stats() if crawler.stats else {})
        store = open_store(config.settings.database.url)
        try:
            store.finish_run(run_id, status, stats, summary)
        except SQLAlchemyError as exc:
            # The database is gone or locked: the round's outcome cannot be
            # recorded, but the caller still learns what happened.
            status = "failed"
            errors["database"] = f"could not record the run: {exc.__class__.__name__}: {exc}"
        finally:
            store.close()
    return RoundReport(run_id=run_id, status=status, summary=summary, errors=errors, stats=stats)
