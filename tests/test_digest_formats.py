"""Every publishing format against its golden file, and the safety of each.

The golden files in tests/fixtures/digest/ are what the commands write for
the sample of tests/publishing.py (posted, with a digest of 2019-W38).
After a deliberate change of the output, regenerate them with

    PRESSCUT_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_digest_formats.py

and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import feedparser
import pytest
from lxml import etree, html
from markdown_it import MarkdownIt

from tests.publishing import SAMPLE, ok, published_sample

GOLDEN = Path(__file__).resolve().parent / "fixtures" / "digest"
UPDATE = os.environ.get("PRESSCUT_UPDATE_GOLDEN") == "1"

#: golden file -> command arguments (before --config).
OUTPUTS: dict[str, tuple[str, ...]] = {
    "post.html": ("post", "3", "--format", "html"),
    "post.fragment.html": ("post", "3", "--format", "html", "--fragment"),
    "post.md": ("post", "3", "--format", "md"),
    "post.txt": ("post", "3", "--format", "txt"),
    "post.json": ("post", "3", "--format", "json"),
    "digest.html": ("digest", "--week", "2019-W38", "--format", "html"),
    "digest.fragment.html": ("digest", "--week", "2019-W38", "--format", "html", "--fragment"),
    "digest.md": ("digest", "--week", "2019-W38", "--format", "md"),
    "digest.txt": ("digest", "--week", "2019-W38", "--format", "txt"),
    "digest.json": ("digest", "--week", "2019-W38", "--format", "json"),
    "archive.html": ("archive", "--format", "html"),
    "archive.fragment.html": ("archive", "--format", "html", "--fragment"),
    "archive.md": ("archive", "--format", "md"),
    "archive.txt": ("archive", "--format", "txt"),
    "archive.json": ("archive", "--format", "json"),
    "feed.atom": ("feed",),
    "export.wxr": ("export", "--format", "wxr"),
}


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("formats")
    return published_sample(tmp, f"sqlite:///{tmp / 'presscut.db'}")


@pytest.fixture(scope="module")
def outputs(config_dir: Path) -> dict[str, str]:
    return {name: ok(*args, "--config", str(config_dir)).stdout for name, args in OUTPUTS.items()}


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_output_matches_its_golden_file(name: str, outputs: dict[str, str]) -> None:
    golden = GOLDEN / name
    if UPDATE:
        golden.write_text(outputs[name], encoding="utf-8", newline="")
    assert golden.exists(), f"{golden} missing: run with PRESSCUT_UPDATE_GOLDEN=1"
    assert outputs[name] == golden.read_text(encoding="utf-8")


def test_every_golden_file_is_produced() -> None:
    on_disk = {p.name for p in GOLDEN.iterdir() if p.name != "README.md"}
    assert on_disk == set(OUTPUTS)


def test_exports_are_reproducible(config_dir: Path, outputs: dict[str, str]) -> None:
    for name in ("archive.txt", "feed.atom", "export.wxr", "digest.json"):
        assert ok(*OUTPUTS[name], "--config", str(config_dir)).stdout == outputs[name]


@pytest.mark.parametrize("name", [n for n in OUTPUTS if n.endswith(".html")])
def test_html_lets_no_scraped_markup_through(name: str, outputs: dict[str, str]) -> None:
    tree = html.fromstring(outputs[name])
    assert not tree.xpath("//script | //img[not(@class='site-logo')] | //b | //i")
    assert not [a for e in tree.iter() for a in e.attrib if a.startswith("on")]
    for href in tree.xpath("//a/@href"):
        assert href.startswith(("https://", "http://", "mailto:")), href
    # the hostile text is there, as text
    assert "<script>alert('x')</script>" in tree.text_content()


@pytest.mark.parametrize("name", [n for n in OUTPUTS if n.endswith(".md")])
def test_markdown_lets_no_scraped_markup_through(name: str, outputs: dict[str, str]) -> None:
    rendered = MarkdownIt("commonmark").render(outputs[name])
    tree = html.fromstring(f"<div>{rendered}</div>")
    assert not tree.xpath("//script | //img | //b | //i | //em | //s"), rendered
    assert [h.text_content() for h in tree.xpath("//h1|//h2|//h3")], "headings survive"
    for href in tree.xpath("//a/@href"):
        assert href.startswith("https://"), href
    text = tree.text_content()
    assert "<script>alert('x')</script> *not bold* [click](javascript:alert(1))" in text


def test_the_atom_feed_round_trips_through_feedparser(outputs: dict[str, str]) -> None:
    parsed = feedparser.parse(outputs["feed.atom"].encode("utf-8"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "The Harbour Watch"
    # one entry per story: the syndicated copy (SAMPLE[1]) is not repeated
    stories = [r for r in SAMPLE if r["url"] != SAMPLE[1]["url"]]
    assert len(parsed.entries) == len(stories)
    by_title = {e.title: e for e in parsed.entries}
    hostile = SAMPLE[2]
    entry = by_title[hostile["headline"]]
    assert entry.link.startswith("https://wire.example.org/port/")
    assert hostile["excerpt"] in entry.summary or "&lt;script&gt;" in entry.summary
    assert [t.term for t in entry.tags] == hostile["topics"]
    ids = [e.id for e in parsed.entries]
    assert len(set(ids)) == len(ids) and all(i.startswith("urn:uuid:") for i in ids)
    dates = [e.updated_parsed for e in parsed.entries]
    assert dates == sorted(dates, reverse=True)


def test_the_wxr_export_is_what_the_wordpress_importer_reads(outputs: dict[str, str]) -> None:
    root = etree.fromstring(outputs["export.wxr"].encode("utf-8"))
    ns = {
        "wp": "http://wordpress.org/export/1.2/",
        "content": "http://purl.org/rss/1.0/modules/content/",
    }
    assert root.tag == "rss" and root.get("version") == "2.0"
    assert root.findtext("channel/wp:wxr_version", namespaces=ns) == "1.2"
    items = root.findall("channel/item")
    kinds = [i.findtext("wp:post_type", namespaces=ns) for i in items]
    assert kinds == ["post"] * 4  # three posts and the digest
    titles = [i.findtext("title") for i in items]
    assert titles[-1] == "The Harbour Watch Weekly Digest – September 20, 2019"
    for item in items:
        assert item.findtext("wp:status", namespaces=ns) == "publish"
        body = html.fromstring(f"<div>{item.findtext('content:encoded', namespaces=ns)}</div>")
        assert not body.xpath("//script | //img | //b | //i")
    categories = {
        c.get("nicename") for c in root.iter("category") if c.get("domain") == "category"
    }
    assert categories == {"sea-wall", "port"}
    # feedparser reads it as the RSS 2.0 it is
    assert feedparser.parse(outputs["export.wxr"].encode("utf-8")).version == "rss20"
