"""The default digest takes every approved story in no digest yet, by
approval rather than article date, says what it took, and is titled by the
span of its stories (#17.1)."""

from __future__ import annotations

import json
from pathlib import Path

from digest.selection import waiting
from storage import open_store
from tests.publishing import SAMPLE, ok, published_sample, write_jsonl


def test_a_story_approved_late_for_an_earlier_week_is_taken(
    tmp_path: Path, sqlite_url: str
) -> None:
    # The sample's digest of 2019-W38 (to 21 September) is recorded; story 4,
    # dated 12 September, was approved but is in no digest.
    folder = published_sample(tmp_path, sqlite_url)
    c = ("--config", str(folder))
    made = ok("digest", "-f", "json", *c)
    post = json.loads(made.stdout)["post"]
    assert [e["id"] for e in post["entries"]] == [4]
    assert post["title"] == "The Harbour Watch Digest – September 12, 2019"
    assert "1 approved story in no digest yet, articles dated 2019-09-12" in made.stderr
    assert "1 dated before the last digest's end (2019-09-21), approved late" in made.stderr
    again = ok("digest", *c)
    assert "nothing to digest: every approved story is already in a digest" in again.stderr
    assert again.stdout == ""


def test_the_title_names_the_actual_span_not_today(tmp_path: Path, sqlite_url: str) -> None:
    folder = published_sample(tmp_path, sqlite_url)
    c = ("--config", str(folder))
    later = {
        **SAMPLE[3],
        "url": "https://lakeside.example.org/regatta",
        "title": "Regatta on the harbour",
        "published_at": "2019-11-07T10:00:00+00:00",
        "excerpt": "The regatta drew forty boats to the harbour.",
        "text": "The regatta drew forty boats to the harbour. " + SAMPLE[2]["text"],
    }
    ok("import", str(write_jsonl(tmp_path / "later.jsonl", [later])), *c)
    ok("approve", "5", *c)
    shown = ok("digest", "--preview", "-f", "json", *c)
    post = json.loads(shown.stdout)["post"]
    assert post["title"] == "The Harbour Watch Digest – September 12, 2019 to November 07, 2019"
    assert sorted(e["id"] for e in post["entries"]) == [4, 5]
    assert "2 approved stories in no digest yet, articles dated 2019-09-12 to 2019-11-07" in (
        shown.stderr
    )
    assert "Weekly" not in post["title"]


def test_the_selection_is_one_function_the_desk_can_call(tmp_path: Path, sqlite_url: str) -> None:
    published_sample(tmp_path, sqlite_url)
    with open_store(sqlite_url) as store:
        selection = waiting(store)
    assert [i for i, _ in selection.entries] == [4]
    assert selection.late == 1 and len(selection) == 1
    assert selection.first is not None and selection.first.date().isoformat() == "2019-09-12"


def test_an_explicit_week_still_takes_that_week_only(tmp_path: Path, sqlite_url: str) -> None:
    folder = published_sample(tmp_path, sqlite_url)
    c = ("--config", str(folder))
    shown = ok("digest", "--week", "2019-W37", "--preview", "-f", "json", *c)
    post = json.loads(shown.stdout)["post"]
    assert [e["id"] for e in post["entries"]] == [4]
    assert "Weekly Digest – September 13, 2019" in post["title"]
