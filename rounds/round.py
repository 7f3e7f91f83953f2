"""One crawl round: the round spider over due (or named) sources, in-process.

`run_round` opens ONE `storage.Store` for the round (or uses the caller's),
migrates it once, records the round as a crawl run, runs the crawl to the
end (blocking; Twisted's reactor cannot be restarted, so a process runs one
round, and long-lived callers such as the scheduler start a process per
round, see `rounds.process`) and returns a `RoundResult`.

The spider and every pipeline stage share the round's
`scraper.context.RoundContext` (configuration, store, per-source states,
windows), handed to the spider as a spider argument.

With ``[cluster] redis_url`` set the round is a cluster's: this process is
its coordinator, and ``presscut worker`` processes do the crawling
(`rounds.cluster`); the result is reported the same way.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from scrapy.crawler import CrawlerProcess
from sqlalchemy.exc import SQLAlchemyError

from config import Config
from rounds.report import RoundResult
from scraper.context import RoundContext
from scraper.crawl_log import quiet_crawl_logging
from scraper.settings import scrapy_settings
from scraper.spiders.round import RoundSpider
from storage import Store, open_store


def _json_safe(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in stats.items()}


def run_round(
    config: Config,
    *,
    source_ids: list[str] | None = None,
    force: bool = False,
    log_level: str = "WARNING",
    extensions: dict[str, int] | None = None,
    store: Store | None = None,
) -> RoundResult:
    """Crawl due sources (all named ones, or every source with ``force``).

    ``store``, when given, is the caller's (already migrated: it is not
    migrated again, and is left open); otherwise the round opens, migrates
    and closes its own."""
    own = store is None
    if store is None:
        store = open_store(config.settings.database.url)
    try:
        if own:
            store.upgrade()
        return _crawl(config, store, source_ids, force, log_level, extensions)
    finally:
        if own:
            store.close()


def _crawl(
    config: Config,
    store: Store,
    source_ids: list[str] | None,
    force: bool,
    log_level: str,
    extensions: dict[str, int] | None,
) -> RoundResult:
    run_id = store.start_run()
    settings = scrapy_settings(config, log_level=log_level)
    if extensions:
        settings.set("EXTENSIONS", extensions, priority="cmdline")
    settings.set("LOG_INSTALL_ROOT_HANDLER", log_level != "NONE", priority="cmdline")
    coordinator = None
    if config.settings.cluster.redis_url:
        from rounds.cluster import Coordinator
        from scraper.schedulers import cluster_settings

        settings.update(cluster_settings(config, coordinator=True), priority="cmdline")
        coordinator = Coordinator(config)
        coordinator.prepare()
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(RoundSpider)
    quiet_crawl_logging(crawler)
    context = RoundContext.open(config, store)
    status = "failed"
    try:
        process.crawl(crawler, context=context, source_ids=source_ids or None, force=force)
        process.start()
        if coordinator is not None and "database" not in context.errors:
            coordinator.run_out(context)
        reason = crawler.stats.get_value("finish_reason", "finished")
        status = "finished" if reason == "finished" else "interrupted"
        if "redis" in context.errors:
            status = "failed"
        elif coordinator is not None and coordinator.interrupted:
            status = "interrupted"
        if crawler.stats.get_value("store/failed_batches"):
            status = "failed"
        if "database" in context.errors:
            status = "failed"
    finally:
        summary = {k: dict(Counter(v)) for k, v in context.summary.items()}
        errors = dict(context.errors)
        stats = _json_safe(crawler.stats.get_stats() if crawler.stats else {})
        try:
            store.finish_run(run_id, status, stats, summary)
        except SQLAlchemyError as exc:
            # The database is gone or locked: the round's outcome cannot be
            # recorded, but the caller still learns what happened.
            status = "failed"
            errors["database"] = f"could not record the run: {exc.__class__.__name__}: {exc}"
    return RoundResult(
        run_id=run_id,
        status=status,
        summary=summary,
        errors=errors,
        stopped=RoundResult.stopped_hosts(stats),
        stats=stats,
    )
