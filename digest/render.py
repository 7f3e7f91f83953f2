"""Rendering posts, digests and the archive with Jinja2, in every format.

Formats (`FORMATS`): ``html`` (a whole page, or with ``fragment=True`` the
content alone, to paste into a site), ``md`` (Markdown), ``txt`` (plain
text, the seed page's format) and ``json``.  Views: ``post`` (one clipping),
``digest`` (a period's clippings) and ``archive`` (published posts, newest
first).

Templates are looked up by name, ``<view>.<format>`` (plus ``entry.*``,
``page.html``), first in the folder ``[publishing] templates`` names
(relative to the config folder), then in the bundled ``digest/templates``,
so a site overrides one file and keeps the rest.  Dates go through the
filters ``posted_date``, ``article_date`` and ``digest_date`` with the
configured ``strftime`` formats, in the publication's time zone.

Safety: scraped text is plain text but hostile; HTML templates autoescape
everything (``| safe`` is never applied to scraped values), Markdown
templates pass every scraped value through ``md`` (backslash-escapes
Markdown and HTML syntax) and URLs through ``md_url`` / ``safe_url`` (only
http(s) URLs are linked).  Rendering reads no clock: the same stored data
renders the same bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined
from markupsafe import Markup
from w3lib.url import safe_url_string

from config.schema import Settings
from digest.dates import period_label_day, zone
from digest.entries import Entry, Post, by_topic
from digest.selection import span_label
from scraper.text import clean_text
from scraper.urls import is_http_url

FORMATS = ("html", "md", "txt", "json")
VIEWS = ("post", "digest", "archive")

# CommonMark punctuation that can start markup anywhere in a line; a
# backslash makes each literal.  "." "-" "+" ")" only matter at a line start,
# where our templates never put scraped text.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#!|~&])")
# Characters a Markdown link destination cannot hold unencoded.
_URL_SAFE = ":/?#@!$&'*+,;=%~-._[]"


def md_escape(value: object) -> str:
    """``value`` as literal Markdown text: specials backslash-escaped, line
    breaks folded (a scraped newline must not start a block)."""
    text = " ".join(str(value).split()) if value is not None else ""
    return _MD_SPECIAL.sub(r"\\\1", text)


def safe_url(url: str) -> str:
    """``url`` percent-encoded where it must be (w3lib) if it is an http(s)
    URL, else empty: no ``javascript:`` link.  Characters no URL can carry
    (a lone surrogate) are dropped first (`clean_text`)."""
    url = clean_text(url)
    return safe_url_string(url) if is_http_url(url) else ""


def md_url(url: str) -> str:
    """A link destination for Markdown: `safe_url`, with the parentheses
    that would end a Markdown link percent-encoded too."""
    return quote(safe_url(url), safe=_URL_SAFE)


class Renderer:
    """Renders views with the configured templates, formats and zone."""

    def __init__(self, settings: Settings, config_dir: Path | None = None) -> None:
        self.settings = settings
        self.tz: tzinfo = zone(settings.publication.timezone)
        folder = settings.publishing.templates
        loaders: list[Any] = []
        if folder:
            path = Path(folder)
            if not path.is_absolute() and config_dir is not None:
                path = config_dir / path
            if not path.is_dir():
                raise FileNotFoundError(f"[publishing] templates: no folder {path}")
            loaders.append(FileSystemLoader(path))
        loaders.append(PackageLoader("digest", "templates"))
        loader = ChoiceLoader(loaders)
        self._envs = {
            "html": self._environment(loader, autoescape=True),
            "md": self._environment(loader, autoescape=False),
            "txt": self._environment(loader, autoescape=False),
        }

    def _environment(self, loader: ChoiceLoader, autoescape: bool) -> Environment:
        env = Environment(
            loader=loader,
            autoescape=autoescape,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        fmt = self.settings.publishing
        env.filters.update(
            posted_date=lambda d: self.date(d, fmt.posted_date_format),
            article_date=lambda d: self.date(d, fmt.article_date_format),
            digest_date=lambda d: self.date(d, fmt.digest_date_format),
            period_day=lambda d: period_label_day(d, self.tz) if d else None,
            byline=self.byline,
            iso=lambda d: d.isoformat() if d else "",
            md=md_escape,
            md_url=md_url,
            safe_url=safe_url,
        )
        env.globals["publication"] = self.settings.publication
        return env

    def date(self, value: datetime | Any, fmt: str) -> str:
        """``value`` (a datetime, shown in the publication's zone, or a
        date) in ``fmt``; empty for ``None``."""
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(self.tz)
        return str(value.strftime(fmt))

    def byline(self, item: Entry) -> str:
        """ "Alice Taylor, The Balkanista, September 17 2019": credit, outlet
        and article date, those that are known."""
        date = self.date(item.published_at, self.settings.publishing.article_date_format)
        return ", ".join(part for part in (item.credit, item.outlet or "", date) if part)

    def digest_title(self, end: datetime) -> str:
        """The title of a digest for a period ending (exclusively) at ``end``."""
        day = period_label_day(end, self.tz)
        publishing = self.settings.publishing
        return publishing.digest_title.format(
            name=self.settings.publication.name,
            date=day.strftime(publishing.digest_date_format),
        )

    def span_title(self, first: datetime, last: datetime) -> str:
        """The title of a digest of the stories dated ``first`` to ``last``:
        "{name} Digest – {first} to {last}" (one date when they share a day)."""
        span = span_label(first, last, self.tz, self.settings.publishing.digest_date_format)
        return f"{self.settings.publication.name} Digest – {span}"

    def groups(self, post: Post, topic_order: Sequence[str]) -> Post:
        """``post`` with its entries grouped by topic when the configured
        digest order is "topic"."""
        if self.settings.publishing.digest_order != "topic":
            return post
        return replace(post, groups=by_topic(post.entries, topic_order))

    # -- views -------------------------------------------------------------------

    def post(self, post: Post, fmt: str, fragment: bool = False) -> str:
        """One clipping's post."""
        return self._render("post", fmt, fragment, post.title, post=post)

    def digest(self, post: Post, fmt: str, fragment: bool = False) -> str:
        """A digest post; entries grouped when ``post.groups`` is set."""
        groups = post.groups or (("", post.entries),)
        return self._render("digest", fmt, fragment, post.title, post=post, groups=groups)

    def archive(self, posts: Sequence[Post], fmt: str, fragment: bool = False) -> str:
        """Published posts and digests, in the order given (newest first)."""
        title = f"Author: {self.settings.publication.name}"
        return self._render("archive", fmt, fragment, title, posts=list(posts))

    def wordpress_content(self, post: Post) -> str:
        """The HTML body of a WordPress post (title and date are separate
        fields there): template ``wordpress.html``."""
        groups = post.groups or (("", post.entries),)
        return self._envs["html"].get_template("wordpress.html").render(post=post, groups=groups)

    def _render(self, view: str, fmt: str, fragment: bool, title: str, **context: Any) -> str:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
        if fmt == "json":
            return self._json(view, **context)
        env = self._envs[fmt]
        body = env.get_template(f"{view}.{fmt}").render(**context)
        if fmt != "html" or fragment:
            return body
        return env.get_template("page.html").render(title=title, view=view, content=Markup(body))

    # -- JSON --------------------------------------------------------------------

    def _json(self, view: str, **context: Any) -> str:
        pub = self.settings.publication
        out: dict[str, Any] = {
            "view": view,
            "publication": {"name": pub.name, "url": pub.url or None},
        }
        if view == "archive":
            out["posts"] = [self._post_json(p) for p in context["posts"]]
        else:
            out["post"] = self._post_json(context["post"])
        return json.dumps(out, ensure_ascii=False, indent=2) + "\n"

    def _post_json(self, post: Post) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": post.kind,
            "id": post.id,
            "title": post.title,
            "posted_at": _iso(post.posted_at),
        }
        if post.kind == "digest":
            out["period_start"] = _iso(post.period_start)
            out["period_end"] = _iso(post.period_end)
        out["entries"] = [self._entry_json(e) for e in post.entries]
        if post.groups:
            out["groups"] = [
                {"topic": topic, "entries": [e.id for e in entries]}
                for topic, entries in post.groups
            ]
        return out

    def _entry_json(self, item: Entry) -> dict[str, Any]:
        return {
            "id": item.id,
            "headline": item.headline,
            "title": item.title,
            "url": item.url,
            "byline": self.byline(item),
            "authors": list(item.authors),
            "via": item.via,
            "outlet": item.outlet,
            "published_at": _iso(item.published_at),
            "excerpt": item.excerpt,
            "excerpt_paraphrased": item.paraphrased,
            "topics": list(item.topics),
            "cluster": item.cluster,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
