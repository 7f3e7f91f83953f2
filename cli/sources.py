"""``presscut sources list|check``: what is configured and how it fares."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli.database import open_command_store
from cli.options import ConfigDir, console, load


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") else ""


def sources_list(config_dir: ConfigDir = None) -> None:
    """Configured sources with their fetch state."""
    config = load(config_dir)
    with open_command_store(config, create=False) as store:
        state = {row.id: row for row in store.list_sources()}
    table = Table(title=f"sources ({config.sources_path})")
    for column in ("id", "outlet", "kind", "topics", "last success", "next due", "last error"):
        table.add_column(column)
    for source in config.sources:
        row = state.get(source.id)
        error = f"{row.last_error_kind}: {row.last_error}" if row and row.last_error_kind else ""
        table.add_row(
            source.id if source.enabled else f"{source.id} (disabled)",
            source.outlet,
            source.kind,
            ", ".join(source.topics),
            _when(row.last_success_at) if row else "",
            _when(row.next_due_at) if row else "due",
            error,
        )
    console.print(table)


def sources_check(
    source: Annotated[list[str] | None, typer.Option("--source", "-s")] = None,
    config_dir: ConfigDir = None,
) -> None:
    """Fetch each feed once and report whether it reads; stores nothing."""
    config = load(config_dir)
    chosen = [s for s in config.sources if not source or s.id in source]
    from scrapy.crawler import CrawlerProcess

    from scraper.round import scrapy_settings
    from scraper.spiders.check import CheckSpider

    process = CrawlerProcess(scrapy_settings(config))
    crawler = process.create_crawler(CheckSpider)
    process.crawl(crawler, sources=chosen)
    process.start()
    results = crawler.spider.results
    table = Table(title="source check")
    for column in ("id", "result", "entries", "newest", "detail"):
        table.add_column(column)
    failed = 0
    for s in chosen:
        r = results.get(s.id)
        if r is None or not r.ok:
            failed += 1
        detail = (
            (r.title or "") if r and r.ok else (f"{r.error_kind}: {r.error}" if r else "no answer")
        )
        table.add_row(
            s.id,
            "ok" if r and r.ok else "FAILED",
            str(r.entries) if r else "",
            _when(r.newest) if r else "",
            detail,
        )
    console.print(table)
    if failed:
        raise typer.Exit(1)
