"""Config loading: valid files load, every invalid one names file, key and rule."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest

from config import ConfigError, Settings, load_config

CONFIG = Path(__file__).resolve().parent.parent / "config"

SOURCE = """
[[topics]]
name = "floods"
include = ["flood", "storm surge"]

[[sources]]
id = "herald"
outlet = "The Harbour Herald"
url = "https://herald.example/feed.rss"
poll_interval = "30m"
topics = ["floods"]
"""


def write(folder: Path, sources: str, settings: str | None = None) -> Path:
    (folder / "sources.toml").write_text(sources, encoding="utf-8")
    if settings is not None:
        (folder / "settings.toml").write_text(settings, encoding="utf-8")
    return folder


def error_of(folder: Path, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(folder, environ={}, **kwargs)
    return str(info.value)


def test_valid_config_loads_with_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, SOURCE), environ={})
    assert config.sources[0].poll_interval_s == 1800
    assert config.sources[0].kind == "feed"
    assert config.topics["floods"].include == ["flood", "storm surge"]
    # The default relative path is taken against the config folder.
    assert config.settings.database.url == f"sqlite:///{tmp_path / 'data' / 'presscut.db'}"


def test_shipped_examples_are_valid(tmp_path: Path) -> None:
    shutil.copy(CONFIG / "settings.example.toml", tmp_path / "settings.toml")
    shutil.copy(CONFIG / "sources.example.toml", tmp_path / "sources.toml")
    config = load_config(tmp_path, environ={})
    assert config.sources and config.topics


def test_every_setting_is_documented_in_the_example() -> None:
    example = tomllib.loads((CONFIG / "settings.example.toml").read_text(encoding="utf-8"))
    for section, field in Settings.model_fields.items():
        sub = getattr(field.annotation, "model_fields", None)
        if sub is None:
            assert section in example, f"{section} missing from settings.example.toml"
            continue
        for key in sub:
            assert key in example.get(section, {}), f"[{section}] {key} undocumented"
    # and the example's values are the defaults
    assert Settings.model_validate(example) == Settings()


@pytest.mark.parametrize(
    ("sources", "key", "rule"),
    [
        (SOURCE.replace("https://herald.example/feed.rss", "ftp://herald.example/feed"),
         "sources[0].url", "http"),
        (SOURCE.replace("https://herald.example/feed.rss", "file:///etc/passwd"),
         "sources[0].url", "http"),
        (SOURCE.replace('"30m"', '"soon"'), "sources[0].poll_interval", "duration"),
        (SOURCE.replace('topics = ["floods"]', 'topics = ["fires"]'),
         "sources[0].topics[0]", "unknown topic 'fires'"),
        (SOURCE.replace('id = "herald"', 'id = "Herald Daily"'), "sources[0].id", "pattern"),
        (SOURCE.replace('outlet = "The Harbour Herald"\n', ""), "sources[0].outlet", "required"),
        (SOURCE + "\n[[sources]]\nid = \"herald\"\noutlet = \"X\"\nurl = \"https://x.example/\"\n",
         "sources[1].id", "duplicate id 'herald'"),
        (SOURCE.replace('include = ["flood", "storm surge"]', "include = []"),
         "topics[0].include", "at least 1"),
        (SOURCE + 'colour = "red"\n', "sources[0].colour", "unknown key"),
    ],
)  # fmt: skip
def test_invalid_sources_name_file_key_and_rule(
    tmp_path: Path, sources: str, key: str, rule: str
) -> None:
    message = error_of(write(tmp_path, sources))
    assert str(tmp_path / "sources.toml") in message
    assert f": {key}: " in message
    assert rule in message


def test_invalid_settings_name_file_key_and_rule(tmp_path: Path) -> None:
    folder = write(tmp_path, SOURCE, "[crawl]\nconcurrent_requests_per_host = 0\n")
    message = error_of(folder)
    assert re.search(
        r"settings\.toml: crawl\.concurrent_requests_per_host: .*greater than", message
    )


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "[[sources]\nid = 1"))
    assert "sources.toml" in message and "not valid TOML" in message


def test_missing_sources_file(tmp_path: Path) -> None:
    message = error_of(tmp_path)
    assert "sources.toml" in message and "not found" in message


def test_environment_overrides_settings(tmp_path: Path) -> None:
    folder = write(tmp_path, SOURCE, '[database]\nurl = "sqlite:///a.db"\n')
    env = {
        "PRESSCUT_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1/test",
        "PRESSCUT_CRAWL_DOWNLOAD_DELAY": "1.5",
    }
    config = load_config(folder, environ=env)
    assert config.settings.database.url.startswith("postgresql+psycopg://")
    assert config.settings.crawl.download_delay == 1.5


def test_bad_environment_override_is_reported(tmp_path: Path) -> None:
    folder = write(tmp_path, SOURCE)
    with pytest.raises(ConfigError) as info:
        load_config(folder, environ={"PRESSCUT_CRAWL_DOWNLOAD_TIMEOUT": "never"})
    assert "crawl.download_timeout" in str(info.value)
