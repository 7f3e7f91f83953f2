"""Review and import: the queue, approve / reject / edit / cite, and
``presscut import`` with the crawl's own validation and dedupe, through the
commands and on both databases where storage is involved."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.normalize import normalize_clipping
from scraper.items import Clipping
from storage import Store, open_store
from storage.review import ReviewError
from tests.publishing import SAMPLE, ok, presscut, write_config, write_jsonl


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> tuple[str, str]:
    folder = write_config(tmp_path / "config", db_url)
    ok("import", str(write_jsonl(tmp_path / "s.jsonl", SAMPLE)), "--config", str(folder))
    return "--config", str(folder)


def stored(config: tuple[str, str]) -> dict[int, Clipping]:
    settings = (Path(config[1]) / "settings.toml").read_text(encoding="utf-8")
    url = settings.split('url = "', 1)[1].split('"', 1)[0]
    with open_store(url) as store:
        return dict(store.iter_clippings())


def test_queue_shows_each_story_once_with_its_other_outlets(config: tuple[str, str]) -> None:
    out = ok("queue", *config).stdout
    assert "3 story(ies) to review" in out
    assert "Valley Ledger (2)" in out  # the syndicated copy, beside the story
    clippings = stored(config)
    assert clippings[1].cluster == clippings[2].cluster != clippings[3].cluster


def test_a_rejected_story_never_comes_back(config: tuple[str, str], tmp_path: Path) -> None:
    result = ok("reject", "3", "--reason", "off topic: not the port we watch", *config)
    assert "rejected: 3" in result.stdout
    assert stored(config)[3].rejection_reason == "off topic: not the port we watch"
    assert "Night shift" not in ok("queue", *config).stdout

    # seen again: the same URL, and the same article at another outlet
    again = dict(SAMPLE[2])
    copy = {**SAMPLE[2], "url": "https://mirror.example.org/night-shift", "outlet": "Mirror"}
    result = ok("import", str(write_jsonl(tmp_path / "again.jsonl", [again, copy])), *config)
    assert "1 imported, 1 duplicate" in result.stdout
    clippings = stored(config)
    mirror = next(c for c in clippings.values() if c.outlet == "Mirror")
    assert mirror.cluster == clippings[3].cluster and mirror.status == "new"
    queue = ok("queue", *config).stdout
    assert "Night shift" not in queue and "Mirror" not in queue
    assert "2 story(ies) to review" in queue


def test_decisions_are_checked(config: tuple[str, str]) -> None:
    assert presscut("reject", "1", *config).exit_code == 2  # --reason is required
    refused = presscut("approve", "1", "99", *config)
    assert refused.exit_code == 1 and "no clipping with id 99" in refused.output
    assert stored(config)[1].status == "new", "nothing changes when one id is bad"
    ok("approve", "1", *config)
    ok("publish", "posts", "1", *config)
    for command in (("approve", "1"), ("reject", "1", "--reason", "late")):
        result = presscut(*command, *config)
        assert result.exit_code == 1 and "already published" in result.output


def test_edit_keeps_excerpts_verbatim_unless_paraphrased(config: tuple[str, str]) -> None:
    text = stored(config)[4].text
    passage = "Volunteers replaced two hundred bulbs along the promenade over a fortnight"
    assert passage in text
    ok("edit", "4", "--excerpt", passage, "--headline", "Lights  on again", *config)
    edited = stored(config)[4]
    # the passage stops inside a sentence: it is closed with "…"
    assert (edited.excerpt, edited.excerpt_from, edited.headline) == (
        passage + "…",
        "curator",
        "Lights on again",
    )
    assert edited.title == "Harbour lights return", "the article's title is kept"

    refused = presscut("edit", "4", "--excerpt", "Volunteers replaced all the bulbs.", *config)
    assert refused.exit_code == 1 and "not a verbatim passage" in refused.output
    assert stored(config)[4].excerpt == passage + "…"

    summary = "Volunteers relit the harbour promenade."
    ok("edit", "4", "--excerpt", summary, "--paraphrase", *config)
    edited = stored(config)[4]
    assert edited.excerpt == summary and edited.excerpt_paraphrased
    assert "(paraphrase):" in ok("post", "4", "--format", "txt", *config).stdout


def test_cite_chooses_the_outlet_of_a_syndicated_story(config: tuple[str, str]) -> None:
    ok("approve", "1", "2", *config)
    ok("cite", "2", *config)
    out = ok("publish", "posts", "--posted-at", "2019-09-18", *config).stdout
    assert "1 post(s) published" in out and "posted 2 " in out
    archive = ok("archive", "--format", "txt", *config).stdout
    assert "Valley Ledger" in archive and "The Harbour Herald" not in archive


def test_the_earliest_copy_is_cited_by_default(config: tuple[str, str]) -> None:
    ok("approve", "2", "1", *config)
    ok("publish", "posts", *config)
    archive = ok("archive", "--format", "txt", *config).stdout
    assert archive.count("Council weighs") == 2  # headline and link of one entry
    assert "The Harbour Herald" in archive and "Valley Ledger" not in archive


def test_review_in_storage(store: Store) -> None:
    items = [
        normalize_clipping(
            Clipping(url=f"https://a.example.org/{n}", title=f"T{n}", text=f"Body {n}.")
        )
        for n in range(3)
    ]
    items[1].cluster = items[0].url_hash  # a syndicated copy of the first
    store.write_batch(items, [], [])
    queue = store.review_queue()
    assert [(e.id, [i for i, _ in e.also]) for e in queue] == [(1, [2]), (3, [])]
    store.reject([2], "duplicate of a wire story")
    assert [e.id for e in store.review_queue()] == [3]
    with pytest.raises(ReviewError, match="needs a reason"):
        store.reject([3], "  ")
    with pytest.raises(ReviewError, match="rejected"):
        store.cite(2)
    store.approve([2])
    assert store.get_clipping(2).rejection_reason is None  # type: ignore[union-attr]
    with pytest.raises(ReviewError, match="not editable"):
        store.edit_clipping(1, {"url": "https://evil.example.org/"})


def test_import_reports_bad_lines_and_imports_the_rest(tmp_path: Path, sqlite_url: str) -> None:
    folder = write_config(tmp_path / "config", sqlite_url)
    good = SAMPLE[3]
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "url": "https://x.example.org/1", "colour": "red"}),
        json.dumps({**good, "url": "ftp://x.example.org/2"}),
        json.dumps(
            {**good, "url": "https://x.example.org/3", "excerpt": "Too short.", "text": None}
        ),
        json.dumps({**good, "url": "https://x.example.org/4", "excerpt": "Not in the text."}),
        json.dumps({**good, "url": "https://x.example.org/5", "published_at": "last Tuesday"}),
        json.dumps({**good, "url": "https://x.example.org/6", "status": "published"}),
        json.dumps(
            {
                **good,
                "url": "https://x.example.org/7",
                "excerpt": "Paraphrase.",
                "excerpt_paraphrased": True,
                "text": good["text"] + " More.",
            }
        ),
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = presscut("import", str(path), "--config", str(folder))
    assert result.exit_code == 1
    assert "2 imported, 0 duplicate, 7 refused" in result.stdout
    for number, cause in [
        (2, "not JSON"),
        (3, "unknown key(s) colour"),
        (4, "not an http(s) URL"),
        (5, "text too short"),
        (6, "excerpt is not a verbatim passage"),
        (7, "published_at: 'last Tuesday' is not an ISO 8601 date"),
        (8, "a published clipping needs posted_at"),
    ]:
        assert f"{path}:{number}: " in result.stderr and cause in result.stderr, cause
    with open_store(sqlite_url) as store:
        imported = [c for _, c in store.iter_clippings()]
    assert [c.url for c in imported] == [good["url"], "https://x.example.org/7"]
    assert imported[0].published_at == datetime(2019, 9, 12, tzinfo=UTC)
    assert imported[0].text_from == "import" and imported[0].headline == good["title"]


def test_importing_published_clippings_records_their_posts(
    tmp_path: Path, sqlite_url: str
) -> None:
    folder = write_config(tmp_path / "config", sqlite_url, timezone="Europe/London")
    record = {**SAMPLE[3], "status": "published", "posted_at": "2019-09-13"}
    c = ("--config", str(folder))
    ok("import", str(write_jsonl(tmp_path / "m.jsonl", [record])), *c)
    assert "0 post(s) published" in ok("publish", "posts", *c).stdout
    archive = ok("archive", "--format", "txt", *c).stdout
    assert "Posted on: 2019/09/13" in archive
    with open_store(sqlite_url) as store:
        (clipping,) = [c for _, c in store.iter_clippings()]
    # a date alone is midnight in the publication's zone (BST, UTC+1)
    assert clipping.posted_at == datetime(2019, 9, 12, 23, tzinfo=UTC)
