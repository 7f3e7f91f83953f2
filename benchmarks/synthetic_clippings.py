"""Synthetic clippings at realistic sizes, for the store benchmark.

Words: the vocabulary of the article corpus (titles, bodies and text
segments of ``../shared/corpus/articles/manifest.jsonl``, 27 languages),
ranked by frequency and extended with made-up words to `VOCABULARY` words
(made-up words only, without the corpus), drawn with Zipf weights 1/rank:
the frequency profile of natural text, so that the full-text index holds
few very common and many rare terms.  Texts are sentences cut from one
long Zipf-sampled token pool (cheap to make at a million clippings).

One clipping per index ``i`` of ``rows``, a pure function of (seed, rows,
batch): the same arguments always give the same clippings, so a batch can
be made in another process, and a kept database's contents re-derived.

Fields: title 60-100 characters; text 3-6 KB in paragraphs; excerpt ~300
characters cut from the text; one or two authors; `SOURCES` sources with
Zipf volumes; 1-3 of `TOPICS` topics; article dates spread evenly over the
`SPAN` before `END` (3 % undated); status by age (`status_for`); 6 % are
syndicated copies of an earlier clipping of the same batch at another
source (same body and cluster, SimHash a bit or two apart).
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scraper.items import Clipping

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "articles" / "manifest.jsonl"
VOCABULARY = 150_000
POOL_TOKENS = 4_000_000
SOURCES = 240
TOPICS = (
    "energy", "port", "elections", "housing", "health", "transport", "climate", "courts",
    "education", "labour", "tourism", "fisheries", "agriculture", "defence", "migration",
    "technology", "culture", "sport", "finance", "water", "police", "budget", "science", "trade",
)  # fmt: skip
END = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
SPAN = timedelta(days=365)
#: Clippings younger than this are mostly not yet reviewed.
RECENT = timedelta(days=14)
SYNDICATED = 0.06
UNDATED = 0.03
_SYLLABLES = "kalomiranesutivedobazerufagihopelumanositavirodake"
_WORD = re.compile(r"[^\W\d_]+")


def zipf_cumulative(n: int, s: float = 1.0) -> list[float]:
    """Cumulative Zipf weights of ranks 1..n."""
    return list(itertools.accumulate(1.0 / (r**s) for r in range(1, n + 1)))


def pick(rng: random.Random, cumulative: list[float]) -> int:
    """An index drawn with the given cumulative weights."""
    return bisect.bisect(cumulative, rng.random() * cumulative[-1])


def made_up_word(n: int) -> str:
    """The n-th made-up word (distinct for distinct n)."""
    out = []
    n += 1
    while n:
        n, k = divmod(n, len(_SYLLABLES) // 2)
        out.append(_SYLLABLES[2 * k : 2 * k + 2])
    return "".join(out) + "n"


def vocabulary(size: int = VOCABULARY) -> tuple[list[str], list[str], bool]:
    """``(words by rank, author names, from the corpus?)``."""
    counts: Counter[str] = Counter()
    authors: list[str] = []
    if CORPUS.exists():
        with CORPUS.open(encoding="utf-8") as lines:
            for line in lines:
                expected = json.loads(line).get("expected") or {}
                segments = expected.get("segments") or {}
                texts = [expected.get("title") or "", expected.get("body") or ""]
                texts += segments.get("with", []) if isinstance(segments, dict) else []
                for value in texts:
                    counts.update(_WORD.findall(value.lower()))
                authors += [a for a in expected.get("authors") or [] if " " in a]
    words = [w for w, _ in counts.most_common(size)]
    taken = set(words)
    extra = (w for w in map(made_up_word, itertools.count()) if w not in taken)
    words += list(itertools.islice(extra, size - len(words)))
    if len(set(authors)) < 50:
        authors = [
            f"{made_up_word(i).title()} {made_up_word(i * 7 + 3).title()}" for i in range(400)
        ]
    return words, sorted(set(authors)), bool(counts)


class Generator:
    """Makes the clippings of a benchmark store (see the module docstring)."""

    def __init__(self, rows: int, seed: int = 2026) -> None:
        self.rows = rows
        self.seed = seed
        self.words, self.authors, self.from_corpus = vocabulary()
        rng = random.Random(seed)
        self.pool = rng.choices(
            self.words, cum_weights=zipf_cumulative(len(self.words)), k=POOL_TOKENS
        )
        self.source_weights = zipf_cumulative(SOURCES, 0.6)
        self.topic_weights = zipf_cumulative(len(TOPICS), 0.7)

    def article_date(self, i: int) -> datetime:
        """When clipping ``i`` was published (before jitter): even spacing."""
        return END - SPAN + SPAN * ((i + 0.5) / self.rows)

    def _sentence(self, rng: random.Random, words: int) -> str:
        # random() rather than randrange(): this runs ~40 times per clipping.
        start = int(rng.random() * (POOL_TOKENS - words))
        text = " ".join(self.pool[start : start + words])
        return text[:1].upper() + text[1:] + "."

    def _text(self, rng: random.Random) -> str:
        target = rng.randint(3000, 6000)
        paragraphs, size = [], 0
        while size < target:
            count = 2 + int(rng.random() * 5)
            paragraph = " ".join(
                self._sentence(rng, 8 + int(rng.random() * 23)) for _ in range(count)
            )
            paragraphs.append(paragraph)
            size += len(paragraph) + 1
        return "\n".join(paragraphs)[:target].rsplit(" ", 1)[0] + "."

    def _title(self, rng: random.Random) -> str:
        target = rng.randint(60, 100)
        title = self._sentence(rng, 20)[:-1]
        return title[:target].rsplit(" ", 1)[0]

    def batch(self, start: int, stop: int) -> list[Clipping]:
        """Clippings ``start`` .. ``stop - 1``."""
        rng = random.Random(f"{self.seed}:{self.rows}:{start}")
        out: list[Clipping] = []
        for i in range(start, stop):
            if out and rng.random() < SYNDICATED:
                out.append(self._copy(rng, i, rng.choice(out[-500:])))
            else:
                out.append(self._original(rng, i))
        return out

    def _source(self, rng: random.Random) -> str:
        return f"src-{pick(rng, self.source_weights):03d}"

    def _original(self, rng: random.Random, i: int) -> Clipping:
        source = self._source(rng)
        text = self._text(rng)
        topics = list(
            dict.fromkeys(
                rng.choices(
                    TOPICS, cum_weights=self.topic_weights, k=rng.choice((1, 1, 1, 2, 2, 3))
                )
            )
        )
        return self._clipping(
            rng, i, source, self._title(rng), text, topics, None, rng.getrandbits(64)
        )

    def _copy(self, rng: random.Random, i: int, first: Clipping) -> Clipping:
        source = self._source(rng)
        while source == first.source_id:
            source = self._source(rng)
        assert first.simhash is not None
        simhash = first.simhash ^ (1 << rng.randrange(64)) ^ (1 << rng.randrange(64))
        return self._clipping(
            rng,
            i,
            source,
            first.title or "",
            first.text,
            list(first.topics),
            first.cluster,
            simhash,
        )

    def _clipping(
        self,
        rng: random.Random,
        i: int,
        source: str,
        title: str,
        text: str,
        topics: list[str],
        cluster: str | None,
        simhash: int,
    ) -> Clipping:
        published = self.article_date(i) + timedelta(minutes=rng.uniform(-60, 60))
        url = f"https://{source}.example.net/{published:%Y/%m}/{'-'.join(title.lower().split()[:6])}-{i}"
        url_hash = hashlib.sha1(url.encode()).hexdigest()
        start = rng.randrange(max(1, len(text) - 400))
        names = rng.sample(self.authors, rng.choice((1, 1, 2)))
        dated = rng.random() >= UNDATED
        return Clipping(
            url=url,
            source_id=source,
            outlet=f"Outlet {source[4:]}",
            canonical_url=url,
            url_hash=url_hash,
            entry_key=url,
            feed_url=f"https://{source}.example.net/feed.xml",
            title=title,
            title_from="json-ld",
            authors=names,
            authors_raw="By " + " and ".join(names),
            authors_from="json-ld",
            published_at=published if dated else None,
            published_raw=published.isoformat() if dated else None,
            published_from="json-ld" if dated else None,
            language="en",
            language_from="meta",
            text=text,
            text_from="trafilatura",
            excerpt=text[start : start + 300].strip(),
            excerpt_from="topic",
            topics=topics,
            matched_terms=[t.replace("-", " ") for t in topics],
            content_hash=hashlib.sha1(text.encode()).hexdigest(),
            simhash=simhash,
            cluster=cluster or url_hash,
            status=status_for(rng, END - published),
            fetched_at=published + timedelta(minutes=rng.uniform(5, 360)),
        )


def status_for(rng: random.Random, age: timedelta) -> str:
    """Review state by age: the last two weeks mostly unreviewed; older
    clippings decided (a published quarter, half rejected) but for a backlog
    nobody will review."""
    draw = rng.random()
    if age < RECENT:
        return "new" if draw < 0.70 else "approved" if draw < 0.88 else "rejected"
    return "new" if draw < 0.28 else "published" if draw < 0.50 else "rejected"
