"""Bylines to person names.

`parse_byline` turns one byline as a page or feed states it ("By Alice
Taylor and Bob Roe | Staff Writer", "Von Anna Müller, dpa") into a list of
person names; `merge_names` joins several such lists without repeats.

What is removed:

* lead-ins: "By", "Von", "Par", "Por", "Door", "Av", "Written by",
  "Autor:", "Text:", "Ein Beitrag von", ...;
* e-mail addresses, URLs and ``@handles``;
* roles and desks ("Staff Writer", "Reporter", "Redaktion", "Editor");
* wire-agency credits appended to a name ("| Reuters", "(dpa)");
* outlet and site names: a name equal to a given outlet or site name, or
  built from the page host's name ("Heise Online" on heise.de), or made of
  organisation words ("News", "Zeitung", "GmbH", ...);
* dates and other strings with digits.

Names are split on ",", ";", "|", "/", "+", "·", "•", "、", on "&" and on
the words "and", "und", "et", "y", "e", "en", "og", "och", "i", "и",
"with", "mit", "avec", "con"; a part joined by such a word to an
organisation name is part of it ("Bundesministerium für Wirtschaft und
Klimaschutz" yields nothing).  A role written after a name in Korean,
Japanese or Chinese ("기자", "記者") is dropped.  Names in scripts without
letter case keep their form; a name of several words written in capitals
only is title-cased.  Two names that differ only in case, punctuation or spacing are
one name, and a name contained in another ("Jane" in "Jane Doe") is dropped.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Iterable

from courlan import extract_domain

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<!\w)@\w+")
_TAG = re.compile(r"<[^>]{0,200}>")
_WS = re.compile(r"\s+")
# Lead-ins: optional verb ("written"), then a preposition or a label.
_LEAD_IN = re.compile(
    r"^\W*(?:(?:written|posted|reported|story|words|text|ein\s+beitrag|beitrag|artikel|"
    r"ein\s+kommentar|kommentar|geschrieben|verfasst|publicado|escrito|écrit|publié)\s+)?"
    r"(?:by|von|vom|par|por|door|av|af|(?-i:di)|przez|от)\b\s*:?\s*"
    r"|^\W*(?:autor(?:[*:_]?in(?:nen)?|es|as|e|a)?|authors?|auteure?s?|text|texto|textes?|"
    r"reporter(?:in)?|redakteur(?:in)?|bylines?|credits?|interview)\b\s*:?\s+",
    re.IGNORECASE,
)
# Punctuation separates bylines; conjunctions separate names within one.
_SEPARATORS = re.compile(r"\s*[,;|/+·、•]\s*")
_CONJUNCTIONS = re.compile(
    r"\s*(?:&|\s(?:and|und|et|y|e|en|og|och|i|и|with|mit|avec|con)\s)\s*", re.IGNORECASE
)
# Legal forms: "GmbH", "e. V.", "GmbH & Co. KG", "Inc.", "S.A.".
_LEGAL_FORM = re.compile(
    r"(?:^|\s)(?:gmbh|ag|kg|e\.?\s?v\.?|inc\.?|ltd\.?|llc|plc|corp\.?|s\.\s?a\.?|s\.\s?l\.?|"
    r"sarl|s\.?a\.?r\.?l\.?|b\.\s?v\.?|n\.\s?v\.?)$",
    re.IGNORECASE,
)
# Role words written after the name in Korean, Japanese and Chinese bylines.
_CJK_ROLE = re.compile(r"\s*(?:기자|특파원|논설위원|記者|特派員|編集委員|编辑|记者)\s*$")
_AGENCIES = frozenset({
    "reuters", "ap", "afp", "dpa", "apa", "epd", "kna", "sda", "ansa", "efe", "upi", "pa",
    "aa", "associated press", "agence france-presse", "agence france presse", "agencies",
    "agenturen", "agencias", "dpa-afx",
})  # fmt: skip
# Whole parts that are a role or a desk, never a person.
_ROLES = frozenset({
    "staff", "staff writer", "staff reporter", "senior writer", "senior reporter", "reporter",
    "correspondent", "foreign correspondent", "editor", "senior editor", "contributing editor",
    "contributing writer", "contributor", "guest author", "guest contributor", "journalist",
    "columnist", "photographer", "writer", "author", "autor", "autorin", "auteur", "redakteur",
    "redakteurin", "redaktion", "redacción", "rédaction", "redazione", "newsroom", "news desk",
    "newsdesk", "desk", "admin", "administrator", "editorial", "editorial team",
    "editorial staff", "name", "unknown", "anonymous", "guest", "posted", "text", "foto",
    "fotos", "photo", "photos", "video", "interview", "zvg", "phd", "ph.d", "md", "m.d", "dr",
    "prof", "mba",
})  # fmt: skip
# Words that make a name an organisation's.
_ORG_WORDS = frozenset({
    "news", "online", "times", "zeitung", "nachrichten", "tagblatt", "tagesspiegel", "magazin",
    "magazine", "journal", "gazette", "post", "press", "presse", "media", "médias", "média",
    "medien", "verlag", "gmbh", "ag", "ev", "e.v.", "inc", "inc.", "ltd", "ltd.", "llc",
    "corp", "redaktion", "redacción", "redaccion", "rédaction", "redazione", "newsroom",
    "staff", "team", "desk", "tv", "radio", "digital", "network", "agency", "agentur", "group",
    "gruppe", "bundesministerium", "ministerium", "ministry", "com",
})  # fmt: skip
_MAX_WORDS = 6


def fold(name: str) -> str:
    """Comparison key: case-folded, accents kept, letters and digits only."""
    text = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in text if ch.isalnum())


@functools.lru_cache(maxsize=1024)
def host_label(url: str | None) -> str | None:
    """The distinctive part of a URL's host, its registered name without
    the public suffix: ``"heise"`` for ``https://www.heise.de/x``, ``"bbc"``
    for ``bbc.co.uk``, ``"cnn"`` for ``edition.cnn.com``; ``None`` without
    a registered domain (``file:`` URLs, ``localhost``)."""
    if not url or not url.startswith(("http://", "https://")):
        return None
    try:
        domain = extract_domain(url)
    except (ValueError, TypeError):
        return None
    return fold(domain.split(".")[0]) or None if domain else None


def parse_byline(
    byline: str | None,
    *,
    outlet: str | None = None,
    url: str | None = None,
    site_names: Iterable[str] = (),
) -> list[str]:
    """Person names in ``byline``, in byline order.  ``outlet``,
    ``site_names`` and the host of ``url`` are names to discard."""
    if not byline:
        return []
    text = html.unescape(_TAG.sub(" ", byline)) if ("<" in byline or "&" in byline) else byline
    text = _EMAIL.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _HANDLE.sub(" ", text)
    text = _WS.sub(" ", text).strip()
    # Agency credits in brackets: "Anna Müller (dpa)".
    text = re.sub(
        r"\(([^()]{1,40})\)", lambda m: " " if fold(m[1]) in _AGENCY_KEYS else m[0], text
    )
    blocked = _blocked(outlet, site_names)
    host = host_label(url)
    names: list[str] = []
    for chunk in _SEPARATORS.split(text):
        # "Bundesministerium für Wirtschaft und Klimaschutz" is one body, so
        # a chunk with an organisation in it yields no names at all.
        # A leading space lets a chunk open with its conjunction ("avec AFP").
        found = [clean_name(part) for part in _CONJUNCTIONS.split(f" {chunk}") if part]
        if any(name and is_organisation(name, blocked, host) for name in found):
            continue
        names.extend(name for name in found if name)
    return merge_names([names])


def agency_credit(byline: str | None) -> str | None:
    """The wire agencies ``byline`` credits ("Von Anna Müller, dpa",
    "Par Claire Dubois, avec AFP", "Jane Roe (Reuters)"), as written, each
    once, joined with ``"; "``; ``None`` when it credits none."""
    if not byline:
        return None
    found: list[str] = []
    for chunk in _SEPARATORS.split(re.sub(r"[()\[\]]", ",", byline)):
        # A leading space lets a chunk open with its conjunction ("avec AFP").
        for part in _CONJUNCTIONS.split(f" {chunk}"):
            name = _LEAD_IN.sub("", part.strip(" -–—:.")).strip(" -–—:.")
            if fold(name) in _AGENCY_KEYS and name not in found:
                found.append(name)
    return "; ".join(found) or None


def clean_name(part: str) -> str | None:
    """One split-off part as a name, or ``None`` when it is no name."""
    name = _CJK_ROLE.sub("", part).strip(" \t\r\n-–—:.,;|*()[]{}\"'“”„«»")
    previous = None
    while name != previous:
        previous = name
        name = _LEAD_IN.sub("", name).strip(" -–—:.,;|*")
    if not name or any(ch.isdigit() for ch in name):
        return None
    key = name.casefold()
    if key in _ROLES or key in _AGENCIES:
        return None
    words = name.split()
    if len(words) > _MAX_WORDS:
        return None
    if not any(ch.isalpha() for ch in name):
        return None
    if len(name) == 1:
        return None
    if name.isupper() and len(name) > 3 and " " in name:
        name = " ".join(w.capitalize() if w.isalpha() else w for w in words)
    return name


def is_organisation(name: str, blocked: Iterable[str] = (), host: str | None = None) -> bool:
    """Whether ``name`` names an outlet or organisation rather than a person:
    it matches a ``blocked`` key (as from `fold`), is or embeds the host's
    name, or holds an organisation word."""
    key = fold(name)
    if not key:
        return True
    if key in blocked:
        return True
    if host and (key == host or (len(host) >= 3 and host in key and len(name.split()) <= 3)):
        return True
    if _LEGAL_FORM.search(name):
        return True
    words = [w.casefold().strip(".,") for w in name.split()]
    return any(w in _ORG_WORDS for w in words) or (fold(name) in _AGENCY_KEYS and len(words) > 1)


def merge_names(lists: Iterable[Iterable[str]]) -> list[str]:
    """Concatenate name lists, dropping repeats (same `fold` key) and names
    contained in a longer one; the first spelling wins."""
    out: list[str] = []
    keys: list[str] = []
    for names in lists:
        for name in names:
            key = fold(name)
            if not key or key in keys:
                continue
            out.append(name)
            keys.append(key)
    kept = []
    for name, key in zip(out, keys, strict=True):
        words = set(name.casefold().split())
        if any(
            other != key and words < set(o.casefold().split())
            for o, other in zip(out, keys, strict=True)
        ):
            continue
        kept.append(name)
    return kept


def _blocked(outlet: str | None, site_names: Iterable[str]) -> set[str]:
    keys = {fold(n) for n in (outlet, *site_names) if n}
    return {k for k in keys if len(k) >= 2}


_AGENCY_KEYS = frozenset(fold(a) for a in _AGENCIES)
