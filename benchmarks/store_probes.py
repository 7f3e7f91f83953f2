"""The store benchmark's measured calls, each drawing a fresh random input
(seeded: the same run asks the same questions), and the footprint.

Inputs come from the generator that made the database (the same seed
re-derives the same clippings), never from SQL: stored bodies and SimHashes
for dedupe hits, stored clippings' words for search queries.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.synthetic_clippings import END, SOURCES, TOPICS, Generator
from config import load_config
from digest.dates import week_period
from digest.publisher import make_digest, posts_of
from digest.render import Renderer
from scraper.items import Clipping
from storage import Store

#: Frequency ranks of the words a search query is made of: past the ~300
#: most common (articles, prepositions) that nobody searches for.
QUERY_RANKS = (300, 100_000)
#: A dedupe probe's body or SimHash is that of a stored clipping this often.
HIT_RATE = 0.1
#: Clippings re-derived for inputs: this many from each of three batches.
SAMPLE = 5000
_WORD = re.compile(r"[^\W\d_]+")

SETTINGS = """\
[database]
url = "{url}"

[publication]
name = "The Bench Weekly"
description = "Clippings at scale."
url = "https://bench.example.org/"
timezone = "UTC"

[publishing]
week_ends_on = "friday"
"""


class Probes:
    """Calls to time against ``store``, which holds the generator's clippings."""

    def __init__(self, store: Store, rows: int, seed: int, config_dir: Path) -> None:
        self.store = store
        self.rows = rows
        self.rng = random.Random(seed + 1)
        generator = Generator(rows, seed)
        starts = sorted({0, (rows // 2) // 5000 * 5000, max(0, rows - SAMPLE)})
        self.sample: list[Clipping] = [
            c for s in starts for c in generator.batch(s, min(s + SAMPLE, rows))
        ]
        rank = {word: r for r, word in enumerate(generator.words, 1)}
        self.queries = [self._query(rank) for _ in range(2000)]
        config_dir.mkdir(parents=True, exist_ok=True)
        url = store.engine.url.render_as_string(hide_password=False)
        (config_dir / "settings.toml").write_text(SETTINGS.format(url=url), encoding="utf-8")
        topics = "".join(f'[[topics]]\nname = "{t}"\ninclude = ["{t}"]\n\n' for t in TOPICS)
        (config_dir / "sources.toml").write_text(topics, encoding="utf-8")
        self.config = load_config(config_dir)
        self.renderer = Renderer(self.config.settings, self.config.directory)
        newest = END.date().isocalendar()
        self.newest_week = f"{newest[0]}-W{newest[1]:02d}"
        self.recorded_weeks = [p.title.removeprefix("Digest ") for p in store.publications()]
        self.cursors = {t: self._cursor(t) for t in TOPICS}

    def _query(self, rank: dict[str, int]) -> str:
        while True:
            clipping = self.rng.choice(self.sample)
            words = _WORD.findall(f"{clipping.title} {clipping.text}".lower())
            usable = sorted(
                {w for w in words if QUERY_RANKS[0] <= rank.get(w, 0) <= QUERY_RANKS[1]}
            )
            if usable:
                count = min(len(usable), self.rng.choice((1, 1, 2, 2, 3)))
                return " ".join(self.rng.sample(usable, count))

    def _cursor(self, topic: str) -> int | None:
        first = self.store.review_queue_page(topic=topic)
        return first[-1][0] if first else None

    def _hash(self) -> str:
        return hashlib.sha1(self.rng.randbytes(16)).hexdigest()

    def dedupe(self) -> None:
        """The three lookups of `pipelines.dedupe` for one new entry."""
        store, rng = self.store, self.rng
        if rng.random() < HIT_RATE:
            known = rng.choice(self.sample)
            body, simhash = known.content_hash or "", known.simhash or 0
        else:
            body, simhash = self._hash(), rng.getrandbits(64)
        store.existing_url_hashes([self._hash()])
        if body not in store.clusters_by_content_hash([body]):
            store.near_duplicate_candidates(simhash ^ (1 << rng.randrange(64)))

    def _source(self) -> str:
        return f"src-{self.rng.randrange(SOURCES):03d}"

    def _digest(self, week: str, fmt: str) -> Callable[[], Any]:
        def call() -> str:
            settings = self.config.settings
            start, end = week_period(week, settings.publishing.week_ends_on, self.renderer.tz)
            order = list(self.config.topics)
            result = make_digest(
                self.store, self.renderer, start=start, end=end, posted_at=end,
                topic_order=order, record=False,
            )  # fmt: skip
            assert result is not None, f"no digest for {week}"
            post = self.renderer.groups(posts_of(self.store, [result.publication])[0], order)
            return self.renderer.digest(post, fmt, False)

        return call

    def _recorded(self, fmt: str) -> Callable[[], Any]:
        return lambda: self._digest(self.rng.choice(self.recorded_weeks), fmt)()

    def calls(self) -> list[tuple[str, str, Callable[[], Any]]]:
        """``(measure, kind, call)``; ``kind`` names the goal it is held to."""
        s, rng = self.store, self.rng
        topics = list(self.cursors)
        return [
            ("dedupe check", "dedupe", self.dedupe),
            (
                "review page: topic + source",
                "page",
                lambda: s.review_queue_page(topic=rng.choice(topics), source_id=self._source()),
            ),
            ("review page: topic", "page", lambda: s.review_queue_page(topic=rng.choice(topics))),
            ("review page: source", "page", lambda: s.review_queue_page(source_id=self._source())),
            ("review page: all", "page", lambda: s.review_queue_page()),
            (
                "review page: topic, next page",
                "page",
                lambda: s.review_queue_page(
                    topic=(t := rng.choice(topics)), before=self.cursors[t]
                ),
            ),
            ("search, 1-3 words", "search", lambda: s.search(rng.choice(self.queries))),
            (f"digest {self.newest_week}, HTML", "digest", self._digest(self.newest_week, "html")),
            (
                f"digest {self.newest_week}, Markdown",
                "digest",
                self._digest(self.newest_week, "md"),
            ),
            ("recorded digest, HTML", "digest", self._recorded("html")),
        ]

    def footprint(self) -> dict[str, Any]:
        """Bytes in all, per clipping, and the five largest tables."""
        found = self.store.footprint()
        largest = sorted(found.tables.items(), key=lambda kv: -kv[1])[:5]
        return {"total": found.total, "per_row": found.total / self.rows, "largest": largest}
