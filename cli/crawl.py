"""``presscut crawl``: one round over due (or named) sources."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from cli.options import ConfigDir, console, errors, load
from scraper.round import OUTCOMES, RoundReport, run_round


def crawl(
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="Crawl this source now, due or not (repeatable)."),
    ] = None,
    all_sources: Annotated[
        bool, typer.Option("--all", help="Crawl every enabled source now, due or not.")
    ] = False,
    log_level: Annotated[str, typer.Option(help="Scrapy log level.")] = "WARNING",
    config_dir: ConfigDir = None,
) -> None:
    """Poll due sources, fetch new articles, store matching clippings."""
    config = load(config_dir)
    known = {s.id for s in config.sources if s.enabled}
    unknown = sorted(set(source or []) - known)
    if unknown:
        errors.print(f"unknown or disabled source: {', '.join(unknown)}")
        raise typer.Exit(2)
    extensions = {"cli.progress.CrawlProgress": 500} if sys.stdout.isatty() else None
    report = run_round(
        config, source_ids=source, force=all_sources, log_level=log_level, extensions=extensions
    )
    print_report(report)
    if report.status != "finished":
        raise typer.Exit(1)


def print_report(report: RoundReport) -> None:
    """A table per source: new, duplicate, off-topic, invalid, failed, and why."""
    table = Table(title=f"crawl run {report.run_id}: {report.status}")
    table.add_column("source")
    for outcome in OUTCOMES:
        table.add_column(outcome.replace("_", "-"), justify="right")
    table.add_column("error")
    for source_id in sorted(report.summary):
        counts = report.summary[source_id]
        table.add_row(
            source_id,
            *(str(counts.get(o, 0)) for o in OUTCOMES),
            report.errors.get(source_id, ""),
        )
    if not report.summary:
        console.print("no source was due")
    else:
        console.print(table)
    console.print(f"{report.new} new clipping(s) stored")
    if report.errors.get("database"):
        errors.print(f"database error: {report.errors['database']}")
    elif report.stats.get("store/failed_batches"):
        errors.print(
            "database error: some batches could not be written (see the log); "
            "their articles will be fetched again next round"
        )
