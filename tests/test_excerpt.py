"""Excerpts: verbatim whole sentences around the strongest match, 60-140 words."""

from __future__ import annotations

from config import Topic
from scraper.excerpt import is_verbatim, pick_excerpt, sentences
from scraper.topics import TopicMatcher


def filler(n: int, word: str = "harbour") -> str:
    return " ".join([word] * (n - 1)) + " end."


def test_sentences_respect_abbreviations_and_initials() -> None:
    text = "Mr. Smith met Dr. J. Roe at 9 a.m. on Monday. They spoke.\nA new paragraph"
    parts = [text[s.start : s.end] for s in sentences(text)]
    assert parts == [
        "Mr. Smith met Dr. J. Roe at 9 a.m. on Monday.",
        "They spoke.",
        "A new paragraph",
    ]


def test_excerpt_is_built_around_the_strongest_match() -> None:
    lead = "The council met on Monday to discuss the budget for the year. " * 5
    hit = "The storm surge breached the sea wall and the flood reached the market. "
    after = "Shop owners counted the damage on Tuesday morning after the water left. " * 5
    text = lead + "\n" + hit + after
    m = TopicMatcher(Topic(name="f", include=["flood", "storm surge", "sea wall"]))
    excerpt, how = pick_excerpt(text, m.match(None, text).spans, min_words=30, max_words=60)
    assert how == "topic"
    assert excerpt.startswith("The storm surge breached")
    assert 30 <= len(excerpt.split()) <= 60
    assert is_verbatim(excerpt, text)
    assert excerpt.endswith(".")


def test_lead_when_nothing_matches() -> None:
    text = "First sentence here. " + filler(80) + " " + filler(80)
    excerpt, how = pick_excerpt(text, [], min_words=60, max_words=140)
    assert how == "lead"
    assert excerpt.startswith("First sentence here.")
    assert len(excerpt.split()) <= 140


def test_grows_backwards_at_the_end_of_the_text() -> None:
    text = " ".join(f"Sentence number {i} says little." for i in range(30)) + " The flood came."
    m = TopicMatcher(Topic(name="f", include=["flood"]))
    excerpt, _ = pick_excerpt(text, m.match(None, text).spans, min_words=20, max_words=40)
    assert excerpt.endswith("The flood came.")
    assert len(excerpt.split()) >= 20


def test_overlong_sentence_is_cut_verbatim() -> None:
    text = " ".join(["flood"] * 500) + "."
    excerpt, _ = pick_excerpt(text, [], min_words=60, max_words=140)
    assert len(excerpt.split()) == 140
    assert is_verbatim(excerpt, text)


def test_empty_text() -> None:
    assert pick_excerpt("", []) == ("", "lead")
