"""An article's text as safe HTML for the clipping page, and safe links.

Contract: the stored text is plain text but hostile; `article_html` escapes
it, makes each line a paragraph, marks the topic terms that matched, and
passes the result through nh3 with only ``p`` and ``mark`` allowed, so no
markup of the article's own can reach the page whatever the escaping did.
`safe_href` returns a URL only when it is http(s): anything else is never
made clickable.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import nh3
from markupsafe import Markup, escape

from scraper.urls import is_http_url

_ALLOWED = {"p", "mark"}


def _terms_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    wanted = sorted({t for t in terms if t.strip()}, key=len, reverse=True)
    if not wanted:
        return None
    return re.compile("|".join(re.escape(str(escape(t))) for t in wanted), re.IGNORECASE)


def article_html(text: str, terms: Sequence[str] = ()) -> Markup:
    """``text`` as sanitised paragraphs with ``terms`` marked."""
    pattern = _terms_pattern(terms)
    paragraphs = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        html = str(escape(line))
        if pattern is not None:
            html = pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", html)
        paragraphs.append(f"<p>{html}</p>")
    cleaned = nh3.clean(
        "".join(paragraphs), tags=_ALLOWED, attributes={}, link_rel="noopener nofollow noreferrer"
    )
    return Markup(cleaned)


def safe_href(url: str | None) -> str | None:
    """``url`` when it is an http(s) URL, else ``None``."""
    return url if url and is_http_url(url) else None
