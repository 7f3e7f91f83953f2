"""Topic matching: whole words, any case, any script; excludes veto."""

from __future__ import annotations

import unicodedata

import pytest

from config import Topic
from scraper.topics import TopicMatcher, match_topics


def matcher(include: list[str], exclude: list[str] | None = None, **kw: int) -> TopicMatcher:
    return TopicMatcher(Topic(name="t", include=include, exclude=exclude or [], **kw))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The flood came at night.", True),
        ("FLOOD warning issued", True),
        ("Flooding is expected.", False),  # whole words only
        ("a floodgate opened", False),
        ("(flood)", True),
        ("flood_zone", False),
    ],
)
def test_whole_word_case_insensitive(text: str, expected: bool) -> None:
    assert matcher(["flood"]).match(None, text).matched is expected


def test_phrases_match_across_any_white_space() -> None:
    m = matcher(["storm surge"])
    assert m.match(None, "the storm\n  surge hit").matched
    assert not m.match(None, "the stormsurge hit").matched


def test_non_latin_scripts() -> None:
    assert matcher(["Ήπειρος"]).match(None, "Η ΉΠΕΙΡΟΣ πλημμύρισε").matched
    assert matcher(["повінь"]).match(None, "Сильна Повінь у місті").matched
    assert not matcher(["повінь"]).match(None, "повіньовий").matched
    # scripts without spaces match as substrings
    assert matcher(["洪水"]).match(None, "今天洪水来了").matched


def test_composed_and_decomposed_accents_match_alike() -> None:
    decomposed = unicodedata.normalize("NFD", "Crue à Besançon")
    assert matcher(["Besançon"]).match(None, decomposed).matched


def test_exclude_vetoes_and_is_reported() -> None:
    result = matcher(["flood"], ["flood of applications"]).match(
        "Council faces a flood of applications", "A flood of applications arrived."
    )
    assert not result.matched
    assert result.excluded_by == "flood of applications"


def test_title_counts_and_spans_are_text_offsets() -> None:
    text = "Rain fell. Then the flood. Another flood."
    result = matcher(["flood", "sea wall"]).match("Sea wall breached", text)
    assert result.terms == ["flood", "sea wall"]
    assert [text[s.start : s.end] for s in result.spans] == ["flood", "flood"]


def test_min_matches() -> None:
    m = matcher(["flood", "storm surge"], min_matches=2)
    assert not m.match(None, "a flood").matched
    assert m.match(None, "a flood after the storm surge").matched


def test_match_topics_keeps_only_matches() -> None:
    a = TopicMatcher(Topic(name="a", include=["flood"]))
    b = TopicMatcher(Topic(name="b", include=["election"]))
    assert [m.topic for m in match_topics([a, b], None, "flood")] == ["a"]
