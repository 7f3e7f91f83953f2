"""Hostile import lines and dates: each bad line is reported as
``FILE:LINE: cause`` and the others are imported; a date the store cannot
keep is a clear error on the command line; ``extract`` prints what it read.

The lines rebuild the hostile-content probes: impossible dates
(``0001-01-01T00:00:00+14:00``, year 9999 with a negative offset), a lone
surrogate and a NUL as valid JSON escapes, a 1,000,000-character title.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from storage import open_store
from tests.publishing import presscut, write_config

BODY = " ".join(f"harbour{i} flood water rose over the sea wall" for i in range(8))


def line(n: int, **fields: Any) -> dict[str, Any]:
    return {"url": f"https://news.example/{n}", "title": f"Story {n}", "text": f"{n} {BODY}"} | (
        fields
    )


def write(path: Path, records: list[dict[str, Any]]) -> Path:
    # json.dumps writes "\ud800" and "\u0000" as escapes: valid JSON Lines.
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def titles(db_url: str) -> dict[str, str]:
    with open_store(db_url) as store:
        return {c.url: c.title or "" for _, c in store.iter_clippings()}


def test_each_bad_line_is_reported_and_the_others_imported(tmp_path: Path, db_url: str) -> None:
    folder = write_config(tmp_path / "config", db_url)
    records = [
        line(1),
        line(2, published_at="0001-01-01T00:00:00+14:00"),
        line(3, status="published", posted_at="9999-12-31T23:59:59-12:00"),
        line(4, title="surrogate \ud800 here"),
        line(5, title="nul\u0000title", outlet="Out\u0000let"),
        line(6, title="x" * 1_000_000, excerpt=None),
        line(7, published_at="1899-12-31"),
        line(8),
    ]
    source = write(tmp_path / "hostile.jsonl", records)
    result = presscut("import", str(source), "--config", str(folder))
    out = result.output
    assert "Traceback" not in out
    assert result.exit_code == 1, out
    assert f"{source}:2: published_at: 0001-01-01T00:00:00+14:00 is outside the years" in out
    assert f"{source}:3: posted_at: 9999-12-31T23:59:59-12:00 is outside the years" in out
    assert f"{source}:7: published_at: 1899-12-31T00:00:00+00:00 is outside the years" in out
    assert f"{source}:4: title: 1 character(s) that cannot be stored removed" in out
    assert f"{source}:5: outlet: 1 character(s)" in out
    assert f"{source}:6: title: cut to 500 characters (was 1000000)" in out
    assert "5 imported, 0 duplicate, 3 refused" in out
    stored = titles(db_url)
    assert sorted(stored) == [f"https://news.example/{n}" for n in (1, 4, 5, 6, 8)]
    assert stored["https://news.example/4"] == "surrogate here"
    assert stored["https://news.example/5"] == "nultitle"
    assert len(stored["https://news.example/6"]) == 500


def test_many_authors_and_long_fields_are_capped(tmp_path: Path, sqlite_url: str) -> None:
    folder = write_config(tmp_path / "config", sqlite_url)
    record = line(1, authors=[f"Author {i} " + "n" * 300 for i in range(80)], via="v" * 900)
    source = write(tmp_path / "caps.jsonl", [record])
    result = presscut("import", str(source), "--config", str(folder))
    assert result.exit_code == 0, result.output
    assert f"{source}:1: authors: the first 50 of 80 kept" in result.output
    assert f"{source}:1: via: cut to 200 characters (was 900)" in result.output
    with open_store(sqlite_url) as store:
        [(_, clipping)] = list(store.iter_clippings())
    assert len(clipping.authors) == 50 and all(len(a) <= 200 for a in clipping.authors)
    assert clipping.via == "v" * 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("digest", "--week", "9999-W52"), "--week: '9999-W52' is beyond the calendar"),
        (("digest", "--week", "0001-W01"), "--week: "),
        (("digest", "--since", "0001-01-01T00:00:00+14:00"), "outside the years 1900-2200"),
        (("digest", "--since", "9999-12-31T23:59:59-12:00"), "outside the years 1900-2200"),
        (("archive", "--since", "0001-01-01T00:00:00+14:00"), "outside the years 1900-2200"),
        (
            ("publish", "posts", "1", "--posted-at", "0001-01-01T00:00:00+14:00"),
            "outside the years 1900-2200",
        ),
    ],
)
def test_impossible_dates_on_the_command_line_are_a_clear_error(
    tmp_path: Path, sqlite_url: str, args: tuple[str, ...], message: str
) -> None:
    folder = write_config(tmp_path / "config", sqlite_url)
    result = presscut(*args, "--config", str(folder))
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.replace("│", " ").split())  # the box's borders
    assert "Traceback" not in result.output


def test_extract_prints_a_page_with_a_lone_surrogate(tmp_path: Path) -> None:
    page = tmp_path / "surrogate.html"
    page.write_text(
        '<html><head><script type="application/ld+json">{"@type": "NewsArticle", '
        '"headline": "Flood \\ud800 headline", "author": {"name": "Eve \\udfff"}}</script>'
        f"</head><body><article><h1>Flood</h1><p>{BODY} {BODY}</p></article></body></html>",
        encoding="utf-8",
    )
    result = presscut("extract", str(page), "--url", "https://news.example/s")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["authors"] == ["Eve"]
