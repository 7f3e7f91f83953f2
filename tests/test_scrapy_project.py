"""The Scrapy project around the crawl: ``scrapy crawl`` refuses and points
to ``presscut crawl``, a round spider or stage never runs without its round
context, nothing listens during a round and nothing is left in the home
folder, and the Scrapy defaults are the configuration's own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from config import load_config
from config.schema import Crawl
from demo.server import LocalWeb
from pipelines.dedupe import DedupeStage
from pipelines.store import StoreStage
from scraper import settings as project_settings
from scraper.errors import MissingContext
from scraper.settings import scrapy_settings
from scraper.spiders.round import RoundSpider
from tests.crawling import DEMO_SITES, REPO, write_config

#: The ``presscut`` command, run as a user runs it.
PRESSCUT = (sys.executable, "-m", "cli.main")


def scrapy(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Scrapy's own command line, run in the project folder (``scrapy.cfg``)."""
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=env,
    )


@pytest.mark.parametrize("spider", ["round", "feed", "check"])
def test_a_bare_scrapy_crawl_refuses_and_points_to_presscut(spider: str, tmp_path: Path) -> None:
    """Any spider name: nothing crawled, no database made, exit status 2 and
    one line saying what to run instead."""
    env = {**os.environ, "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")}
    result = scrapy("crawl", spider, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "use `presscut crawl`" in result.stderr or "run `presscut crawl`" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_scrapy_list_still_names_the_project_spiders() -> None:
    result = scrapy("list")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["check", "discover", "round"]


def test_the_round_spider_and_its_stages_need_a_round_context() -> None:
    with pytest.raises(MissingContext, match="presscut crawl"):
        RoundSpider()
    crawler = get_crawler()
    for stage in (DedupeStage, StoreStage):
        with pytest.raises(MissingContext):
            stage.from_crawler(crawler)


def test_scrapy_defaults_are_the_configuration_defaults() -> None:
    """Not retyped: the project settings take `config.schema.Crawl`'s."""
    crawl = Crawl()
    pairs = {
        "USER_AGENT": crawl.user_agent,
        "DOWNLOAD_DELAY": crawl.download_delay,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout,
        "DOWNLOAD_MAXSIZE": crawl.max_response_bytes,
        "CONCURRENT_REQUESTS": crawl.concurrent_requests,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_requests_per_host,
        "RETRY_TIMES": crawl.retry_times,
        "ROBOTSTXT_OBEY": crawl.obey_robots_txt,
    }
    assert {name: getattr(project_settings, name) for name in pairs} == pairs


def test_nothing_listens_in_a_round(tmp_path: Path) -> None:
    (tmp_path / "sources.toml").write_text("", encoding="utf-8")
    settings = scrapy_settings(load_config(tmp_path, environ={}))
    assert settings.getbool("TELNETCONSOLE_ENABLED") is False
    assert settings.getbool("REMOTE_CONTROL_ENABLED") is False


def test_a_crawl_opens_no_remote_control_and_leaves_no_job_file(tmp_path: Path) -> None:
    """End to end, as a user runs it, with the home folder watched."""
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_STATE_HOME": str(home / ".local" / "state")}
    with LocalWeb(DEMO_SITES, ["harbour-herald"]) as web:
        sources = (
            '[[sources]]\nid = "harbour-herald"\noutlet = "The Harbour Herald"\n'
            'url = "{{base:harbour-herald}}/feed.rss"\n'
        )
        config = write_config(
            tmp_path / "config", web, f"sqlite:///{tmp_path / 'p.db'}", sources=sources
        )
        result = subprocess.run(
            [*PRESSCUT, "crawl", "--all", "--log-level=INFO", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=180,
            cwd=REPO,
            env=env,
        )
    output: Any = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "new clipping(s) stored" in output
    assert "Remote control HTTP server listening" not in output
    assert "Telnet console listening" not in output
    assert [p for p in home.rglob("*") if p.is_file()] == []
