"""Topic matching: does an article belong to a configured topic, and where.

A term matches case-insensitively (Unicode case folding) as a whole word: it
may not be preceded or followed by a letter, digit or underscore.  Phrases
match across any run of white space.  Scripts written without spaces between
words (Chinese, Japanese, Thai, ...) have no word boundaries to test, so a
term in such a script matches as a substring.

Text is NFC-normalised before matching, so composed and decomposed accents
("é" vs "e" + combining acute) match alike; match offsets are reported in
the NFC text, which is the form presscut stores.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from config.schema import Topic

# Unicode blocks of scripts that do not separate words with spaces.
_UNSPACED = re.compile(
    r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]"
)


@dataclass(frozen=True, slots=True)
class Span:
    """One match: ``text[start:end]`` in the NFC text, for the configured ``term``."""

    start: int
    end: int
    term: str


@dataclass(frozen=True, slots=True)
class TopicMatch:
    """The outcome of matching one topic against one article."""

    topic: str
    terms: list[str]
    """Distinct include terms found, as configured, in configuration order."""
    spans: list[Span]
    """Include-term matches in the text (not the title), in text order."""
    excluded_by: str | None = None
    """The exclude term that vetoed the match, if any."""

    @property
    def matched(self) -> bool:
        return bool(self.terms) and self.excluded_by is None


def _pattern(term: str) -> str:
    words = [re.escape(w) for w in unicodedata.normalize("NFC", term).split()]
    body = r"\s+".join(words)
    if _UNSPACED.search(term):
        return body
    return rf"(?<!\w){body}(?!\w)"


def normalize(text: str) -> str:
    """The form matching works on: NFC."""
    return unicodedata.normalize("NFC", text)


class TopicMatcher:
    """Compiled matcher for one `Topic`.  Thread- and process-safe (immutable)."""

    def __init__(self, topic: Topic) -> None:
        self.topic = topic
        self._include = [(t, re.compile(_pattern(t), re.IGNORECASE)) for t in topic.include]
        self._exclude = [(t, re.compile(_pattern(t), re.IGNORECASE)) for t in topic.exclude]

    def match(self, title: str | None, text: str) -> TopicMatch:
        """Match against title and text.  ``matched`` is true when at least
        ``min_matches`` distinct include terms occur and no exclude term does."""
        title_n = normalize(title or "")
        text_n = normalize(text or "")
        terms: list[str] = []
        spans: list[Span] = []
        for term, regex in self._include:
            found = False
            for m in regex.finditer(text_n):
                spans.append(Span(m.start(), m.end(), term))
                found = True
            if found or regex.search(title_n):
                terms.append(term)
        spans.sort(key=lambda s: s.start)
        if len(terms) < self.topic.min_matches:
            return TopicMatch(self.topic.name, [], [])
        for term, regex in self._exclude:
            if regex.search(title_n) or regex.search(text_n):
                return TopicMatch(self.topic.name, terms, spans, excluded_by=term)
        return TopicMatch(self.topic.name, terms, spans)


def match_topics(
    matchers: Iterable[TopicMatcher], title: str | None, text: str
) -> list[TopicMatch]:
    """The matches among ``matchers`` that hold, in the order given."""
    return [m for m in (tm.match(title, text) for tm in matchers) if m.matched]
