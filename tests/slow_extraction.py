"""A page that takes for ever to extract, made to order for the tests of the
extraction time limit (``crawl.extract_timeout``).

`stalling_reader` is what the extraction workers run in place of
`scraper.extraction_pool.read_page`: for a page whose URL contains `STALL`
it sleeps far past any time limit a test sets, in the worker, exactly where
a pathological page would keep the parser busy; any other page it reads as
usual.  It lives in a module of its own, importable by name, because the
workers are spawned processes that import the function they run.
"""

from __future__ import annotations

import time

from scraper.extraction_pool import Page, Reading, read_page

#: URLs containing this stall.
STALL = "/stall-extraction"

#: Seconds a stalled page sleeps: longer than any test waits.
STALL_SECONDS = 600


def stalling_reader(page: Page) -> Reading:
    if STALL in page.url:
        time.sleep(STALL_SECONDS)
    return read_page(page)
