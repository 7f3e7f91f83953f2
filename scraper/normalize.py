"""The `Clipping` invariants, applied to a freshly extracted clipping.

After `normalize_clipping`: ``canonical_url`` and ``url_hash`` are set (the
page's ``rel=canonical``, carried in ``canonical_url`` by extraction,
honoured when it is trustworthy), text fields are NFC with white space
tidied, ``headline`` defaults to ``title``, ``content_hash`` and ``simhash``
are computed.  Applying it twice changes nothing.

It imports no Scrapy, so the extraction workers (`scraper.extraction_pool`)
run it next to extraction; the normalize stage (`pipelines.normalize`) runs
it for a clipping that did not come through them.
"""

from __future__ import annotations

import unicodedata

from scraper.fingerprints import content_hash, simhash
from scraper.items import Clipping
from scraper.urls import canonical_url, url_hash


def _line(value: str | None) -> str | None:
    """One line of text: NFC, white space folded, ``None`` when empty."""
    if value is None:
        return None
    folded = " ".join(unicodedata.normalize("NFC", value).split())
    return folded or None


def _paragraphs(text: str) -> str:
    """NFC, spaces folded within paragraphs, one newline between them."""
    lines = (" ".join(line.split()) for line in unicodedata.normalize("NFC", text).splitlines())
    return "\n".join(line for line in lines if line)


def normalize_clipping(item: Clipping) -> Clipping:
    """Apply the invariants in place and return the clipping."""
    item.canonical_url = canonical_url(item.url, canonical_link=item.canonical_url)
    item.url_hash = url_hash(item.canonical_url)
    item.title = _line(item.title)
    item.headline = _line(item.headline) or item.title
    item.authors = [a for a in (_line(name) for name in item.authors) if a]
    item.text = _paragraphs(item.text or "")
    item.outlet = _line(item.outlet)
    item.content_hash = content_hash(item.text) if item.text else None
    item.simhash = simhash(item.text)
    return item
