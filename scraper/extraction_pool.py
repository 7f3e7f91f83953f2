"""Article pages read off the reactor thread, each within a time limit.

Reading an article page costs tens of milliseconds of CPU; on Scrapy's
reactor thread that would serialise the crawl on one core and hold every
download meanwhile.  `ExtractionPool` runs `read_page` in worker processes,
one per core by default: the reactor thread sends the response and gets back
a finished clipping, or the block page or error the page turned out to be.

`read_page` does all the CPU-heavy work an article needs, on the page's one
parse:

1. extraction (`scraper.extract`: `parse_page`, then `extract_tree`, which
   is `extract_article`), of the bytes when they are UTF-8, else of the text
   decoded as declared (see `markup`);
2. the block check (`scraper.blocks.detect_block`): a CDN's or bot
   vendor's challenge by its markers in the raw bytes, the other kinds by
   what was extracted and, for a short page, by the visible text of the
   same tree; a page that is no HTML document at all is still checked for
   the vendor markers (`scraper.blocks.vendor_block`).  An article behind a
   paywall, challenge, denial or cookie wall is still read, flagged
   (`behind_block`, `scraper.items.TEXT_FLAGS`); a soft 404 is not;
3. normalization (`scraper.normalize`: canonical URL, tidy text, content
   hash and SimHash);
4. analysis (`scraper.analysis`): the source's topics matched and the
   excerpt picked, for the topic and excerpt stages to take over.

A page still being read after ``timeout`` seconds (``crawl.extract_timeout``)
has its worker killed and replaced (pebble's process pool does both), and
reads as an error saying so; a worker that dies (out of memory, a crash in
C) likewise.  The crawl goes on either way.

Workers are started with ``spawn``: forking a process that runs a Twisted
reactor and holds database connections is unsafe.  They start on first use,
so a round with nothing new starts none.
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from pebble import ProcessExpired, ProcessPool
from w3lib.encoding import html_to_unicode

from config.schema import Excerpt, Topic
from scraper.analysis import analyse
from scraper.blocks import Block, detect_block, marked_not_free, vendor_block
from scraper.errors import ExtractionError
from scraper.extract import extract_tree, parse_page
from scraper.items import Clipping
from scraper.normalize import normalize_clipping
from scraper.topics import TopicMatcher

#: Block pages in front of an article that is still stored, flagged (see
#: `behind_block`); a soft 404 says the article is gone.
FLAGGED_BLOCKS = frozenset({"paywall", "challenge", "access_denied", "cookie_wall"})

#: Seconds a page may take to read (``crawl.extract_timeout``): of the 831
#: pages of the article corpus the median takes 0.03 s, the slowest 1.6 s.
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Page:
    """An article response, as a worker gets it."""

    url: str
    """The URL the page was fetched from, after redirects."""
    body: bytes
    status: int
    headers: Mapping[str, str]
    """Response headers, one value each."""
    base: Clipping
    """The clipping the feed entry gave (see `extract_article`)."""
    topics: Sequence[str] = ()
    """Names of the source's topics."""


@dataclass(frozen=True, slots=True)
class Reading:
    """What a page turned out to be: a ``clipping`` (an
    `scraper.analysis.AnalysedClipping`, normalized), a ``block`` page, or
    an ``error`` (why the page could not be read).  A ``clipping`` with a
    ``block`` is an article read behind that block, flagged
    (`behind_block`); a ``block`` alone is no article (a soft 404)."""

    clipping: Clipping | None = None
    block: Block | None = None
    error: str | None = None


@dataclass
class _Worker:
    """A worker process's compiled topics and excerpt limits."""

    matchers: dict[str, TopicMatcher] = field(default_factory=dict)
    min_words: int = Excerpt().min_words
    max_words: int = Excerpt().max_words


_worker = _Worker()


def _start_worker(topics: Mapping[str, Topic], min_words: int, max_words: int) -> None:
    # Importing trafilatura and lxml, and compiling the topics, once per
    # worker keeps that cost out of the first page's time limit.
    _worker.matchers = {name: TopicMatcher(topic) for name, topic in topics.items()}
    _worker.min_words, _worker.max_words = min_words, max_words


def markup(body: bytes, content_type: str) -> bytes | str:
    """The page as extraction gets it: the bytes when they are UTF-8 (the
    extractor reads their declarations), else text decoded as declared (BOM,
    HTTP charset, ``<meta charset>``) or, undeclared, as windows-1252, the
    web's default for legacy pages (WHATWG Encoding): a statistical guess
    over a few hundred words takes such a page for Czech or Lithuanian."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return html_to_unicode(content_type, body, default_encoding="cp1252")[1]
    return body


def behind_block(clipping: Clipping, base: Clipping, block: Block) -> Clipping:
    """The clipping of an article ``block`` stood in front of, flagged: a
    paywall teaser keeps its lead as the text (``paywalled``); behind any
    other block the page's title and text are the wall's, so the feed's
    title and text are taken (``blocked``), the page's other metadata kept."""
    if block.kind == "paywall":
        clipping.flags.append("paywalled")
        return clipping
    clipping.flags.append("blocked")
    feed_text = base.text if base.text_from in ("feed", "feed-summary") else ""
    return dataclasses.replace(
        clipping,
        title=base.title or clipping.title,
        title_from=base.title_from if base.title else clipping.title_from,
        text=feed_text,
        text_from=base.text_from if feed_text else None,
    )


def read_page(page: Page) -> Reading:
    """Read ``page`` (see the module docstring); raises nothing for the
    page's sake."""
    headers = {k.lower(): v for k, v in page.headers.items()}
    try:
        tree = parse_page(markup(page.body, headers.get("content-type", "")))
    except ExtractionError as exc:
        block = vendor_block(headers, page.body)
        return Reading(block=block) if block is not None else Reading(error=str(exc))
    clipping = extract_tree(tree, page.url, base=page.base)
    # The page's one tree serves the block check too (a short page's
    # visible text); the vendor markers are one scan of the raw bytes.
    flagged = None
    block = detect_block(
        status=page.status,
        headers=headers,
        body=page.body,
        title=clipping.title,
        text=clipping.text,
        tree=tree,
    )
    if block is not None:
        if block.kind not in FLAGGED_BLOCKS:
            return Reading(block=block)
        clipping = behind_block(clipping, page.base, block)
        flagged = block
    elif marked_not_free(page.body):
        clipping.flags.append("paywalled")
    normalize_clipping(clipping)
    matchers = [_worker.matchers[name] for name in page.topics if name in _worker.matchers]
    analysed = analyse(
        clipping, matchers, min_words=_worker.min_words, max_words=_worker.max_words
    )
    return Reading(clipping=analysed, block=flagged)


class ExtractionPool:
    """``workers`` processes reading pages (``0``: one per core), each page
    within ``timeout`` seconds.

    ``topics`` are the configured topics by name and ``excerpt`` the excerpt
    limits, handed to each worker once.  ``reader`` is the function the
    workers run, `read_page` unless given (it must be importable by name).
    """

    def __init__(
        self,
        workers: int = 0,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        topics: Mapping[str, Topic] | None = None,
        excerpt: Excerpt | None = None,
        reader: Callable[[Page], Reading] | None = None,
    ) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.timeout = timeout
        self.reader = reader
        limits = excerpt or Excerpt()
        self._initargs = (dict(topics or {}), limits.min_words, limits.max_words)
        self._pool: ProcessPool | None = None

    def _workers(self) -> ProcessPool:
        if self._pool is None:
            self._pool = ProcessPool(
                max_workers=self.workers,
                initializer=_start_worker,
                initargs=self._initargs,
                context=multiprocessing.get_context("spawn"),
            )
        return self._pool

    async def read(self, page: Page) -> Reading:
        """`read_page` of ``page`` in a worker.  Never raises for the page's
        sake: a page past the time limit, or a worker that dies, gives a
        `Reading` with ``error`` set."""
        reader = self.reader or read_page
        future = self._workers().schedule(reader, args=(page,), timeout=self.timeout)
        try:
            return await asyncio.wrap_future(future)
        except FutureTimeout:
            error = f"page extraction stopped after {self.timeout:g} s (crawl.extract_timeout)"
        except ProcessExpired as exc:
            error = f"extraction process died: {exc}"
        return Reading(error=error)

    def close(self) -> None:
        """Stop the workers, a busy one too; pages not yet read are abandoned."""
        if self._pool is not None:
            self._pool.stop()
            self._pool.join(timeout=10)
            self._pool = None
