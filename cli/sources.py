"""``presscut sources list|check``: what is configured and how it fares."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.database import open_command_store
from cli.options import ConfigDir, console, load
from cli.terminal import Column, print_table


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") else ""


def sources_list(config_dir: ConfigDir = None) -> None:
    """Configured sources with their fetch state."""
    config = load(config_dir)
    with open_command_store(config, create=False) as store:
        state = {row.id: row for row in store.list_sources()}
    columns = [Column("id", key=True)] + [
        Column(name) for name in ("outlet", "kind", "topics", "last success", "next due")
    ]
    columns.append(Column("last error"))
    rows = []
    for source in config.sources:
        row = state.get(source.id)
        error = f"{row.last_error_kind}: {row.last_error}" if row and row.last_error_kind else ""
        rows.append(
            (
                source.id if source.enabled else f"{source.id} (disabled)",
                source.outlet,
                source.kind,
                ", ".join(source.topics),
                _when(row.last_success_at) if row else "",
                _when(row.next_due_at) if row else "due",
                error,
            )
        )
    print_table(console, f"sources ({config.sources_path})", columns, rows)


def sources_check(
    source: Annotated[list[str] | None, typer.Option("--source", "-s")] = None,
    config_dir: ConfigDir = None,
) -> None:
    """Fetch each feed once and report whether it reads; stores nothing."""
    config = load(config_dir)
    chosen = [s for s in config.sources if not source or s.id in source]
    from scrapy.crawler import CrawlerProcess

    from scraper.crawl_log import quiet_crawl_logging
    from scraper.settings import scrapy_settings
    from scraper.spiders.check import CheckSpider

    process = CrawlerProcess(scrapy_settings(config))
    crawler = process.create_crawler(CheckSpider)
    quiet_crawl_logging(crawler)
    process.crawl(crawler, sources=chosen, parse_timeout=config.settings.crawl.parse_timeout)
    process.start()
    results = crawler.spider.results
    columns = [
        Column("id", key=True),
        Column("result"),
        Column("entries", justify="right"),
        Column("newest"),
        Column("detail"),
    ]
    rows = []
    failed = 0
    for s in chosen:
        r = results.get(s.id)
        if r is None or not r.ok:
            failed += 1
        detail = (
            (r.title or "") if r and r.ok else (f"{r.error_kind}: {r.error}" if r else "no answer")
        )
        rows.append(
            (
                s.id,
                "ok" if r and r.ok else "FAILED",
                str(r.entries) if r else "",
                _when(r.newest) if r else "",
                detail,
            )
        )
    print_table(console, "source check", columns, rows)
    if failed:
        raise typer.Exit(1)
