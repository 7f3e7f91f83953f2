"""Excerpt: pick the passage a clipping quotes.

Around the strongest match of the clipping's topics when it has any, else
the lead; lengths from ``[excerpt]`` in settings.  An excerpt already set (an
import, a curator's edit) is kept.

The extraction workers have picked a crawled article's excerpt already, for
the topics it matched (`scraper.analysis`); it is taken when those are the
clipping's topics, and picked here otherwise.
"""

from __future__ import annotations

from typing import Self

from config import Config
from pipelines.stage import Stage, Stats
from scraper.analysis import analysis_of
from scraper.context import RoundContext
from scraper.excerpt import pick_excerpt
from scraper.items import Clipping
from scraper.topics import Span, TopicMatcher


class ExcerptStage(Stage):
    namespace = "excerpt"

    def __init__(self, config: Config, stats: Stats) -> None:
        super().__init__(stats)
        self.config = config
        self._matchers: dict[str, TopicMatcher] = {}

    @classmethod
    def from_context(cls, context: RoundContext, stats: Stats) -> Self:
        return cls(context.config, stats)

    def spans(self, item: Clipping) -> list[Span]:
        analysis = analysis_of(item)
        found: list[Span] = []
        for name in item.topics:
            if analysis is not None and name in analysis.matches:
                found += analysis.matches[name].spans
                continue
            topic = self.config.topics.get(name)
            if topic is None:
                continue
            matcher = self._matchers.setdefault(name, TopicMatcher(topic))
            found += matcher.match(item.title, item.text).spans
        return found

    def process_item(self, item: Clipping) -> Clipping:
        if item.excerpt:
            self.count("kept")
            return item
        analysis = analysis_of(item)
        if analysis is not None and analysis.excerpt and analysis.topics == item.topics:
            item.excerpt, item.excerpt_from = analysis.excerpt
        else:
            limits = self.config.settings.excerpt
            item.excerpt, item.excerpt_from = pick_excerpt(
                item.text,
                self.spans(item),
                min_words=limits.min_words,
                max_words=limits.max_words,
                titles=(item.title, item.headline),
            )
        self.count(item.excerpt_from)
        return item
