"""Scrapy settings for presscut.

The item pipeline order is declared here and nowhere else.  Values that come
from presscut's own configuration (user agent, politeness, limits) are
applied per crawl by `scrapy_settings`; their defaults here are
`config.schema.Crawl`'s, never retyped.  The rest are fixed choices.

Rounds run through ``presscut crawl`` and ``presscut run`` only: ``scrapy
crawl`` is replaced by a command that refuses, pointing there
(`scraper.commands`), since a round needs the configuration, a migrated
database and the round lock.
"""

from __future__ import annotations

import typing

from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings

from config.schema import Crawl

if typing.TYPE_CHECKING:
    from config import Config

_defaults = Crawl()

BOT_NAME = "presscut"
SPIDER_MODULES = ["scraper.spiders"]
NEWSPIDER_MODULE = "scraper.spiders"
# ``scrapy crawl`` refuses, pointing to ``presscut crawl``.
COMMANDS_MODULE = "scraper.commands"

# Stage order: each stage returns the item or raises DropItem with a reason.
# For a crawled article the extraction worker has done the CPU work of
# normalize, topic and excerpt already (scraper/extraction_pool.py,
# scraper/analysis.py): those stages take its results over, count, and
# decide (drop off_topic) here, in this order; for an imported clipping they
# do the work themselves.
ITEM_PIPELINES = {
    "pipelines.normalize.NormalizeStage": 100,
    "pipelines.validate.ValidateStage": 200,
    "pipelines.window.WindowStage": 250,
    "pipelines.topic.TopicStage": 300,
    "pipelines.excerpt.ExcerptStage": 400,
    "pipelines.dedupe.DedupeStage": 500,
    "pipelines.store.StoreStage": 600,
}

# Items of one response that go through the pipelines at once.  An article
# response gives one item, and every stage is synchronous, so more buys
# nothing; yet Scrapy starts that many asyncio tasks for every response's
# output (at the default of 100, a few milliseconds of the reactor thread's
# CPU per article).
CONCURRENT_ITEMS = 1

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
USER_AGENT = _defaults.user_agent
ROBOTSTXT_OBEY = _defaults.obey_robots_txt

# Politeness: a few requests per host at a time, spaced, adapting to latency.
CONCURRENT_REQUESTS = _defaults.concurrent_requests
CONCURRENT_REQUESTS_PER_DOMAIN = _defaults.concurrent_requests_per_host
DOWNLOAD_DELAY = _defaults.download_delay
DOWNLOAD_DELAY_JITTER = 0.5  # each delay drawn from 0.5x to 1.5x, as browsing looks
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = max(_defaults.download_delay, 0.01)
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# Many hosts at once: hand the downloader a request for the least busy host
# first, so requests waiting out one host's delay never fill the global
# concurrency while other hosts sit idle (Scrapy's "broad crawl" queue).
SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.DownloaderAwarePriorityQueue"

# Bounded work per request: a hostile server cannot hold or flood us.
# DOWNLOAD_TIMEOUT covers the whole response, so a server dripping a byte
# at a time is cut off too; DOWNLOAD_MAXSIZE also caps a body once
# decompressed (HttpCompressionMiddleware), which defuses compression bombs.
DOWNLOAD_TIMEOUT = _defaults.download_timeout
DOWNLOAD_MAXSIZE = _defaults.max_response_bytes
DOWNLOAD_WARNSIZE = _defaults.max_response_bytes // 2
DNS_TIMEOUT = 10
DOWNLOAD_FAIL_ON_DATALOSS = True  # a truncated body is an error, never a short page
RETRY_ENABLED = True
RETRY_TIMES = _defaults.retry_times
# Scrapy's list less a refused connection and a failed DNS lookup (and the
# ConnectError and OSError bases that hold them): those are answers, and
# retrying them cost ~36 s a host for nothing.  Timeouts and dropped or cut
# connections are still retried.
RETRY_EXCEPTIONS = [
    "scrapy.exceptions.DownloadFailedError",
    "scrapy.exceptions.DownloadTimeoutError",
    "scrapy.exceptions.ResponseDataLossError",
    "twisted.internet.error.TimeoutError",
    "twisted.internet.error.TCPTimedOutError",
    "twisted.internet.error.ConnectionDone",
    "twisted.internet.error.ConnectionLost",
    "scrapy.core.downloader.handlers.http11.TunnelError",
]
REDIRECT_MAX_TIMES = 5
METAREFRESH_ENABLED = False
COOKIES_ENABLED = False

# Only http(s): no file:, data:, ftp: or s3: reachable through a redirect.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}

# Only public addresses, checked on the resolved address at connect time
# and on literal addresses before a request is sent (see scraper.addresses;
# crawl.allow_loopback / crawl.allow_private_addresses lift it).
TWISTED_DNS_RESOLVER = "scraper.addresses.AddressGuardResolver"
DOWNLOADER_MIDDLEWARES = {
    "scraper.addresses.AddressGuardMiddleware": 50,
    # Robots.txt skipped only for a source with ignore_robots (before
    # RobotsTxtMiddleware at 100); Crawl-delay, Retry-After, backoff and
    # per-host error budgets in place of Scrapy's retry (scraper/politeness.py).
    "scraper.politeness.SourceRobots": 90,
    # robots.txt kept between rounds, 5xx as "try later" (scraper/robots.py).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "scraper.robots.RobotsCache": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "scraper.politeness.PolitenessMiddleware": 550,
}

# A last line of defence: warn past 400 MB, stop the round past 1 GB.
MEMUSAGE_ENABLED = True
MEMUSAGE_WARNING_MB = 400
MEMUSAGE_LIMIT_MB = 1024
MEMUSAGE_CHECK_INTERVAL_SECONDS = 10

# Nothing listens: no remote shell (telnet console) and no remote-control
# HTTP server into a crawling process; the latter would also leave a job
# file per round under the user's home (~/.local/state/scrapy/job_files).
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# Fetch state lives in presscut's database, not in Scrapy's HTTP cache.
HTTPCACHE_ENABLED = False

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"


def scrapy_settings(config: Config, *, log_level: str = "WARNING") -> Settings:
    """Scrapy settings for a crawl: this module overlaid with the values
    from presscut's configuration (``[crawl]``).  ``PRESSCUT_CONFIG`` carries
    the configuration to the downloader middlewares (address guard,
    politeness), which every spider runs through."""
    crawl = config.settings.crawl
    settings = get_project_settings()
    settings.setmodule("scraper.settings", priority="project")
    settings.update(
        {
            "PRESSCUT_CONFIG": config,
            "USER_AGENT": crawl.user_agent,
            "CONCURRENT_REQUESTS": crawl.concurrent_requests,
            "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_requests_per_host,
            "DOWNLOAD_DELAY": crawl.download_delay,
            "AUTOTHROTTLE_START_DELAY": max(crawl.download_delay, 0.01),
            "DOWNLOAD_TIMEOUT": crawl.download_timeout,
            "DOWNLOAD_MAXSIZE": crawl.max_response_bytes,
            "DOWNLOAD_WARNSIZE": crawl.max_response_bytes // 2,
            "ROBOTSTXT_OBEY": crawl.obey_robots_txt,
            "RETRY_TIMES": crawl.retry_times,
            "LOG_LEVEL": log_level,
        },
        priority="cmdline",
    )
    return settings
