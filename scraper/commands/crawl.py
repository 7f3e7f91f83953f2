"""``scrapy crawl``: refused, pointing to ``presscut crawl``.

A round needs what only ``presscut`` gives it: the configuration's
``[crawl]`` section (address guard, user agent, delays), a migrated
database, the round lock and a recorded run.  A bare ``scrapy crawl`` had
none of them and still backed sources off for ``presscut run``, so it now
refuses with exit status 2 and one line saying what to run instead.
``scrapy list`` and the other commands work as usual.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl

#: Exit status of a refused ``scrapy crawl`` (a usage error).
REFUSED = 2


class Command(ScrapyCrawl):
    # Nothing is crawled: no crawler process (and none of its log lines).
    requires_crawler_process = False

    def short_desc(self) -> str:
        return "Refused: crawl rounds run with `presscut crawl`"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        print(
            "error: `scrapy crawl` is not how presscut crawls (it would skip the "
            "configuration, migrations and the round lock): run `presscut crawl` "
            "(`presscut crawl --source ID` for one source, `presscut run` for the "
            "scheduler)",
            file=sys.stderr,
        )
        self.exitcode = REFUSED
