"""A curator's excerpt on the desk: the verbatim rule and the link to it.

Contract of `checked_excerpt`: the article's own passage that ``excerpt``
quotes (`scraper.excerpt.quote_passage`: quotes, dashes and white space
normalised when matching, the article's characters kept, "…" after a
passage that stops inside a sentence), provided it has between
``min_words`` and ``max_words`` words; otherwise `ExcerptRefused` with a
one-line message saying what is wrong (the same rule and messages as
``presscut edit --excerpt``).
"""

from __future__ import annotations

from urllib.parse import quote

from scraper.excerpt import excerpt_problem, quote_passage


class ExcerptRefused(ValueError):
    """An excerpt the desk does not store; the message says why."""


def checked_excerpt(excerpt: str, text: str, min_words: int, max_words: int) -> str:
    """The passage to store for ``excerpt`` (see the module docstring)."""
    passage = quote_passage(text, excerpt)
    if passage is None:
        # Only a refusal needs the longer search for where the excerpt differs.
        raise ExcerptRefused(excerpt_problem(excerpt, text) or "the excerpt is empty")
    words = len(passage.replace("…", " ").split())
    if words < min_words:
        raise ExcerptRefused(f"the excerpt has {words} words, fewer than the {min_words} required")
    if words > max_words:
        raise ExcerptRefused(f"the excerpt has {words} words, more than the {max_words} allowed")
    return passage


def text_fragment(excerpt: str, words: int = 4) -> str:
    """A URL text fragment (``#:~:text=start,end``) that finds ``excerpt``
    on the article's page; every special character percent-encoded."""
    pieces = excerpt.strip().rstrip("…").split()
    if len(pieces) <= 2 * words:
        spec = quote(" ".join(pieces), safe="")
    else:
        start = quote(" ".join(pieces[:words]), safe="")
        end = quote(" ".join(pieces[-words:]), safe="")
        spec = f"{start},{end}"
    return f"#:~:text={spec.replace('-', '%2D')}"
