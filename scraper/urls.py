"""URLs as identity: the canonical form of an article URL and its hash.

Two URLs that lead to the same article should give the same `canonical_url`
and so the same `url_hash`, the key that storage keeps unique.  The
canonical form:

* scheme and host lower-cased, the host IDNA-encoded, the scheme's default
  port dropped;
* percent-encoding normalised (upper-case escapes, unreserved characters
  decoded, non-ASCII characters UTF-8 encoded), dot segments resolved, an
  empty path written ``/``;
* the fragment dropped;
* tracking parameters removed (`TRACKING_PARAMS`, `TRACKING_PREFIXES`, and
  ``ref`` when its value is a label rather than a record id); the remaining
  query sorted by name, then value.

Everything else stays: the path exactly (a trailing slash included) and every
other query parameter, since ``?id=3`` and ``?p=123`` name the article on many
sites.  ``http`` and ``https`` stay distinct too: they are different URLs,
and a site that serves both usually redirects one to the other anyway.

w3lib does the parsing and re-encoding; courlan supplies the registrable
domain used to decide whether a page's ``rel=canonical`` can be trusted.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urljoin, urlsplit

from courlan import extract_domain
from w3lib.url import canonicalize_url, safe_url_string, url_query_cleaner

from config.schema import is_http_url

__all__ = ["canonical_url", "is_http_url", "same_site", "url_hash"]

#: Query parameters that only record how a reader arrived (click ids,
#: campaign, newsletter and share trackers), compared lower-cased.
TRACKING_PARAMS = frozenset(
    {
        # ad click ids: Google, Facebook, Microsoft, Yandex, X, TikTok, LinkedIn
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "fbclid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "igshid",
        "igsh",
        # newsletters and marketing automation: Mailchimp, HubSpot, Marketo,
        # Oracle Eloqua, Vero
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "__hstc",
        "__hssc",
        "__hsfp",
        "hsctatracking",
        "mkt_tok",
        "elqtrackid",
        "elqtrack",
        "vero_id",
        "vero_conv",
        # analytics cross-domain linkers
        "_ga",
        "_gl",
        # publishers' share and campaign tags (The Guardian, NYT, MSN, Yahoo,
        # ABC, Adobe, AT Internet, Outbrain)
        "cmp",
        "cmpid",
        "smid",
        "smtyp",
        "ocid",
        "ncid",
        "s_cid",
        "soc_src",
        "soc_trk",
        "xtor",
        "at_medium",
        "at_campaign",
        "oborigurl",
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
        "sr_share",
        "__twitter_impression",
        # referrer tags of embeds and widgets
        "ref_src",
        "ref_url",
    }
)

#: Prefixes of whole families of tracking parameters, compared lower-cased.
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "matomo_", "piwik_", "hmb_", "wt.", "oly_")

_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str, *, canonical_link: str | None = None) -> str:
    """The canonical form of ``url`` (see the module docstring).

    ``canonical_link`` is the page's ``rel=canonical`` link, absolute or
    relative to ``url``.  It replaces ``url`` only when, once resolved, it is
    an http(s) URL on the same registrable domain as ``url``
    (``www.example.co.uk`` and ``news.example.co.uk`` match, ``example.com``
    and ``example.net`` do not); otherwise it is ignored, since a hostile or
    misconfigured page could otherwise claim another site's article.

    Spaces and non-ASCII characters are escaped first, as a browser would.
    A ``url`` that is not an absolute http(s) URL has no canonical form: it
    comes back with only surrounding white space removed, for the validate
    stage to reject.
    """
    url = url.strip()
    safe = _http_url(url)
    if safe is None:
        return url
    if canonical_link and canonical_link.strip():
        candidate = _http_url(urljoin(safe, canonical_link.strip()))
        if candidate is not None and same_site(safe, candidate):
            safe = candidate
    return _normalise(safe)


def url_hash(canonical: str) -> str:
    """SHA-1 hex digest of a canonical URL (its UTF-8 bytes)."""
    return hashlib.sha1(canonical.encode("utf-8")).hexdigest()


def same_site(a: str, b: str) -> bool:
    """Whether two http(s) URLs are on the same registrable domain.

    Hosts without one (IP addresses, ``localhost``, unknown suffixes) match
    only themselves.
    """
    domain_a, domain_b = extract_domain(a), extract_domain(b)
    if domain_a and domain_b:
        return domain_a == domain_b
    return (urlsplit(a).hostname or "") == (urlsplit(b).hostname or "")


def is_tracking_param(name: str, value: str) -> bool:
    """Whether the query parameter ``name=value`` only tracks the reader.

    ``ref`` is tracking when its value is a label (``ref=rss``,
    ``ref=example.com``), as blogs and newsletters append it; a numeric value
    (``ref=48213``) is kept, since older CMSs use ``ref`` as the article id.
    """
    key = name.lower()
    if key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES):
        return True
    return key == "ref" and not value.isdigit()


def _http_url(url: str) -> str | None:
    """``url`` escaped as a browser would send it (spaces, non-ASCII), when
    it is then an http(s) URL."""
    try:
        safe = safe_url_string(url)
    except ValueError:  # a port out of range, a broken IPv6 literal
        return None
    return safe if is_http_url(safe) else None


def _normalise(url: str) -> str:
    # w3lib lower-cases the host, sorts the query, normalises escapes and
    # drops the fragment; the default port and trackers are left to us.
    url = canonicalize_url(url)
    parts = urlsplit(url)
    if parts.port is not None and parts.port == _DEFAULT_PORTS.get(parts.scheme):
        host, _, _ = parts.netloc.rpartition(":")
        url = parts._replace(netloc=host).geturl()
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    tracking = {name for name, value in pairs if is_tracking_param(name, value)}
    if tracking:
        # unique=False keeps repeated parameters (``tag=a&tag=b``).
        url = url_query_cleaner(url, sorted(tracking), remove=True, unique=False)
    return url
