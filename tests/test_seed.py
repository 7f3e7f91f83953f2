"""The seed test: presscut reproduces the seed page (the example of the
target format, tests/fixtures/seed/README.md) from the seed's own clippings,
through the commands a curator runs: import, approve, publish, archive."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.publishing import ok, write_config

SEED = Path(__file__).resolve().parent / "fixtures" / "seed"

#: The seed site's own header, as its settings (the page shows them).
AIMS = (
    "Aims of Iran-Interlink – to inform as widely as possible about the real nature of the "
    "Iranian Mojahedin Khalq cult and to act as a pressure group in this regard – to help "
    "individuals who wish to leave the Mojahedin to find refuge in a country where they will "
    "feel safe and secure – to help those who leave to come to terms with their experiences "
    "within the Mojahedin and to re-establish themselves as members of the wider community in "
    "which they come to live with a viable and independent lifestyle – to reconcile and reunite "
    "people who leave the Mojahedin with their family and friends, by mutual consent, and to "
    "involve established Iranians in helping these vulnerable people"
)
EMAIL = "contact@iran-interlink.example.org"


def lines_without_whitespace(text: str) -> list[str]:
    """The non-blank lines of ``text``, white space removed from each: the
    comparison is line by line, white space aside."""
    return [re.sub(r"\s+", "", line) for line in text.splitlines() if line.strip()]


def seed_config(tmp_path: Path, db_url: str) -> Path:
    folder = write_config(tmp_path / "config", db_url)
    settings = (folder / "settings.toml").read_text(encoding="utf-8")
    settings = re.sub(r"(?ms)^\[publication\].*?(?=^\[|\Z)", "", settings)
    settings += (
        "\n[publication]\n"
        'name = "Iran Interlink"\n'
        f'description = "{AIMS}"\n'
        f'email = "{EMAIL}"\n'
        'twitter = "IranInterlink"\n'
        'logo = "https://example.org/seed-placeholder/logo.png"\n'
    )
    (folder / "settings.toml").write_text(settings, encoding="utf-8")
    return folder


def test_the_archive_reproduces_the_seed_page(tmp_path: Path, db_url: str) -> None:
    config = ("--config", str(seed_config(tmp_path, db_url)))
    records = [json.loads(line) for line in (SEED / "seed.jsonl").read_text("utf-8").splitlines()]

    imported = ok("import", str(SEED / "seed.jsonl"), *config)
    assert f"{len(records)} imported" in imported.stdout
    queue = ok("queue", *config).stdout
    assert f"{len(records)} story(ies) to review" in queue
    ok("approve", *(str(i) for i in range(1, len(records) + 1)), *config)
    published = ok("publish", "posts", *config)
    assert f"{len(records)} post(s) published" in published.stdout
    archive = ok("archive", "--format", "txt", *config).stdout

    # The captured page shows "[email protected]" where its host hid the
    # address; the configured address stands in its place.
    expected = (SEED / "seed-example.txt").read_text(encoding="utf-8")
    expected = expected.replace("[email\xa0protected]", EMAIL)
    assert lines_without_whitespace(archive) == lines_without_whitespace(expected)

    # Publishing again publishes nothing and the archive stays the same.
    again = ok("publish", "posts", *config)
    assert "0 post(s) published" in again.stdout
    assert ok("archive", "--format", "txt", *config).stdout == archive
    assert "0 story(ies) to review" in ok("queue", *config).stdout


def test_the_seed_fixture_matches_the_seed_page() -> None:
    """Every seed record's fields are on the page, as the page shows them."""
    page = (SEED / "seed-example.txt").read_text(encoding="utf-8")
    flat = " ".join(page.split())
    for line in (SEED / "seed.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        assert record["url"].startswith("https://example.org/seed-placeholder/")
        for key in ("headline", "title", "excerpt"):
            assert " ".join(record[key].split()) in flat, (key, record[key])
        assert "Posted on: " + record["posted_at"].replace("-", "/") in page
