"""A terminal progress bar for a crawl round, as a Scrapy extension.

Counts requests as they are scheduled and as they leave the downloader, so
the bar's total grows as feeds reveal new articles.  Enabled by ``presscut
crawl`` only when its output is a terminal.
"""

from __future__ import annotations

from typing import Any, Self

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from scrapy import signals


class CrawlProgress:
    def __init__(self, crawler: Any) -> None:
        self.progress = Progress(
            TextColumn("[bold]crawling"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("requests · {task.fields[stored]} stored"),
            TimeElapsedColumn(),
            transient=True,
        )
        self.task = self.progress.add_task("crawl", total=0, stored=0)
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)
        crawler.signals.connect(self.scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(self.done, signal=signals.request_left_downloader)
        crawler.signals.connect(self.stored, signal=signals.item_scraped)

    @classmethod
    def from_crawler(cls, crawler: Any) -> Self:
        return cls(crawler)

    def opened(self, spider: Any) -> None:
        self.progress.start()

    def closed(self, spider: Any) -> None:
        self.progress.stop()

    def scheduled(self, request: Any, spider: Any) -> None:
        total = self.progress.tasks[0].total or 0
        self.progress.update(self.task, total=total + 1)

    def done(self, request: Any, spider: Any) -> None:
        self.progress.advance(self.task)

    def stored(self, item: Any, response: Any, spider: Any) -> None:
        stored = self.progress.tasks[0].fields["stored"] + 1
        self.progress.update(self.task, stored=stored)
