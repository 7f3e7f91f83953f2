"""Routine failures are fast and quiet, and environment mistakes are blamed
on the variable (#17.7)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError
from scrapy.utils.misc import load_object
from twisted.internet import error as net

from config import ConfigError, load_config
from scraper import settings as scrapy_defaults
from tests.faultcrawl import write_config
from tests.faultserver import FaultServer

REPO = Path(__file__).resolve().parent.parent


def retried() -> tuple[type[BaseException], ...]:
    return tuple(load_object(name) for name in scrapy_defaults.RETRY_EXCEPTIONS)


@pytest.mark.parametrize(
    "error",
    [
        DownloadConnectionRefusedError(),
        CannotResolveHostError(),
        net.ConnectionRefusedError(),
        net.DNSLookupError(),
    ],
)
def test_refused_and_dns_failures_are_not_retried(error: BaseException) -> None:
    assert not isinstance(error, retried())


def test_timeouts_are_still_retried() -> None:
    assert isinstance(net.TimeoutError(), retried())
    assert isinstance(net.ConnectionLost(), retried())


def presscut(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


def test_a_dead_host_fails_in_one_line_quickly(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    urls = {"dead-host": FaultServer.refused_url()}
    folder = write_config(tmp_path / "config", db, urls, crawl={"retry_times": 2})
    for command in (("crawl",), ("sources", "check")):
        started = time.monotonic()
        result = presscut(*command, "--config", str(folder))
        elapsed = time.monotonic() - started
        assert elapsed < 20, (command, elapsed)
        assert "Traceback" not in result.stderr, result.stderr
        assert "ScrapyDeprecationWarning" not in result.stderr, result.stderr
        assert "dead-host" in result.stdout and "connection refused" in result.stdout
        assert len(result.stderr.splitlines()) <= 2, result.stderr
    crawl = presscut("crawl", "--config", str(folder), "--all")
    # Scrapy's memory extension may warn of the process's peak RSS, which on
    # Linux counts the parent's before exec (a large pytest process): that
    # warning is about the crawl, not a source.
    warnings = [
        line
        for line in crawl.stderr.splitlines()
        if "WARNING" in line and "[scrapy.extensions.memusage]" not in line
    ]
    assert warnings and all("source dead-host:" in line for line in warnings), crawl.stderr


def sources(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sources.toml").write_text(
        '[[sources]]\nid = "a"\noutlet = "A"\nurl = "https://a.example.org/feed"\n',
        encoding="utf-8",
    )
    return folder


def test_a_bad_environment_value_is_blamed_on_the_variable(tmp_path: Path) -> None:
    folder = sources(tmp_path / "config")
    with pytest.raises(ConfigError) as info:
        load_config(folder, environ={"PRESSCUT_CRAWL_ALLOW_LOOPBACK": "maybe"})
    message = str(info.value)
    assert message.startswith("environment variable PRESSCUT_CRAWL_ALLOW_LOOPBACK: ")
    assert "crawl.allow_loopback" in message and "settings.toml" not in message


def test_a_misspelt_variable_warns_and_a_top_level_one_is_honoured(tmp_path: Path) -> None:
    folder = sources(tmp_path / "config")
    (folder / "other.toml").write_text((folder / "sources.toml").read_text(), encoding="utf-8")
    env = {
        "PRESSCUT_CRAWL_ALOW_LOOPBACK": "true",
        "PRESSCUT_SOURCES_FILE": "other.toml",
        "PRESSCUT_CONFIG_DIR": str(folder),
        # variables that steer the suite and CI are not settings, and not warned of
        "PRESSCUT_REQUIRE_SERVICES": "1",
        "PRESSCUT_REQUIRE_WORDPRESS": "1",
        "PRESSCUT_TEST_POSTGRES_URL": "postgresql://x",
    }
    config = load_config(folder, environ=env)
    assert config.warnings == (
        "environment: PRESSCUT_CRAWL_ALOW_LOOPBACK: unknown presscut setting (ignored)",
    )
    assert config.sources_path.name == "other.toml"
    assert not config.settings.crawl.allow_loopback


def test_the_command_prints_the_warning(tmp_path: Path) -> None:
    folder = sources(tmp_path / "config")
    (folder / "settings.toml").write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "p.db"}"\n', encoding="utf-8"
    )
    subprocess.run(
        [sys.executable, "-m", "cli.main", "db", "upgrade", "--config", str(folder)],
        check=True,
        capture_output=True,
        timeout=60,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin"},
    )
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "sources", "list", "--config", str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "PRESSCUT_CRAWL_ALOW_LOOPBACK": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert "warning: environment: PRESSCUT_CRAWL_ALOW_LOOPBACK: unknown" in result.stderr
