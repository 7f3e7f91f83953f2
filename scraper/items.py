"""The `Clipping`: the one record that flows from spider to pipelines, storage,
review UI and digest.

This module imports only the standard library, so that storage, the web UI and
the digest renderers can use it without Scrapy.

Conventions for every field:

* text fields are plain Unicode text, never HTML; ``None`` means "not known";
* datetimes are timezone-aware (``tzinfo`` is never ``None``);
* a ``*_raw`` field keeps the value exactly as found, its normalised twin is
  what the rest of presscut uses, and a ``*_from`` field names where the value
  came from, one of `PROVENANCES`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: Where a field's value came from.  ``feed`` is the feed entry, ``json-ld``,
#: ``opengraph`` and ``meta`` the page's own metadata, ``trafilatura`` the
#: extractor's reading of the page (``trafilatura-recall`` its recall mode),
#: ``byline`` an author element in the page body (`scraper.bylines`),
#: ``feed-summary`` the feed entry's summary (its full content is ``feed``),
#: ``topic``/``lead`` the excerpt picker, ``import`` a hand-added clipping
#: and ``curator`` an edit in review.
PROVENANCES = (
    "feed",
    "json-ld",
    "opengraph",
    "meta",
    "trafilatura",
    "trafilatura-recall",
    "byline",
    "feed-summary",
    "url",
    "topic",
    "lead",
    "import",
    "curator",
)

#: Why a stored clipping waits under "needs text" (`Clipping.flags`):
#: ``short_text`` its text has fewer words than an article
#: (`scraper.extract.MIN_TEXT_WORDS`); ``paywalled`` the page marks the
#: article as not free (``isAccessibleForFree: false``) or was a paywall
#: teaser: its text is the lead; ``blocked`` the site walled the article
#: off ("access denied", a cookie wall, a 401, 403 or 451, a bot challenge
#: that stayed for three rounds): its text is the feed's.
#: A curator who supplies the text clears them.
TEXT_FLAGS = ("short_text", "paywalled", "blocked")

#: Review states; a clipping moves new -> approved | rejected -> published.
STATUSES = ("new", "approved", "rejected", "published")

#: What became of a source's entry in a round: the one outcome vocabulary,
#: recorded in the seen-entry log (`storage.entries`), carried by a stage's
#: drop (`scraper.errors.Drop`) and counted per source in a round's report.
#: ``stored`` became a clipping; ``duplicate`` has the URL or body of a stored
#: clipping of its source; ``off_topic`` matched none of its source's topics;
#: ``invalid`` failed validation; ``out_of_window`` was published before its
#: source's ``since`` window; ``blocked`` was refused by robots.txt (or,
#: logged by earlier versions, a block page); ``failed`` could not be
#: fetched or read, and is retried (it does not settle an entry: see
#: `RETRY_OUTCOMES`); ``given_up`` could not be fetched and never will be
#: tried again: a permanent failure (404, 410, a soft 404, not HTML, over the
#: size cap, a redirect loop) or a transient one that outlasted every retry
#: (`scraper.retries`); ``pending`` was listed but not fetched this round
#: (past the per-round cap, held back by the round budget or its host's wait,
#: unanswered when the round stopped): no failure, fetched in a later round.
OUTCOMES = (
    "stored",
    "duplicate",
    "off_topic",
    "invalid",
    "out_of_window",
    "blocked",
    "failed",
    "pending",
    "given_up",
)

#: Outcomes that do not settle an entry: it is fetched again in a later round.
RETRY_OUTCOMES = frozenset({"failed", "pending"})

#: A round's per-source counts, in report order: the same codes, except that a
#: stored entry is counted as ``new`` (a new clipping for review), and
#: ``blocked`` entries, logged one by one, get no column, nor do ``given_up``
#: ones: a round counts each failed fetch as ``failed``, given up or not.
ROUND_OUTCOMES = tuple(
    "new" if o == "stored" else o for o in OUTCOMES if o not in ("blocked", "given_up")
)


@dataclass(kw_only=True, slots=True)
class Clipping:
    """One article as a clipping: what a curator reviews and a digest cites.

    Invariants once the ``normalize`` stage has run: ``canonical_url`` and
    ``url_hash`` are set, ``authors`` holds person names only (no "By", no
    e-mail, no site name), ``published_at`` is timezone-aware, ``text`` is
    plain text with paragraphs separated by a single ``"\\n"``.
    """

    url: str
    """Absolute http(s) URL the article was fetched from, after redirects."""

    source_id: str | None = None
    """Id of the configured source that found the article (``sources[].id``)."""
    outlet: str | None = None
    """Outlet name as it is cited ("The Balkanista"), from the source config."""

    canonical_url: str | None = None
    """The URL in canonical form (tracking parameters and fragment removed,
    host lower-cased, ``rel=canonical`` honoured); the primary identity key."""
    url_hash: str | None = None
    """SHA-1 hex digest of ``canonical_url``: the indexed unique key."""
    entry_key: str | None = None
    """Identity of the feed entry: its GUID, else its link, else a hash of its
    title and summary.  Unique per source."""
    feed_url: str | None = None
    """URL of the feed, sitemap or listing page the entry was found on."""

    title: str | None = None
    """The article's own title, as the outlet published it."""
    title_from: str | None = None
    headline: str | None = None
    """The post headline a curator gives the clipping; defaults to ``title``."""

    authors: list[str] = field(default_factory=list)
    """Person names, in byline order."""
    authors_raw: str | None = None
    """The byline as found ("By Alice Taylor and Bob Roe | Staff")."""
    authors_from: str | None = None

    published_at: datetime | None = None
    """Publication time, timezone-aware."""
    published_raw: str | None = None
    """The date string as found ("2019-09-17T10:02:00+02:00", "Sept 17, 2019")."""
    published_from: str | None = None

    credit: str | None = None
    """Wire agencies the byline credits beside its authors ("AFP", "dpa;
    Reuters"), as written, several joined with "; "."""
    candidates: dict[str, Any] = field(default_factory=dict)
    """Every value found for ``title``, ``authors`` and ``date``, each with
    its provenance, and the confidence of each pick (format:
    `scraper.credits`); empty for a clipping not read from a page."""
    doubts: list[str] = field(default_factory=list)
    """The credit fields (``title``, ``authors``, ``date``) whose pick is
    of low confidence (`scraper.credits.LOW_CONFIDENCE`): the desk flags
    the clipping "low-confidence"."""

    language: str | None = None
    """ISO 639-1 code ("en", "de"), when known."""
    language_from: str | None = None

    text: str = ""
    """Main text of the article, plain text, paragraphs separated by "\\n"."""
    text_from: str | None = None
    flags: list[str] = field(default_factory=list)
    """Codes of `TEXT_FLAGS`: why the text is not (all of) the article;
    empty when it is."""
    excerpt: str | None = None
    """A verbatim passage of ``text``: whole sentences around the strongest
    topic match, about 60-140 words; the lead when no topic applies."""
    excerpt_from: str | None = None

    topics: list[str] = field(default_factory=list)
    """Names of the configured topics the article matched."""
    matched_terms: list[str] = field(default_factory=list)
    """The include terms that matched, as configured, each listed once."""

    content_hash: str | None = None
    """SHA-1 hex digest of the normalised text (case and white space folded)."""
    simhash: int | None = None
    """64-bit SimHash of ``text`` as an unsigned int, for near-duplicates."""
    cluster: str | None = None
    """Syndication cluster key: the ``url_hash`` of the first clipping seen
    with this body.  Every clipping is in exactly one cluster."""

    status: str = "new"
    """Review state, one of `STATUSES`."""
    fetched_at: datetime | None = None
    """When the article page was fetched (or the clipping imported)."""

    via: str | None = None
    """Who relayed the piece when the clipping cites a transcription or
    translation rather than the original ("Iran Interlink" transcribing an
    interview by Asieh Namdar on CGTN); cited as "<via> from <authors>"."""
    excerpt_paraphrased: bool = False
    """True when a curator deliberately made ``excerpt`` a paraphrase, so it
    is not a verbatim passage of ``text``."""
    rejection_reason: str | None = None
    """Why a curator rejected the clipping (plain text); set with ``rejected``."""
    posted_at: datetime | None = None
    """When the clipping's post went out on the publication's site,
    timezone-aware.  On a clipping not yet published: the date its post is to
    carry when it is (a back-dated import)."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: datetimes as ISO 8601 strings with offset."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, list):
                value = list(value)
            elif isinstance(value, dict):
                value = dict(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Clipping:
        """Inverse of `to_dict`; unknown keys are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        for key in ("published_at", "fetched_at", "posted_at"):
            if isinstance(kwargs.get(key), str):
                kwargs[key] = datetime.fromisoformat(kwargs[key])
        return cls(**kwargs)

    def provenance(self) -> dict[str, str | None]:
        """Where each sourced field came from, keyed by field name."""
        return {
            "title": self.title_from,
            "authors": self.authors_from,
            "date": self.published_from,
            "language": self.language_from,
            "text": self.text_from,
            "excerpt": self.excerpt_from,
        }
