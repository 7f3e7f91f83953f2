"""WordPress eXtended RSS (WXR 1.2) export of the site's posts and digests.

The file WordPress's importer (Tools > Import > WordPress) reads: RSS 2.0
with the ``wp``, ``content``, ``excerpt``, ``dc`` and ``wfw`` namespaces.
It holds every publication on the site record, oldest first:

* ``wp:post_id`` is the publication id; ``guid`` (not a permalink) is
  ``presscut-publication-<id>`` so a second import is recognised;
* ``content:encoded`` is the post's HTML fragment (the ``wordpress.html``
  template: autoescaped, no scraped markup); ``title``, ``excerpt:encoded``
  (the quoted passage) and category and tag names are HTML-escaped with
  `digest.text.wordpress_text`, as the REST publisher sends them, because
  WordPress stores them as HTML and themes print them as they are;
* every string goes through `digest.text.xml_text`: a control character in
  a clipping is dropped, never a reason for the export to fail;
* ``wp:post_date`` is the posted date in the publication's time zone,
  ``wp:post_date_gmt`` in UTC;
* topics are categories, matched terms tags, each declared once in the
  channel with a slug (``nicename``, python-slugify: "πλημμύρα" becomes
  "plemmura", not a shared placeholder);
* the author is ``[wordpress] user`` (else a slug of the publication name).

The output depends on the stored data and the settings only: exporting again
writes the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from lxml import etree
from slugify import slugify

from digest.entries import Post
from digest.render import Renderer, safe_url
from digest.text import wordpress_text, xml_text

NS = {
    "excerpt": "http://wordpress.org/export/1.2/excerpt/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "wfw": "http://wellformedweb.org/CommentAPI/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "wp": "http://wordpress.org/export/1.2/",
}
WXR_VERSION = "1.2"


def slug(text: str) -> str:
    """A WordPress-style slug: ASCII, lower case, hyphens ("Foreign policy" ->
    "foreign-policy"), other scripts transliterated ("πλημμύρα" ->
    "plemmura"); "item" when nothing is left."""
    return slugify(xml_text(text), max_length=200) or "item"


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    prefix, _, name = tag.rpartition(":")
    qname = f"{{{NS[prefix]}}}{name}" if prefix else name
    node = etree.SubElement(parent, qname, {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        node.text = xml_text(text)
    return node


def _cdata(parent: etree._Element, tag: str, html: str) -> None:
    # Escaped HTML holds no "]]>" ('>' is escaped), so CDATA is safe.
    _el(parent, tag).text = etree.CDATA(xml_text(html))


def _rfc822(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def _wp_date(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def wxr_document(renderer: Renderer, posts: Sequence[Post], author: str) -> bytes:
    """The WXR file (UTF-8 bytes) for ``posts`` (site publications, any
    order), authored by login ``author``."""
    publication = renderer.settings.publication
    site = publication.url or "http://localhost/"
    ordered = sorted(posts, key=lambda p: (p.posted_at or datetime.min.replace(tzinfo=UTC), p.id))
    rss = etree.Element("rss", {"version": "2.0"}, nsmap=NS)  # type: ignore[arg-type]
    channel = _el(rss, "channel")
    _el(channel, "title", publication.name)
    _el(channel, "link", site)
    _el(channel, "description", publication.description)
    if ordered and ordered[-1].posted_at:
        _el(channel, "pubDate", _rfc822(ordered[-1].posted_at))
    _el(channel, "language", "en")
    _el(channel, "wp:wxr_version", WXR_VERSION)
    _el(channel, "wp:base_site_url", site)
    _el(channel, "wp:base_blog_url", site)
    person = _el(channel, "wp:author")
    _el(person, "wp:author_id", "1")
    _el(person, "wp:author_login", author)
    _el(person, "wp:author_email", publication.email)
    _el(person, "wp:author_display_name", publication.name)

    categories = sorted({t for p in posts for e in p.entries for t in e.topics})
    for number, name in enumerate(categories, start=1):
        term = _el(channel, "wp:category")
        _el(term, "wp:term_id", str(number))
        _el(term, "wp:category_nicename", slug(name))
        _el(term, "wp:category_parent", "")
        _el(term, "wp:cat_name", wordpress_text(name))

    for post in ordered:
        _item(channel, renderer, post, author)
    return bytes(etree.tostring(rss, pretty_print=True, xml_declaration=True, encoding="UTF-8"))


def _item(channel: etree._Element, renderer: Renderer, post: Post, author: str) -> None:
    item = _el(channel, "item")
    posted = post.posted_at or datetime(1970, 1, 1, tzinfo=UTC)
    _el(item, "title", wordpress_text(post.title))
    if post.kind == "post" and post.entries:
        _el(item, "link", safe_url(post.entries[0].url))
    _el(item, "pubDate", _rfc822(posted))
    _el(item, "dc:creator", author)
    _el(item, "guid", f"presscut-publication-{post.id}", isPermaLink="false")
    _el(item, "description", "")
    _cdata(item, "content:encoded", renderer.wordpress_content(post))
    excerpt = post.entries[0].excerpt if post.kind == "post" and post.entries else ""
    _cdata(item, "excerpt:encoded", wordpress_text(excerpt))
    _el(item, "wp:post_id", str(post.id))
    _el(item, "wp:post_date", _wp_date(posted.astimezone(renderer.tz)))
    _el(item, "wp:post_date_gmt", _wp_date(posted.astimezone(UTC)))
    _el(item, "wp:comment_status", "closed")
    _el(item, "wp:ping_status", "closed")
    _el(item, "wp:post_name", slug(post.title))
    _el(item, "wp:status", "publish")
    _el(item, "wp:post_parent", "0")
    _el(item, "wp:menu_order", "0")
    _el(item, "wp:post_type", "post")
    _el(item, "wp:post_password", "")
    _el(item, "wp:is_sticky", "0")
    topics = dict.fromkeys(t for e in post.entries for t in e.topics)
    for name in topics:
        _el(item, "category", wordpress_text(name), domain="category", nicename=slug(name))
    terms = dict.fromkeys(t for e in post.entries for t in e.matched_terms)
    for name in terms:
        _el(item, "category", wordpress_text(name), domain="post_tag", nicename=slug(name))
