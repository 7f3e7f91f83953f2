"""Topic: keep articles that match one of their source's topics.

Matched topics and terms are recorded on the clipping; an article matching
none is dropped as ``off_topic`` (the store stage records the entry so it is
not fetched again, but it never enters the review queue).  A source with no
topics keeps everything.

The extraction workers have matched a crawled article already
(`scraper.analysis`); their matches are used as they are, and an article
that comes without them is matched here.
"""

from __future__ import annotations

from typing import Self

from config import Config
from pipelines.stage import Stage, Stats
from scraper.analysis import analysis_of
from scraper.context import RoundContext
from scraper.items import Clipping
from scraper.topics import TopicMatch, TopicMatcher, match_topics


class TopicStage(Stage):
    namespace = "topic"

    def __init__(self, config: Config, stats: Stats) -> None:
        super().__init__(stats)
        self.config = config
        self._matchers: dict[str, TopicMatcher] | None = None

    @classmethod
    def from_context(cls, context: RoundContext, stats: Stats) -> Self:
        return cls(context.config, stats)

    def matchers_for(self, source_id: str | None) -> list[TopicMatcher]:
        if self._matchers is None:
            self._matchers = {n: TopicMatcher(t) for n, t in self.config.topics.items()}
        try:
            names = self.config.source(source_id).topics
        except KeyError:
            return []
        return [self._matchers[n] for n in names]

    def matches(self, item: Clipping, matchers: list[TopicMatcher]) -> list[TopicMatch]:
        """The matches that hold, in ``matchers`` order."""
        analysis = analysis_of(item)
        names = [m.topic.name for m in matchers]
        if analysis is not None and all(n in analysis.matches for n in names):
            return [analysis.matches[n] for n in names if analysis.matches[n].matched]
        return match_topics(matchers, item.title, item.text)

    def process_item(self, item: Clipping) -> Clipping:
        matchers = self.matchers_for(item.source_id)
        if not matchers:
            self.count("no_topic")
            return item
        matches = self.matches(item, matchers)
        if not matches:
            raise self.drop(
                "off_topic", f"matches none of: {', '.join(m.topic.name for m in matchers)}"
            )
        item.topics = [m.topic for m in matches]
        terms: list[str] = []
        for m in matches:
            terms += [t for t in m.terms if t not in terms]
        item.matched_terms = terms
        self.count("matched")
        return item
