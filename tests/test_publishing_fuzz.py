"""Fuzz: arbitrary Unicode, lone surrogates and control characters
included, in every field of a clipping, through every output format.

Each format must render without an exception and read back as what it
claims to be: HTML, Markdown and text as text, JSON and JSON Lines as JSON,
CSV as one row per clipping with every column, Atom and WXR as well-formed
XML with one entry or item per clipping."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from cli.export import CSV_COLUMNS, Format, write
from config import load_config
from digest.entries import Post, entry, single_post
from digest.feed import atom_feed
from digest.render import FORMATS, Renderer
from digest.wxr import wxr_document
from scraper.items import Clipping
from tests.publishing import write_config

# Every code point: surrogates (Cs) and controls (Cc) are not left out.
ANY = st.text(st.characters(exclude_categories=()), max_size=40)
SOME = st.lists(ANY, max_size=3)


@st.composite
def clippings(draw: st.DrawFn) -> Clipping:
    return Clipping(
        url="https://news.example/" + draw(ANY),
        canonical_url=draw(st.none() | ANY.map(lambda s: "https://news.example/c" + s)),
        title=draw(ANY),
        headline=draw(st.none() | ANY),
        authors=draw(SOME),
        via=draw(st.none() | ANY),
        outlet=draw(st.none() | ANY),
        excerpt=draw(st.none() | ANY),
        text=draw(ANY),
        topics=draw(SOME),
        matched_terms=draw(SOME),
        published_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
        posted_at=datetime(2026, 11, 3, 10, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> Renderer:
    tmp = tmp_path_factory.mktemp("fuzz")
    folder = write_config(Path(tmp) / "config", f"sqlite:///{tmp / 'p.db'}")
    return Renderer(load_config(folder, environ={}).settings)


FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(st.lists(clippings(), min_size=1, max_size=3), ANY)
def test_every_format_survives_arbitrary_text(
    renderer: Renderer, found: list[Clipping], digest_title: str
) -> None:
    pairs = list(enumerate(found, start=1))
    posts = [
        Post(**{**{n: getattr(single_post(i, c), n) for n in Post.__slots__}, "id": i})
        for i, c in pairs
    ]
    digest = Post(
        kind="digest",
        title=digest_title,
        posted_at=datetime(2026, 11, 9, tzinfo=UTC),
        entries=tuple(entry(i, c) for i, c in pairs),
        id=99,
    )
    for fmt in FORMATS:
        outputs = [
            renderer.post(posts[0], fmt),
            renderer.post(posts[0], fmt, fragment=True),
            renderer.digest(digest, fmt),
            renderer.archive([*posts, digest], fmt),
        ]
        for text in outputs:
            # What `_emit` writes: UTF-8, a lone surrogate replaced.
            data = text.encode("utf-8", "replace")
            if fmt == "json":
                json.loads(data)

    feed = etree.fromstring(atom_feed(renderer, pairs))
    assert len(feed.findall("{http://www.w3.org/2005/Atom}entry")) == len(pairs)
    wxr = etree.fromstring(wxr_document(renderer, [*posts, digest], "desk"))
    assert len(wxr.findall("channel/item")) == len(posts) + 1

    lines = io.StringIO()
    assert write(pairs, Format.jsonl, lines) == len(pairs)
    # JSON Lines records end at "\n" only (a U+0085 inside a string is text).
    records = lines.getvalue().split("\n")[:-1]
    assert [json.loads(line)["id"] for line in records] == [i for i, _ in pairs]
    table = io.StringIO(newline="")
    write(pairs, Format.csv, table)
    rows = list(csv.DictReader(io.StringIO(table.getvalue(), newline="")))
    assert [row["id"] for row in rows] == [str(i) for i, _ in pairs]
    assert all(set(row) == set(CSV_COLUMNS) for row in rows)
    # What `export -o` writes: a UTF-8 file, a lone surrogate replaced.
    table.getvalue().encode("utf-8", "replace")
