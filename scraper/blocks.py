"""Block pages: what comes back instead of the article.

A site that does not want a crawler, or any reader without an account,
answers with a page that parses fine and means nothing: a bot challenge, an
"access denied" page, a cookie wall, a paywall teaser, or a "page not found"
served with status 200 (a soft 404).  Stored, it would pose as the article.
`detect_block` recognises such a page from what the response and the
extraction offer, and says which kind it is and why:

``challenge``       a bot check: Cloudflare's ``cf-mitigated: challenge``
                    header or challenge script, DataDome, PerimeterX,
                    Imperva, Sucuri, or a short page asking to enable
                    JavaScript or prove the reader is human;
``access_denied``   a title such as "Access Denied" or "403 Forbidden", or a
                    CDN's denial reference (a bare 403 stays an HTTP error);
``not_found``       a title or heading such as "Page not found";
``paywall``         a short page marked ``isAccessibleForFree: false``
                    (schema.org) or with two or more subscription phrases
                    ("subscribe to continue reading", "already a
                    subscriber");
``cookie_wall``     a short page with three or more consent phrases
                    ("accept all", "legitimate interest", "our partners"),
                    or fewer under a title such as "Before you continue".

Every rule but the vendor markers needs a short page: a main text of
`LONG_TEXT_WORDS` words or more is an article, whatever banners surround
it, and an article that merely discusses cookies or subscriptions reads as
one.  Only the first `SCAN_BYTES` of a body are examined, unless the page
comes parsed already (the tree extraction made of it, which is read whole
rather than parsing the page a second time).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import lxml.etree
import lxml.html

#: Bytes of a body examined; block pages are small, their markers early.
SCAN_BYTES = 512 * 1024
#: A main text this long is an article, never a block page.
LONG_TEXT_WORDS = 300
#: A cookie wall is shorter still: a consent notice and its buttons.
COOKIE_WALL_WORDS = 150

KINDS = {
    "challenge": "bot challenge",
    "access_denied": "access denied page",
    "not_found": "soft 404",
    "paywall": "paywall teaser",
    "cookie_wall": "cookie wall",
}


@dataclass(frozen=True, slots=True)
class Block:
    """A block page: its ``kind`` (a key of `KINDS`) and the evidence."""

    kind: str
    evidence: str

    def __str__(self) -> str:
        return f"{KINDS[self.kind]}: {self.evidence}"


# (vendor, kind, marker, clues): the marker is searched for only when one of
# its clues, lower-case literals it cannot match without, is in the
# lower-cased head.  A case-insensitive regular expression has no literal to
# skip ahead to and crawls through half a megabyte byte by byte (about 14 ms
# a page for the eight markers, on every page fetched); the clues cost a
# fast substring search each.
_VENDOR_MARKERS = (
    (
        "Cloudflare challenge",
        "challenge",
        rb"window\._cf_chl_opt|cf-browser-verification",
        (b"_cf_chl_opt", b"cf-browser-verification"),
    ),
    (
        "Cloudflare challenge",
        "challenge",
        rb"<title>\s*Just a moment\.\.\.\s*</title>",
        (b"just a moment",),
    ),
    (
        "Cloudflare block",
        "access_denied",
        rb"Attention Required! \| Cloudflare",
        (b"attention required!",),
    ),
    ("DataDome challenge", "challenge", rb"captcha-delivery\.com", (b"captcha-delivery",)),
    (
        "PerimeterX challenge",
        "challenge",
        rb"_pxCaptcha|px-captcha",
        (b"pxcaptcha", b"px-captcha"),
    ),
    (
        "Imperva challenge",
        "challenge",
        rb"_Incapsula_Resource|Incapsula incident ID",
        (b"incapsula",),
    ),
    ("Sucuri firewall", "access_denied", rb"Sucuri WebSite Firewall", (b"sucuri website",)),
    (
        "Akamai denial reference",
        "access_denied",
        rb"errors(?:&#46;|\.)edgesuite(?:&#46;|\.)net",
        (b"edgesuite",),
    ),
)
_HUMAN_CHECK = re.compile(
    r"enable javascript and cookies|please enable (?:javascript|cookies)|"
    r"verify (?:that )?you are (?:a )?human|are you a robot|complete the captcha",
    re.IGNORECASE,
)
_ACCESS_DENIED = re.compile(
    r"\baccess denied\b|^\s*(?:403\s*)?forbidden\b|\b403 forbidden\b|\brequest blocked\b|"
    r"\byou have been blocked\b|\bpermission denied\b|\bnot authori[sz]ed\b",
    re.IGNORECASE,
)
_NOT_FOUND = re.compile(
    r"\bpage not found\b|^\s*not found\b|\b404\b(?=\s*(?:$|[-|:–—]|error\b|page\b|not\b))|"
    r"\berror 404\b|\bcould(?:n'?t| not) find (?:that|the|this) page\b|"
    r"\bpage (?:does(?:n'?t| not) exist|(?:is )?no longer available)\b",
    re.IGNORECASE,
)
_PAYWALL = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\bsubscribe (?:now|today|to (?:continue|read|keep reading|unlock))\b",
        r"\bsubscribers? only\b|\bfor subscribers\b|\bexclusive to subscribers\b",
        r"\balready (?:a |an )?(?:subscriber|member)\b|\bexisting subscriber\b",
        r"\b(?:continue|keep) reading\b|\bread the full (?:article|story)\b",
        r"\b(?:sign|log) ?in to (?:read|continue)\b",
        r"\bpremium (?:content|article|story)\b|\bpaywall\b",
        r"\bunlock (?:this|the) (?:article|story)\b|\bunlimited access\b",
    )
)
_FREE_FALSE = re.compile(rb"\"isAccessibleForFree\"\s*:\s*\"?false", re.IGNORECASE)
_COOKIE = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\bcookies?\b",
        r"\bconsent(?:ing)?\b",
        r"\baccept all\b|\bi agree\b|\bagree and (?:close|continue)\b",
        r"\breject all\b|\brefuse all\b",
        r"\bmanage (?:your )?(?:preferences|choices|options|settings)\b|\bprivacy settings\b",
        r"\b(?:our|\d+) partners\b",
        r"\bpersonali[sz]ed (?:ads|advertising|content)\b",
        r"\blegitimate interest\b",
    )
)
_COOKIE_TITLE = re.compile(
    r"before you continue|we value your privacy|cookie (?:consent|settings|preferences)|"
    r"privacy (?:settings|choices)|consent",
    re.IGNORECASE,
)
_TITLE = re.compile(rb"<title[^>]*>(.{0,300}?)</title>", re.IGNORECASE | re.DOTALL)


def marked_not_free(body: bytes) -> bool:
    """Whether the page's schema.org metadata says the article is not free
    (``isAccessibleForFree: false``), read in its first `SCAN_BYTES`."""
    return _FREE_FALSE.search(body[:SCAN_BYTES]) is not None


def detect_block(
    *,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    title: str | None = None,
    text: str | None = None,
    tree: lxml.html.HtmlElement | None = None,
) -> Block | None:
    """The block page ``body`` is, or ``None`` for anything else.

    ``status`` is the HTTP status the page came with; ``headers`` are the
    response headers (any case); ``title`` and ``text``
    are the extracted title and main text, when the page was extracted;
    without ``text`` the page's visible text stands in for it.  ``tree`` is
    the page as extraction parsed it, read (and its script texts cleared)
    instead of parsing ``body`` again.
    """
    head = body[:SCAN_BYTES]
    vendor = vendor_block(headers, head)
    if vendor is not None:
        return vendor
    if text is not None and len(text.split()) >= LONG_TEXT_WORDS:
        return None  # an article, whatever surrounds it; no need to parse
    page = _Page(head, tree)
    main = text if text is not None else page.text
    words = len(main.split())
    if words >= LONG_TEXT_WORDS:
        return None
    titles = [t for t in (page.title, title, *page.headings) if t]
    visible = " ".join([*titles, main, page.text if text is not None and words < 50 else ""])
    if words < 80 and _HUMAN_CHECK.search(visible):
        return Block("challenge", f"page asks the reader to prove they are human ({words} words)")
    for candidate in titles:
        if _ACCESS_DENIED.search(candidate):
            return Block("access_denied", f"title {candidate[:80]!r}")
    for candidate in titles if status < 400 else ():  # a 404 proper is no soft 404
        if _NOT_FOUND.search(candidate):
            return Block("not_found", f"title {candidate[:80]!r}")
    if _FREE_FALSE.search(head):
        return Block("paywall", f"marked isAccessibleForFree false, {words} words readable")
    paywall = [p.pattern for p in _PAYWALL if p.search(visible)]
    if len(paywall) >= 2:
        return Block("paywall", f"{len(paywall)} subscription phrases, {words} words readable")
    if words < COOKIE_WALL_WORDS:
        cookie = sum(1 for p in _COOKIE if p.search(visible))
        walled = any(_COOKIE_TITLE.search(t) for t in titles)
        if cookie >= 3 or (walled and cookie >= 1):
            return Block("cookie_wall", f"{cookie} consent phrases, {words} words")
    return None


def vendor_block(headers: Mapping[str, str], body: bytes) -> Block | None:
    """The block page a CDN or bot-management vendor's header or markup
    shows, without parsing anything: cheap enough to run on every page."""
    lower = {k.lower(): v for k, v in headers.items()}
    if lower.get("cf-mitigated", "").strip().lower() == "challenge":
        return Block("challenge", "Cloudflare challenge (cf-mitigated header)")
    head = body[:SCAN_BYTES]
    # ASCII case folding, as re.IGNORECASE does for a bytes pattern.
    lowered = head.lower()
    for vendor, kind, marker, clues in _VENDOR_MARKERS:
        if any(clue in lowered for clue in clues) and re.search(marker, head, re.IGNORECASE):
            return Block(kind, vendor)
    return None


class _Page:
    """Title, ``<h1>`` headings and visible text of an HTML head slice, or
    of the page's ``root`` when it is parsed already."""

    def __init__(self, head: bytes, root: lxml.html.HtmlElement | None = None) -> None:
        match = _TITLE.search(head)
        self.title = _squash(match.group(1).decode("utf-8", "replace")) if match else None
        self.headings: list[str] = []
        self.text = ""
        if root is None:
            try:
                root = lxml.html.fromstring(head)
            except (ValueError, lxml.etree.LxmlError):
                return
        for element in root.iter("script", "style", "noscript", "template"):
            element.text = None
        self.headings = [_squash(h.text_content()) for h in root.iter("h1")][:5]
        self.text = _squash(root.text_content())


def _squash(value: str) -> str:
    return " ".join(value.split())
