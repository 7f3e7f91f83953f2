"""Excerpt picking: the passage of an article a clipping quotes.

Contract of `pick_excerpt`:

* the excerpt is verbatim text of the article, whole sentences, with runs of
  white space (paragraph breaks included) folded to one space;
* it is built around the sentence holding the most topic matches (the
  earliest on a tie), extended with the following sentences, then the
  preceding ones, until it has at least ``min_words`` words, never adding a
  sentence that would take it past ``max_words``;
* with no match it is the lead: the first sentences, by the same rule;
* a paragraph that only repeats one of ``titles`` (the headline that pages
  put above the standfirst) is never part of it;
* a single sentence longer than ``max_words`` is cut at a word boundary and
  ends with "…".

Verbatim checking (`quote_passage`, `excerpt_problem`, `is_verbatim`)
treats quotes, apostrophes, dashes and spaces as equal to their typographic
forms (' and ’, - and –, a space and NBSP) and ignores a leading or closing
"…"; what is stored is the article's own characters (`quote_passage`), so a
curator typing ``region's`` quotes the article's ``region’s``.
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
    titles: Sequence[str | None] = (),
) -> tuple[str, str]:
    """Return ``(excerpt, provenance)`` where provenance is ``"topic"`` when
    built around a match and ``"lead"`` otherwise.  ``spans`` are offsets in
    ``normalize(text)``; ``titles`` are the article's title and headline.
    An empty text gives ``("", "lead")``."""
    text = normalize(text)
    headings = {_fold(t) for t in titles if t}
    parts = [p for p in sentences(text) if _fold(text[p.start : p.end]) not in headings]
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
        passage = " ".join(tokens[:max_words]) + ELLIPSIS
    return passage, provenance


ELLIPSIS = "…"
# Typographic variants read as one character when checking a quotation.
_EQUIVALENT = str.maketrans(
    {
        **dict.fromkeys("‘’‚‛′`´", "'"),
        **dict.fromkeys("“”„‟″«»", '"'),
        **dict.fromkeys("‐‑‒–—―−", "-"),
    }
)


def _fold(text: str) -> str:
    return " ".join(normalize(text).split()).casefold()


def _comparable(text: str) -> tuple[str, list[int]]:
    """``text`` with typographic variants unified and white space runs
    folded to one space, and for each of its characters the offset in
    ``text`` it came from."""
    out: list[str] = []
    where: list[int] = []
    for i, char in enumerate(text):
        if char.isspace():
            if out and out[-1] != " ":
                out.append(" ")
                where.append(i)
            continue
        out.append(char.translate(_EQUIVALENT))
        where.append(i)
    return "".join(out), where


def _needle(excerpt: str) -> str:
    return _comparable(normalize(excerpt).strip().strip(ELLIPSIS).strip())[0].strip()


def quote_passage(text: str, excerpt: str) -> str | None:
    """The article's own passage that ``excerpt`` quotes, white space folded,
    with "…" after it when it stops inside a sentence; ``None`` when the
    excerpt is not verbatim (see the module docstring)."""
    needle = _needle(excerpt)
    text = normalize(text)
    haystack, where = _comparable(text)
    at = haystack.find(needle) if needle else -1
    if at < 0:
        return None
    start, end = where[at], where[at + len(needle) - 1] + 1
    passage = " ".join(text[start:end].split())
    if not any(s.end == end for s in sentences(text)):
        passage += ELLIPSIS
    return passage


def excerpt_problem(excerpt: str, text: str) -> str | None:
    """``None`` when ``excerpt`` is a verbatim passage of ``text``, else a
    one-line message with a hint: how far it matches and where it differs."""
    needle = _needle(excerpt)
    if not needle:
        return "the excerpt is empty"
    haystack, _ = _comparable(normalize(text))
    if needle in haystack:
        return None
    # The longest opening of the excerpt that the article has (a prefix
    # found implies every shorter one is found too).
    lo, hi = 0, len(needle)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if needle[:mid] in haystack:
            lo = mid
        else:
            hi = mid - 1
    message = "the excerpt is not a verbatim passage of the article's text"
    if lo < 3:
        return message + " (its opening words are not in the article)"
    found = haystack.find(needle[:lo]) + lo
    return (
        f"{message}: it matches up to {needle[max(0, lo - 30) : lo]!r}, then has "
        f"{needle[lo : lo + 20]!r} where the article has {haystack[found : found + 20]!r}"
    )


def is_verbatim(excerpt: str, text: str) -> bool:
    """Whether ``excerpt`` is a passage of ``text`` (module docstring)."""
    return excerpt_problem(excerpt, text) is None
