"""The WordPress publisher: against a local server that follows WordPress's
REST contract (tests/wordpress_site.py) and, where the machine has it, a
real WordPress (Debian's package, PHP's built-in server, MariaDB).

The real one (test marked ``wordpress``) runs when the machine has the
pieces and is skipped, with the reason, when it has not;
``PRESSCUT_REQUIRE_WORDPRESS=1`` makes their absence a failure."""

from __future__ import annotations

import html
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from lxml import html as lxml_html

from scraper.items import Clipping
from storage import open_store
from tests.publishing import SAMPLE, ok, presscut, write_config, write_jsonl
from tests.wordpress_site import (
    PASSWORD,
    USER,
    FakeWordPress,
    RealSite,
    real_wordpress,
    real_wordpress_missing,
)

REQUIRE_WORDPRESS = os.environ.get("PRESSCUT_REQUIRE_WORDPRESS") == "1"


def prepared(tmp_path: Path) -> tuple[Path, str]:
    """Config and database: SAMPLE imported and approved, story 1 posted on
    the site, plus a crawled clipping with matched terms (for tags)."""
    db_url = f"sqlite:///{tmp_path / 'presscut.db'}"
    folder = write_config(tmp_path / "config", db_url)
    c = ("--config", str(folder))
    ok("import", str(write_jsonl(tmp_path / "s.jsonl", SAMPLE)), *c)
    with open_store(db_url) as store:
        store.write_batch(
            [
                Clipping(
                    url="https://herald.example.org/news/tide-gauge",
                    source_id="herald",
                    outlet="The Harbour Herald",
                    url_hash="f" * 40,
                    title="Tide gauge fixed",
                    text="The tide gauge on the sea wall works again.",
                    excerpt="The tide gauge on the sea wall works again.",
                    topics=["sea-wall"],
                    matched_terms=["sea wall", "tide gauge"],
                    published_at=datetime(2019, 9, 18, 7, tzinfo=UTC),
                )
            ],
            [],
            [],
        )
    ok("approve", "1", "2", "3", "4", "5", *c)
    ok("publish", "posts", "1", *c)
    return folder, db_url


def wp(folder: Path, site: str, *extra: str, password: str = PASSWORD) -> tuple[int, str]:
    result = presscut(
        "publish",
        "wordpress",
        "--site",
        site,
        "--user",
        USER,
        *extra,
        "--config",
        str(folder),
        env={"PRESSCUT_WORDPRESS_PASSWORD": password},
    )
    return result.exit_code, result.output


def statuses(db_url: str) -> dict[int, tuple[str, datetime | None]]:
    with open_store(db_url) as store:
        return {i: (c.status, c.posted_at) for i, c in store.iter_clippings()}


def test_drafts_then_published_posts_each_made_once(tmp_path: Path) -> None:
    folder, db_url = prepared(tmp_path)
    with FakeWordPress() as site:
        code, out = wp(folder, site.url, "--draft")
        assert code == 0, out
        created = site.creates()
        # one post per story: 1+2 are one syndicated story, then 3, 4, 5
        assert len(created) == 4
        assert {body["status"] for body in created} == {"draft"}
        assert statuses(db_url)[3][0] == "approved", "a draft is not published"

        # the categories are the topics, the tags the matched terms
        names = {t: {html.unescape(x["name"]) for x in site.terms[t].values()} for t in site.terms}
        assert names == {"categories": {"sea-wall", "port"}, "tags": {"sea wall", "tide gauge"}}
        by_title = {html.unescape(b["title"]): b for b in created}
        wall = by_title["Council weighs a higher sea wall"]
        assert "date_gmt" not in wall, "a draft leaves the date to WordPress"

        # scraped markup is sent escaped: WordPress shows titles as HTML
        hostile = next(b for b in created if "Night shift" in b["title"])
        assert "<script>" not in hostile["title"] and "&lt;script&gt;" in hostile["title"]
        body = lxml_html.fromstring(f"<div>{hostile['content']}</div>")
        assert not body.xpath("//script | //img | //b | //i")

        # the same run again makes nothing
        site.requests.clear()
        code, out = wp(folder, site.url, "--draft")
        assert code == 0, out
        assert site.creates() == []

        # publishing: the drafts are published, not made again
        code, out = wp(folder, site.url)
        assert code == 0, out
        assert site.creates() == []
        updates = [b for m, p, b in site.requests if m == "POST" and p.startswith("/posts/")]
        assert len(updates) == 4 and {b["status"] for b in updates} == {"publish"}
        # the story posted on the site before keeps its post date there
        first = next(b for b in updates if "date_gmt" in b)
        assert first["date_gmt"] == "2019-09-17T00:00:00"
        after = statuses(db_url)
        assert after[3] == ("published", datetime(2019, 9, 22, 10, tzinfo=UTC))

        # and nothing happens a third time
        site.requests.clear()
        code, out = wp(folder, site.url)
        assert code == 0, out
        assert [r for r in site.requests if r[0] == "POST"] == []

        # a digest made since goes out once too
        ok("digest", "--week", "2019-W38", "--posted-at", "2019-09-21", "--config", str(folder))
        code, out = wp(folder, site.url)
        assert code == 0, out
        assert [html.unescape(b["title"]) for b in site.creates()] == [
            "The Harbour Watch Weekly Digest – September 20, 2019"
        ]
        assert site.creates()[0]["date_gmt"] == "2019-09-21T00:00:00"


def test_a_refused_password_is_reported_and_nothing_recorded(tmp_path: Path) -> None:
    folder, db_url = prepared(tmp_path)
    before = statuses(db_url)
    with FakeWordPress() as site:
        code, out = wp(folder, site.url, password="wrong password")
    assert code == 1
    assert site.url in out and "incorrect_password" in out
    assert site.creates() == []
    assert statuses(db_url) == before


def test_missing_settings_are_named(tmp_path: Path) -> None:
    folder = write_config(tmp_path / "config", f"sqlite:///{tmp_path / 'db.sqlite'}")
    result = presscut("publish", "wordpress", "--config", str(folder), env={})
    assert result.exit_code == 2
    assert "--site" in result.output and "PRESSCUT_WORDPRESS_PASSWORD" in result.output


# -- against a real WordPress -----------------------------------------------------------


@pytest.fixture(scope="module")
def real_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealSite]:
    missing = real_wordpress_missing()
    if missing:
        if REQUIRE_WORDPRESS:
            pytest.fail(f"{missing} (PRESSCUT_REQUIRE_WORDPRESS=1)")
        pytest.skip(missing)
    with real_wordpress(tmp_path_factory.mktemp("wp")) as site:
        yield site


@pytest.mark.wordpress
def test_against_a_real_wordpress(tmp_path: Path, real_site: RealSite) -> None:
    folder, _ = prepared(tmp_path)
    api = f"{real_site.url}/wp-json/wp/v2"
    auth = (real_site.user, real_site.password)

    def posts(status: str) -> list[dict]:
        response = requests.get(
            f"{api}/posts",
            params={"status": status, "context": "edit", "per_page": 100},
            auth=auth,
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    code, out = wp(folder, real_site.url, "--draft", password=real_site.password)
    assert code == 0, out
    drafts = posts("draft")
    assert len(drafts) == 4
    hostile = next(p for p in drafts if "Night shift" in p["title"]["raw"])
    assert "<script>" not in hostile["title"]["rendered"]
    assert "&lt;script&gt;" in hostile["title"]["rendered"]

    code, out = wp(folder, real_site.url, password=real_site.password)
    assert code == 0, out
    assert posts("draft") == []
    published = posts("publish")
    assert sorted(p["id"] for p in published) == sorted(p["id"] for p in drafts)
    categories = requests.get(f"{api}/categories", params={"per_page": 100}, timeout=30).json()
    assert {"sea-wall", "port"} <= {c["name"] for c in categories}
    wall = next(p for p in published if p["title"]["raw"] == "Council weighs a higher sea wall")
    assert wall["date_gmt"] == "2019-09-17T00:00:00"

    code, out = wp(folder, real_site.url, password=real_site.password)
    assert code == 0, out
    assert len(posts("publish")) == 4 and posts("draft") == []
