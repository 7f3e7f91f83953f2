"""Whether a curator's excerpt is a verbatim passage of the article.

Contract of `excerpt_problem`: ``None`` when the excerpt, with white space,
quotes and dashes normalised on both sides (curly and straight quotes alike,
any dash or minus a hyphen, every run of white space one space), occurs in
the article's text and has between ``min_words`` and ``max_words`` words;
otherwise a one-line message saying what is wrong.  Kept apart from the
desk's pages so that another verbatim rule can replace it.
"""

from __future__ import annotations

from urllib.parse import quote

_QUOTES = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
        "\u2015": "-", "\u2212": "-",
    }
)  # fmt: skip


def normalise(text: str) -> str:
    """``text`` with quotes, dashes and white space folded (see above)."""
    return " ".join(text.translate(_QUOTES).split())


def excerpt_problem(excerpt: str, text: str, min_words: int, max_words: int) -> str | None:
    """What is wrong with ``excerpt`` as a quote of ``text``, or ``None``."""
    wanted = normalise(excerpt)
    if not wanted:
        return "the excerpt is empty"
    if wanted not in normalise(text):
        return "the excerpt is not verbatim: it does not occur in the article's text"
    words = len(wanted.split())
    if words < min_words:
        return f"the excerpt has {words} words, fewer than the {min_words} required"
    if words > max_words:
        return f"the excerpt has {words} words, more than the {max_words} allowed"
    return None


def text_fragment(excerpt: str, words: int = 4) -> str:
    """A URL text fragment (``#:~:text=start,end``) that finds ``excerpt``
    on the article's page; every special character percent-encoded."""
    pieces = excerpt.split()
    if len(pieces) <= 2 * words:
        spec = quote(" ".join(pieces), safe="")
    else:
        start = quote(" ".join(pieces[:words]), safe="")
        end = quote(" ".join(pieces[-words:]), safe="")
        spec = f"{start},{end}"
    return f"#:~:text={spec.replace('-', '%2D')}"
