"""Excerpt picking: the passage of an article a clipping quotes.

Contract of `pick_excerpt`:

* the excerpt is verbatim text of the article, whole sentences, with runs of
  white space (paragraph breaks included) folded to one space;
* it is built around the sentence holding the most topic matches (the
  earliest on a tie), extended with the following sentences, then the
  preceding ones, until it has at least ``min_words`` words, never adding a
  sentence that would take it past ``max_words``;
* with no match it is the lead: the first sentences, by the same rule;
* a single sentence longer than ``max_words`` is cut at a word boundary
  (still verbatim, no ellipsis added).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from scraper.topics import Span, normalize

# A sentence ends at terminal punctuation (and any closing quotes/brackets)
# followed by white space; CJK full stops need no space after them.
_END = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+|[。！？]+[」』”]*\s*")
# Tokens that end with a full stop without ending a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "sen", "rep", "gov", "gen", "col", "lt", "sgt",
    "capt", "amb", "rev", "jr", "sr", "inc", "ltd", "co", "corp", "no", "vs", "etc", "approx",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "u.s", "u.k", "u.n", "e.g", "i.e", "a.m", "p.m",
}  # fmt: skip
_WORD = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    words: int


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the full stop at ``text[dot]`` closes an abbreviation or an initial."""
    start = dot
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    token = text[start:dot].lstrip("(\"'“‘").lower()
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def sentences(text: str) -> list[Sentence]:
    """Split ``text`` into sentences with their offsets; paragraph breaks
    (newlines) always end a sentence."""
    out: list[Sentence] = []
    for para in re.finditer(r"[^\n]+", text):
        start = para.start()
        chunk = para.group()
        for end_match in _END.finditer(chunk):
            cut = para.start() + end_match.end()
            following = text[cut : cut + 1]
            dot = para.start() + end_match.start()
            if following and following.islower():
                continue
            if (
                text[dot] == "."
                and end_match.group().startswith(".")
                and _is_abbreviation(text, dot)
            ):
                continue
            out.append(_sentence(text, start, cut))
            start = cut
        if start < para.end():
            out.append(_sentence(text, start, para.end()))
    return [s for s in out if s.words]


def _sentence(text: str, start: int, end: int) -> Sentence:
    piece = text[start:end]
    stripped_end = start + len(piece.rstrip())
    return Sentence(start, stripped_end, len(_WORD.findall(piece)))


def pick_excerpt(
    text: str,
    spans: Sequence[Span] = (),
    *,
    min_words: int = 60,
    max_words: int = 140,
) -> tuple[str, str]:
    """Return ``(excerpt, provenance)`` where provenance is ``"topic"`` when
    built around a match and ``"lead"`` otherwise.  ``spans`` are offsets in
    ``normalize(text)``.  An empty text gives ``("", "lead")``."""
    text = normalize(text)
    parts = sentences(text)
    if not parts:
        return "", "lead"
    best, provenance = 0, "lead"
    if spans:
        counts = [0] * len(parts)
        terms: list[set[str]] = [set() for _ in parts]
        i = 0
        for span in sorted(spans, key=lambda s: s.start):
            while i < len(parts) - 1 and span.start >= parts[i].end:
                i += 1
            counts[i] += 1
            terms[i].add(span.term.casefold())
        scores = [(len(terms[k]), counts[k]) for k in range(len(parts))]
        top = max(scores)
        if top[1]:
            best, provenance = scores.index(top), "topic"
    lo = hi = best
    words = parts[best].words
    while words < min_words:
        if hi + 1 < len(parts) and words + parts[hi + 1].words <= max_words:
            hi += 1
            words += parts[hi].words
        elif lo > 0 and words + parts[lo - 1].words <= max_words:
            lo -= 1
            words += parts[lo].words
        else:
            break
    passage = " ".join(text[parts[lo].start : parts[hi].end].split())
    tokens = passage.split(" ")
    if len(tokens) > max_words:
        passage = " ".join(tokens[:max_words])
    return passage, provenance


def is_verbatim(excerpt: str, text: str) -> bool:
    """Whether ``excerpt`` is a passage of ``text``, white space folded."""
    return " ".join(normalize(excerpt).split()) in " ".join(normalize(text).split())
