"""Analysis: the topic matching and excerpt picking of an article, done once
in the extraction worker and handed to the pipeline stages.

Matching a source's topics against an article and picking its excerpt cost
CPU that the topic and excerpt stages would otherwise spend on the crawl's
reactor thread, one article at a time.  The extraction worker
(`scraper.extraction_pool.read_page`) runs `analyse` on the clipping it has
just normalized: it records each of the source's topics' `TopicMatch` and
the excerpt `pick_excerpt` picks for those that match, and returns the
clipping as an `AnalysedClipping`, a `Clipping` with one more attribute,
``analysis``, that is no dataclass field: storage, `Clipping.to_dict` and
``dataclasses.replace`` (whose copy is a plain `Clipping`) never see it.

An analysis holds only while the clipping's title and text are the ones it
was made of (`analysis_of` checks), so every stage gives the same result
with or without one; without one, a stage does the work itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scraper.excerpt import pick_excerpt
from scraper.items import Clipping
from scraper.topics import TopicMatch, TopicMatcher


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the worker worked out for a normalized clipping."""

    title: str | None
    """The title the analysis was made of."""
    text: str
    """The text the analysis was made of."""
    matches: Mapping[str, TopicMatch]
    """Every topic of the clipping's source, by name, matched or not."""
    excerpt: tuple[str, str] | None
    """``(excerpt, provenance)`` as `pick_excerpt` picks it around the spans
    of the matching topics (`topics`); ``None`` when the clipping had an
    excerpt already, or when its source has topics and none matched (the
    topic stage drops it)."""

    @property
    def topics(self) -> list[str]:
        """Names of the topics that match, in the source's order."""
        return [name for name, match in self.matches.items() if match.matched]


class AnalysedClipping(Clipping):
    """A `Clipping` carrying the `Analysis` made of it."""

    __slots__ = ("analysis",)
    analysis: Analysis


def analyse(
    item: Clipping, matchers: Sequence[TopicMatcher], *, min_words: int, max_words: int
) -> AnalysedClipping:
    """``item`` (normalized) as an `AnalysedClipping`, matched against
    ``matchers`` (its source's topics, in order) and with its excerpt picked
    within ``min_words``..``max_words`` words (``[excerpt]`` settings)."""
    matches = {m.topic.name: m.match(item.title, item.text) for m in matchers}
    matched = [match for match in matches.values() if match.matched]
    excerpt = None
    if not item.excerpt and (matched or not matches):
        spans = [span for match in matched for span in match.spans]
        excerpt = pick_excerpt(
            item.text,
            spans,
            min_words=min_words,
            max_words=max_words,
            titles=(item.title, item.headline),
        )
    analysed = AnalysedClipping(
        **{f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
    )
    analysed.analysis = Analysis(item.title, item.text, matches, excerpt)
    return analysed


def analysis_of(item: Clipping) -> Analysis | None:
    """The analysis ``item`` carries, if it still holds for its title and text."""
    analysis: Analysis | None = getattr(item, "analysis", None)
    if analysis is None or analysis.title != item.title or analysis.text != item.text:
        return None
    return analysis
