"""Byline elements: who wrote the article, as the page shows it.

`read_bylines` walks a parsed page, read-only, and returns the text of the
elements that mark an author in the page body, each a `Candidate` with
provenance ``byline`` and the markup it was read from as its key:

* ``rel=author``: a link whose ``rel`` holds ``author`` (HTML's own
  author link, WordPress's ``<a class="url fn n" rel="author">``);
* ``itemprop=author``: a microdata author, its ``itemprop=name`` when it has
  one (``<meta>`` tags are `scraper.metadata`'s);
* ``vcard``: the ``fn`` name inside an hCard marked ``author``;
* ``class``: an element whose class or id names a byline or an author name
  (``byline``, ``author-name``, ``article__author``, ``meta-author``).

Elements inside comment threads, figures (a photographer's credit),
author boxes of other posts (lists of links, teasers) and
``<script>``/``<style>`` are skipped, so are texts longer than
`MAX_BYLINE` characters (an author biography, not a byline).
Candidates come by kind in the order above, within a kind those after the
first ``<h1>`` first (a byline sits near the headline); at most `MAX_BYLINES` are returned, each
text once.  Cleaning the text into names is `scraper.authors`'.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from scraper.metadata import Candidate, clean_value

#: Longer texts are a biography or a teaser, not a byline.
MAX_BYLINE = 120
#: At most this many byline candidates are kept per page.
MAX_BYLINES = 6

# A class or id token that marks a byline or an author's name, not an
# author's picture, biography or other posts.
_BYLINE_TOKEN = re.compile(
    r"^(?:[\w-]*[_-])?(?:byline|by-?line|author|autor|auteur|autore|writer|"
    r"author-?name|autorname|article-author|post-author|meta-author|entry-author)"
    r"(?:[_-]+(?:name|link|names|wrapper|info|txt|text))?$",
    re.IGNORECASE,
)
_SKIP_TOKEN = re.compile(
    r"comment|avatar|bio|image|img|photo|picture|teaser|related|widget|box|list|more|"
    r"share|social|follow|description|about|footer",
    re.IGNORECASE,
)
_KINDS = ("rel=author", "vcard", "itemprop=author", "class")
_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "meta", "link", "img"})
# Cheap first test of an element's class or id.
_MAYBE = re.compile(r"author|autor|auteur|writer|by-?line|(?:^|\s)fn(?:\s|$)", re.IGNORECASE)


def read_bylines(tree: HtmlElement) -> list[Candidate]:
    """The page's byline candidates, nearest the headline first (see the
    module docstring)."""
    found: list[tuple[int, bool, Candidate]] = []
    headline = next(tree.iter("h1"), None)
    before_headline = headline is not None
    # A walk with a cheap test: an XPath query with the same test is slower.
    for element in tree.iter():
        if element is headline:
            before_headline = False
            continue
        marks = element.get("class")
        ident = element.get("id")
        if not (marks and _MAYBE.search(marks)) and not (ident and _MAYBE.search(ident)):
            rel = element.get("rel")
            if not (rel and "author" in rel.lower()) and element.get("itemprop") != "author":
                continue
        if element.tag in _SKIPPED_TAGS:
            continue
        key = _byline_key(element)
        if key is None or _in_skipped_part(element):
            continue
        text = _name_text(element)
        if text is None:
            continue
        found.append((_KINDS.index(key), before_headline, Candidate(text, "byline", key)))
        if len(found) >= 4 * MAX_BYLINES:
            break
    # Author markup says more than a class name does; a stable sort keeps
    # document order within each kind, those after the headline first.
    found.sort(key=lambda item: item[:2])
    out: list[Candidate] = []
    seen: set[str] = set()
    for _, _, candidate in found:
        if candidate.value not in seen and len(out) < MAX_BYLINES:
            seen.add(candidate.value)
            out.append(candidate)
    return out


def _byline_key(element: HtmlElement) -> str | None:
    """How ``element`` marks a byline, or ``None`` when it does not."""
    rel = (element.get("rel") or "").lower().split()
    if element.tag == "a" and "author" in rel:
        return "rel=author"
    if (element.get("itemprop") or "").strip().lower() == "author":
        return "itemprop=author"
    tokens = (element.get("class") or "").split()
    if "fn" in tokens and _has_author_hcard(element):
        return "vcard"
    marks = tokens + (element.get("id") or "").split()
    if any(_BYLINE_TOKEN.match(t) and not _SKIP_TOKEN.search(t) for t in marks):
        return "class"
    return None


def _has_author_hcard(element: HtmlElement) -> bool:
    parent = element.getparent()
    for node in (element, parent, parent.getparent() if parent is not None else None):
        if node is None:
            continue
        tokens = (node.get("class") or "").split()
        if "vcard" in tokens and any("author" in t.lower() for t in tokens):
            return True
    return False


def _in_skipped_part(element: HtmlElement) -> bool:
    """Whether ``element`` sits in a comment thread, a teaser, a footer or
    a figure."""
    for node in element.iterancestors():
        # A figure's author is its photographer.
        if node.tag in ("footer", "aside", "nav", "figure", "figcaption"):
            return True
        marks = f"{node.get('class') or ''} {node.get('id') or ''}".lower()
        if "comment" in marks or "related" in marks or "teaser" in marks:
            return True
    return False


def _name_text(element: HtmlElement) -> str | None:
    """The name an author element shows: its ``itemprop=name`` part when
    it has one, else its whole text; ``None`` when too long or empty."""
    named = element.xpath(".//*[@itemprop='name']")
    source = named[0] if named else element
    if source.tag == "meta":
        text = clean_value(source.get("content"))
    else:
        text = clean_value(source.text_content())
    if text is None or len(text) > MAX_BYLINE:
        return None
    return text
