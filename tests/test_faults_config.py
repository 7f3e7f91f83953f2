"""Invalid configuration, kind by kind: each is refused with the file, the key
path and the rule broken, and a source URL that is not http(s) never loads
(tests/test_config.py covers the common cases; these are the rest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, load_config
from tests.test_config import SOURCE, write

URL = "https://herald.example/feed.rss"


def problems(folder: Path, environ: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    with pytest.raises(ConfigError) as info:
        load_config(folder, environ=environ or {})
    return info.value.problems


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/xml,<rss/>",
        "file:///etc/passwd",
        "gopher://herald.example/1",
        "//herald.example/feed.rss",
        "/feed.rss",
        "feed.rss",
        "http:///feed.rss",
        "https://herald example/feed.rss",
        "https://herald.example:99999/feed.rss",
        "",
    ],
)
def test_source_urls_other_than_http_are_refused(tmp_path: Path, url: str) -> None:
    found = problems(write(tmp_path, SOURCE.replace(URL, url)))
    assert found == [(str(tmp_path / "sources.toml"), "sources[0].url", found[0][2])]
    assert "http" in found[0][2]


@pytest.mark.parametrize(
    ("settings", "key", "rule"),
    [
        ("[crawl]\ndownload_timeout = -1\n", "crawl.download_timeout", "greater than 0"),
        ("[crawl]\nmax_response_bytes = \"big\"\n", "crawl.max_response_bytes", "integer"),
        ("[crawl]\nallow_loopback = \"perhaps\"\n", "crawl.allow_loopback", "boolean"),
        ("[crawl]\nallow_private_addresses = 2\n", "crawl.allow_private_addresses", "boolean"),
        ("[crawl]\nparse_timeout = 0\n", "crawl.parse_timeout", "greater than 0"),
        ("[crawl]\nconcurrent_requests = 100000\n", "crawl.concurrent_requests", "less than"),
        ("[crawl]\ncolour = \"red\"\n", "crawl.colour", "unknown key"),
        ("[nonsense]\nkey = 1\n", "nonsense", "unknown key"),
        ("[database]\nurl = \"mysql://db/presscut\"\n", "database.url", "sqlite"),
        ("[excerpt]\nmin_words = 100\nmax_words = 50\n", "excerpt", "max_words"),
        ("crawl = 3\n", "crawl", "valid dictionary"),
    ],
)  # fmt: skip
def test_invalid_settings_name_file_key_and_rule(
    tmp_path: Path, settings: str, key: str, rule: str
) -> None:
    found = problems(write(tmp_path, SOURCE, settings))
    files = {file for file, _, _ in found}
    assert files == {str(tmp_path / "settings.toml")}
    assert any(k == key and rule in r for _, k, r in found), found


@pytest.mark.parametrize(
    ("sources", "key", "rule"),
    [
        (SOURCE + '\n[[topics]]\nname = "floods"\ninclude = ["x"]\n', "topics[1].name",
         "duplicate name 'floods'"),
        (SOURCE.replace('poll_interval = "30m"', "poll_interval = 0"),
         "sources[0].poll_interval", "greater than 0"),
        (SOURCE.replace('poll_interval = "30m"', 'language = "English"'),
         "sources[0].language", "pattern"),
        (SOURCE.replace('id = "herald"', f'id = "{"h" * 65}"'), "sources[0].id",
         "at most 64"),
        (SOURCE.replace('outlet = "The Harbour Herald"', 'outlet = ""'), "sources[0].outlet",
         "at least 1"),
        (SOURCE.replace('topics = ["floods"]', 'topics = "floods"'), "sources[0].topics",
         "valid list"),
        (SOURCE.replace("[[sources]]", "[sources]"), "sources", "valid list"),
    ],
)  # fmt: skip
def test_more_invalid_sources_name_file_key_and_rule(
    tmp_path: Path, sources: str, key: str, rule: str
) -> None:
    found = problems(write(tmp_path, sources))
    assert all(file == str(tmp_path / "sources.toml") for file, _, _ in found)
    assert any(k == key and rule in r for _, k, r in found), found


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    broken = SOURCE.replace(URL, "file:///etc/passwd").replace('"30m"', '"soon"')
    keys = {key for _, key, _ in problems(write(tmp_path, broken))}
    assert keys == {"sources[0].url", "sources[0].poll_interval"}


def test_unreadable_settings_file_names_it(tmp_path: Path) -> None:
    write(tmp_path, SOURCE)
    (tmp_path / "settings.toml").mkdir()
    found = problems(tmp_path)
    assert found[0][0] == str(tmp_path / "settings.toml")
    assert "cannot be read" in found[0][2]


def test_broken_settings_toml_names_the_file(tmp_path: Path) -> None:
    found = problems(write(tmp_path, SOURCE, "[crawl\nallow_loopback = true\n"))
    assert found[0][0] == str(tmp_path / "settings.toml")
    assert "not valid TOML" in found[0][2]


def test_sources_file_named_in_settings_must_exist(tmp_path: Path) -> None:
    found = problems(write(tmp_path, SOURCE, 'sources_file = "elsewhere.toml"\n'))
    assert found == [(str(tmp_path / "elsewhere.toml"), "", found[0][2])]
    assert "not found" in found[0][2]


def test_bad_boolean_from_the_environment_names_the_key(tmp_path: Path) -> None:
    found = problems(write(tmp_path, SOURCE), {"PRESSCUT_CRAWL_ALLOW_LOOPBACK": "maybe"})
    assert [key for _, key, _ in found] == ["crawl.allow_loopback"]


def test_address_safety_is_on_by_default(tmp_path: Path) -> None:
    crawl = load_config(write(tmp_path, SOURCE), environ={}).settings.crawl
    assert crawl.allow_loopback is False
    assert crawl.allow_private_addresses is False
    allowed = load_config(tmp_path, environ={"PRESSCUT_CRAWL_ALLOW_LOOPBACK": "true"})
    assert allowed.settings.crawl.allow_loopback is True
