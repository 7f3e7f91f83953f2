"""Publishing rules: posts and digests go out once, "since the last digest"
is the default window, a recorded digest renders the same again, digests
group by topic on request, dates follow the configured zone and formats,
and templates can be overridden from the config folder."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import func, inspect, select

from config.schema import Settings
from digest.dates import WEEKDAYS, parse_when, week_period, zone
from digest.entries import credit
from digest.render import md_escape, md_url
from storage import open_store
from storage.models import publications
from storage.store import MIGRATIONS
from tests.publishing import SAMPLE, ok, presscut, published_sample, write_config, write_jsonl


def count_publications(db_url: str) -> int:
    with open_store(db_url) as store, store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(publications)).scalar_one())


def test_publishing_twice_publishes_nothing_new(tmp_path: Path, db_url: str) -> None:
    folder = published_sample(tmp_path, db_url)
    c = ("--config", str(folder))
    before = count_publications(db_url)
    assert "0 post(s) published" in ok("publish", "posts", *c).stdout
    refused = presscut("publish", "posts", "1", *c)
    assert refused.exit_code == 1 and "1: its story was already posted" in refused.output
    refused = presscut("publish", "posts", "2", *c)  # the syndicated copy of 1
    assert refused.exit_code == 1 and "2: its story was already posted" in refused.output
    again = ok("digest", "--week", "2019-W38", "--format", "json", *c)
    assert "as recorded before" in again.stderr
    assert count_publications(db_url) == before


def test_a_recorded_digest_renders_the_same_again(tmp_path: Path, sqlite_url: str) -> None:
    folder = published_sample(tmp_path, sqlite_url)
    c = ("--config", str(folder))
    first = ok("digest", "--week", "2019-W38", "--format", "md", *c).stdout
    # a story approved later for the same week does not change the digest made
    late = {**SAMPLE[3], "url": "https://late.example.org/x", "published_at": "2019-09-18"}
    late["text"] = late["text"].replace("Volunteers", "Late volunteers")
    late["excerpt"] = late["excerpt"].replace("lights", "lamps")
    late["text"] = late["excerpt"] + " " + late["text"]
    ok("import", str(write_jsonl(tmp_path / "late.jsonl", [late])), *c)
    ok("approve", "5", *c)
    assert ok("digest", "--week", "2019-W38", "--format", "md", *c).stdout == first


def test_the_default_window_runs_since_the_last_digest(tmp_path: Path, sqlite_url: str) -> None:
    folder = published_sample(tmp_path, sqlite_url)
    c = ("--config", str(folder))
    nothing = ok("digest", "--until", "2019-09-28", *c)
    assert "nothing to digest from 2019-09-21T00:00:00+00:00" in nothing.stdout
    new = {
        **SAMPLE[3],
        "url": "https://lakeside.example.org/regatta",
        "title": "Regatta on the harbour",
        "published_at": "2019-09-25",
        "excerpt": "The regatta drew forty boats to the harbour.",
        "text": "The regatta drew forty boats to the harbour. " + SAMPLE[2]["text"],
    }
    ok("import", str(write_jsonl(tmp_path / "new.jsonl", [new])), *c)
    ok("approve", "5", *c)
    made = ok("digest", "--until", "2019-09-28", "--posted-at", "2019-09-28", "-f", "json", *c)
    digest = json.loads(made.stdout)["post"]
    assert digest["title"] == "The Harbour Watch Weekly Digest – September 27, 2019"
    assert [e["id"] for e in digest["entries"]] == [5]
    assert digest["period_start"] == "2019-09-21T00:00:00+00:00"
    # everything since is in a digest now
    assert "nothing to digest" in ok("digest", "--until", "2019-09-29", *c).stdout


def test_preview_records_nothing(tmp_path: Path, sqlite_url: str) -> None:
    folder = write_config(tmp_path / "config", sqlite_url)
    c = ("--config", str(folder))
    ok("import", str(write_jsonl(tmp_path / "s.jsonl", SAMPLE)), *c)
    ok("approve", "1", "3", *c)
    shown = ok("digest", "--week", "2019-W38", "--preview", "--format", "txt", *c)
    assert "Night shift" in shown.stdout and "preview" in shown.stderr
    assert count_publications(sqlite_url) == 0
    assert "(recorded)" in ok("digest", "--week", "2019-W38", *c).stderr


def test_digest_grouped_by_topic(tmp_path: Path, sqlite_url: str) -> None:
    folder = published_sample(tmp_path, sqlite_url, extra='[publishing]\ndigest_order = "topic"\n')
    out = ok("digest", "--week", "2019-W38", "--format", "json", "--config", str(folder))
    groups = json.loads(out.stdout)["post"]["groups"]
    # configured topic order: sea-wall, then port
    assert [(g["topic"], g["entries"]) for g in groups] == [("sea-wall", [1]), ("port", [3])]
    text = ok("digest", "--week", "2019-W38", "--format", "txt", "--config", str(folder))
    assert text.stdout.index("SEA-WALL") < text.stdout.index("PORT")


def test_dates_follow_the_zone_and_formats(tmp_path: Path, sqlite_url: str) -> None:
    extra = '[publishing]\nposted_date_format = "%d.%m.%Y"\narticle_date_format = "%Y-%m-%d"\n'
    folder = published_sample(tmp_path, sqlite_url, timezone="Asia/Tokyo", extra=extra)
    post = ok("post", "3", "--format", "txt", "--config", str(folder)).stdout
    # 2019-09-19 22:15 UTC is already the 20th in Tokyo; posted 2019-09-20 12:00 UTC
    assert "Northern <i>Wire</i>, 2019-09-20:…" in post
    assert "Posted on: 20.09.2019" in post


def test_templates_can_be_overridden(tmp_path: Path, sqlite_url: str) -> None:
    folder = published_sample(tmp_path, sqlite_url)
    (folder / "templates").mkdir()
    (folder / "templates" / "entry.txt").write_text(
        "{{ entry.title }} <{{ entry.url }}>\n", encoding="utf-8"
    )
    settings = folder / "settings.toml"
    settings.write_text(
        settings.read_text(encoding="utf-8") + '[publishing]\ntemplates = "templates"\n',
        encoding="utf-8",
    )
    post = ok("post", "4", "--format", "txt", "--config", str(folder)).stdout
    assert post.endswith("Harbour lights return <https://lakeside.example.org/harbour-lights>\n")
    assert post.startswith("Harbour lights return\n\nPosted on: 2019/09/20")
    missing = settings.read_text(encoding="utf-8").replace('"templates"', '"nowhere"')
    settings.write_text(missing, encoding="utf-8")
    result = presscut("post", "4", "--config", str(folder))
    assert result.exit_code == 2 and "nowhere" in result.output


def test_bad_periods_are_named(tmp_path: Path, sqlite_url: str) -> None:
    c = ("--config", str(write_config(tmp_path / "config", sqlite_url)))
    for args, message in [
        (("--week", "2019-38"), "not an ISO week"),
        (("--week", "2019-W54"), "2019 has no week 54"),
        (("--since", "yesterday"), "not an ISO 8601 date"),
        (("--week", "2019-W38", "--since", "2019-09-01"), "not both"),
    ]:
        result = presscut("digest", *args, *c)
        assert result.exit_code == 2 and message in result.output, (args, result.output)


def test_week_periods_end_on_the_configured_day() -> None:
    utc = zone("UTC")
    start, end = week_period("2019-W38", "friday", utc)
    assert (start.date(), end.date()) == (date(2019, 9, 14), date(2019, 9, 21))
    start, end = week_period("2019-W38", "sunday", utc)
    assert (start.date(), end.date()) == (date(2019, 9, 16), date(2019, 9, 23))
    assert week_period("2019W38", "friday", utc) == week_period("2019-W38", "friday", utc)
    assert Settings().publishing.week_ends_on in WEEKDAYS
    london = zone("Europe/London")
    assert parse_when("2019-09-17", london) == datetime(2019, 9, 16, 23, tzinfo=UTC)
    assert parse_when("2019-09-17T10:00:00+02:00", london) == datetime(2019, 9, 17, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("authors", "via", "expected"),
    [
        ([], None, ""),
        (["Alice Taylor"], None, "Alice Taylor"),
        (["A", "B"], None, "A and B"),
        (["A", "B", "C"], None, "A, B and C"),
        (["Asieh Namdar"], "Iran Interlink", "Iran Interlink from Asieh Namdar"),
        ([], "Iran Interlink", "Iran Interlink"),
    ],
)
def test_credit(authors: list[str], via: str | None, expected: str) -> None:
    assert credit(authors, via) == expected


def test_markdown_escaping() -> None:
    assert md_escape("a *b* [c](d)\n# e") == r"a \*b\* \[c\]\(d\) \# e"
    assert md_url("javascript:alert(1)") == ""
    assert md_url("https://x.example.org/a_(b)") == "https://x.example.org/a_%28b%29"


def test_the_publishing_migration_goes_down_and_up(store_url_and_data: str) -> None:
    with open_store(store_url_and_data) as store:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with store.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0001")
        assert "publications" not in inspect(store.engine).get_table_names()
        assert "posted_at" not in {
            c["name"] for c in inspect(store.engine).get_columns("clippings")
        }
        store.upgrade()
        assert store.count_clippings() == len(SAMPLE)
        clipping = store.get_clipping(1)
        assert clipping is not None and clipping.excerpt_paraphrased is False


@pytest.fixture
def store_url_and_data(tmp_path: Path, db_url: str) -> str:
    folder = write_config(tmp_path / "config", db_url)
    ok("import", str(write_jsonl(tmp_path / "s.jsonl", SAMPLE)), "--config", str(folder))
    return db_url
