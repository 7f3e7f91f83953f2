"""Scrapy settings for presscut.

The item pipeline order is declared here and nowhere else.  Values that come
from presscut's own configuration (user agent, politeness, limits) are applied
per crawl by `scraper.round.scrapy_settings`; what stays here are the fixed
choices and safe defaults for a bare ``scrapy crawl feed``.
"""

BOT_NAME = "presscut"
SPIDER_MODULES = ["scraper.spiders"]
NEWSPIDER_MODULE = "scraper.spiders"

# Stage order: each stage returns the item or raises DropItem with a reason.
ITEM_PIPELINES = {
    "pipelines.normalize.NormalizeStage": 100,
    "pipelines.validate.ValidateStage": 200,
    "pipelines.topic.TopicStage": 300,
    "pipelines.excerpt.ExcerptStage": 400,
    "pipelines.dedupe.DedupeStage": 500,
    "pipelines.store.StoreStage": 600,
}

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
USER_AGENT = "presscut/0.1 (+https://github.com/presscut/presscut)"
ROBOTSTXT_OBEY = True

# Politeness: a few requests per host at a time, spaced, adapting to latency.
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.25
RANDOMIZE_DOWNLOAD_DELAY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# Bounded work per request: a hostile server cannot hold or flood us.
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10_000_000
DOWNLOAD_WARNSIZE = 5_000_000
RETRY_ENABLED = True
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 5
METAREFRESH_ENABLED = False
COOKIES_ENABLED = False

# Only http(s): no file:, data:, ftp: or s3: reachable through a redirect.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}

# No remote shell into a crawling process.
TELNETCONSOLE_ENABLED = False

# Fetch state lives in presscut's database, not in Scrapy's HTTP cache.
HTTPCACHE_ENABLED = False

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
