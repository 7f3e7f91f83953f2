"""Publishing to WordPress through its REST API (``/wp-json/wp/v2``).

`WordPressClient` speaks the documented contract: Basic authentication with
an application password (``Authorization: Basic base64(user:password)``),
``POST /posts`` to create a post (``title``, ``content``, ``excerpt``,
``status`` "draft" or "publish", ``date_gmt``, ``categories``, ``tags`` as
term ids), ``POST /posts/<id>`` to update one, ``GET /categories?search=``
and ``POST /categories`` (same for ``/tags``) to find or create terms; an
error is a JSON body ``{"code", "message", "data": {"status"}}``, and
creating an existing term answers ``term_exists`` with its ``term_id``.

`publish_to_wordpress` copies the site's record there, each item once:

* every approved or published story not yet on that WordPress site becomes
  a post (a draft with ``draft=True``), categories from its topics and tags
  from its matched terms; a story not yet posted on the site is recorded as
  posted when its WordPress post is published, dated as WordPress dated it;
  one already posted keeps its date;
* a draft made earlier is published (not made again) by a later run without
  ``draft``;
* each digest on the site record becomes a post too (``digests=True``).

Each copy is recorded (target ``wordpress:<site URL>``, the remote post id
and status) right after WordPress answers, so a second run creates nothing.
Titles, excerpts and term names are sent HTML-escaped
(`digest.text.wordpress_text`, as the WXR export writes them), as WordPress
shows them as HTML.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from digest.entries import Post, single_post
from digest.publisher import posts_of
from digest.render import Renderer
from digest.text import wordpress_text
from storage import Store
from storage.publishing import SITE

#: The environment variable holding the WordPress application password.
PASSWORD_ENV = "PRESSCUT_WORDPRESS_PASSWORD"

#: Seconds before a WordPress request is given up.
TIMEOUT = 30.0


class WordPressError(Exception):
    """WordPress refused or could not be reached; the message names the site,
    the request and WordPress's own error code and message.  ``code`` and
    ``data`` are WordPress's (empty when it did not answer)."""

    def __init__(self, message: str, code: str = "", data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.data = data or {}


class WordPressClient:
    """The REST calls presscut makes, on one site as one user."""

    def __init__(
        self,
        site: str,
        user: str,
        password: str,
        *,
        timeout: float = TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        self.site = site.rstrip("/")
        self.api = f"{self.site}/wp-json/wp/v2"
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.auth = (user, password)
        self.session.headers["User-Agent"] = "presscut (WordPress publisher)"
        self._terms: dict[tuple[str, str], int] = {}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API request; the decoded JSON answer, or `WordPressError`."""
        where = f"{self.site}: {method} {path}"
        try:
            response = self.session.request(
                method, f"{self.api}{path}", timeout=self.timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise WordPressError(f"{where}: {exc}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            if isinstance(body, dict) and "code" in body:
                code, data = str(body["code"]), body.get("data") or {}
                detail = f"{code}: {body.get('message', '')}"
            else:
                code, data, detail = "", {}, response.reason
            raise WordPressError(
                f"{where}: HTTP {response.status_code} {detail}",
                code,
                data if isinstance(data, dict) else {},
            )
        if body is None:
            raise WordPressError(f"{where}: the answer is not JSON (is this a WordPress site?)")
        return body

    def whoami(self) -> str:
        """The authenticated user's name: checks the credentials."""
        return str(self.call("GET", "/users/me", params={"context": "edit"})["name"])

    def term_id(self, taxonomy: str, name: str) -> int:
        """Id of the term ``name`` in ``taxonomy`` ("categories" or "tags"),
        created when missing."""
        key = (taxonomy, name.casefold())
        if key in self._terms:
            return self._terms[key]
        found = self.call("GET", f"/{taxonomy}", params={"search": name, "per_page": 100})
        for term in found:
            # WordPress answers names HTML-escaped ("A &amp; B").
            if html.unescape(term["name"]).casefold() == name.casefold():
                self._terms[key] = int(term["id"])
                return self._terms[key]
        try:
            created = self.call("POST", f"/{taxonomy}", json={"name": wordpress_text(name)})
            term_id = int(created["id"])
        except WordPressError as exc:
            # The search missed it (another writer, or a name WordPress
            # folds differently): the refusal carries the existing id.
            if exc.code != "term_exists" or "term_id" not in exc.data:
                raise
            term_id = int(exc.data["term_id"])
        self._terms[key] = term_id
        return term_id

    def create_post(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Create a post; WordPress's representation of it."""
        return dict(self.call("POST", "/posts", json=fields))

    def update_post(self, post_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Update post ``post_id``; WordPress's representation of it."""
        return dict(self.call("POST", f"/posts/{post_id}", json=fields))


@dataclass
class WordPressReport:
    """What a run did: ``(action, kind, title, remote id)`` per post, action
    "created" or "published" (a draft made earlier)."""

    done: list[tuple[str, str, str, str]] = field(default_factory=list)


def target_of(site: str) -> str:
    """The publication target naming a WordPress site."""
    return f"wordpress:{site.rstrip('/')}"


def _gmt(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _posted(remote: dict[str, Any], fallback: datetime) -> datetime:
    stamp = remote.get("date_gmt")
    if not stamp:
        return fallback
    return datetime.fromisoformat(stamp).replace(tzinfo=UTC)


def _fields(
    client: WordPressClient, renderer: Renderer, post: Post, status: str
) -> dict[str, Any]:
    topics = dict.fromkeys(t for e in post.entries for t in e.topics)
    terms = dict.fromkeys(t for e in post.entries for t in e.matched_terms)
    fields: dict[str, Any] = {
        "title": wordpress_text(post.title),
        "content": renderer.wordpress_content(post),
        "status": status,
        "categories": [client.term_id("categories", t) for t in topics],
        "tags": [client.term_id("tags", t) for t in terms],
    }
    if post.kind == "post" and post.entries:
        fields["excerpt"] = wordpress_text(post.entries[0].excerpt)
    if post.posted_at is not None and status == "publish":
        fields["date_gmt"] = _gmt(post.posted_at)
    return fields


def publish_to_wordpress(
    store: Store,
    renderer: Renderer,
    client: WordPressClient,
    *,
    draft: bool = False,
    digests: bool = True,
    topic_order: Sequence[str] = (),
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> WordPressReport:
    """Copy what is not yet on ``client``'s site there (module docstring)."""
    target = target_of(client.site)
    status = "draft" if draft else "publish"
    report = WordPressReport()
    if not draft:
        _publish_drafts(store, renderer, client, target, report, now)

    for clipping_id, clipping in store.pending_entries(target, "post"):
        cluster = clipping.cluster or clipping.url_hash or ""
        site_post = store.published_by_cluster(SITE, "post", [cluster]).get(cluster)
        if site_post is not None:
            post = posts_of(store, [site_post])[0]
            clipping_id = site_post.items[0]
        else:
            post = single_post(clipping_id, clipping)
        remote = client.create_post(_fields(client, renderer, post, status))
        copy_id = store.record_publication(
            kind="post",
            target=target,
            title=post.title,
            posted_at=_posted(remote, now()),
            items=[(clipping_id, cluster)],
            copy_of=site_post.id if site_post else None,
            remote=(str(remote["id"]), str(remote.get("status", status)), remote.get("link")),
        )
        report.done.append(("created", "post", post.title, str(remote["id"])))
        if site_post is None and not draft:
            _record_site_post(store, copy_id, clipping_id, _posted(remote, now()), remote)

    if digests:
        copied = store.remote_copies(target)
        for digest in store.publications(SITE, "digest")[::-1]:
            if digest.id in copied:
                continue
            post = renderer.groups(posts_of(store, [digest])[0], topic_order)
            remote = client.create_post(_fields(client, renderer, post, status))
            store.record_publication(
                kind="digest",
                target=target,
                title=digest.title,
                posted_at=_posted(remote, now()),
                items=[],
                copy_of=digest.id,
                remote=(str(remote["id"]), str(remote.get("status", status)), remote.get("link")),
            )
            report.done.append(("created", "digest", digest.title, str(remote["id"])))
    return report


def _record_site_post(
    store: Store, copy_id: int, clipping_id: int, posted_at: datetime, remote: dict[str, Any]
) -> None:
    clipping = store.get_clipping(clipping_id)
    assert clipping is not None
    (site_id,) = store.record_posts([(clipping_id, clipping, posted_at)])
    store.update_remote_copy(
        copy_id,
        status=str(remote.get("status", "publish")),
        url=remote.get("link"),
        copy_of=site_id,
    )


def _publish_drafts(
    store: Store,
    renderer: Renderer,
    client: WordPressClient,
    target: str,
    report: WordPressReport,
    now: Callable[[], datetime],
) -> None:
    """Publish the drafts an earlier ``--draft`` run left, and record as
    posted the published copies whose site record is missing."""
    for copy in store.publications(target)[::-1]:
        if copy.remote_id is None or (copy.remote_status == "publish" and copy.copy_of):
            continue
        if copy.remote_status != "publish":
            fields: dict[str, Any] = {"status": "publish"}
            site = store.publication(copy.copy_of) if copy.copy_of else None
            if site is not None:
                fields["date_gmt"] = _gmt(site.posted_at)
            remote = client.update_post(copy.remote_id, fields)
            report.done.append(("published", copy.kind, copy.title, copy.remote_id))
        else:
            remote = {"status": "publish", "link": copy.remote_url}
        if copy.copy_of is None and copy.kind == "post" and copy.items:
            _record_site_post(store, copy.id, copy.items[0], _posted(remote, now()), remote)
        else:
            store.update_remote_copy(copy.id, status="publish", url=remote.get("link"))
