"""The shape of presscut's configuration: every setting declared once, with its
type, default, rule and help text.

Two files make a configuration (see `config.loader`):

* ``settings.toml``: how presscut runs (database, crawling, excerpts, the
  publication's name); every key optional, defaults below;
* ``sources.toml``: what it watches: ``[[topics]]`` and ``[[sources]]``.

Durations are written ``90s``, ``30m``, ``2h``, ``1d`` (or a number of seconds)
and held as seconds (``float``).
"""

# Longer than ~300 lines on purpose: every setting is declared once, here,
# with its type, default, rule and help (the tests check the example files
# against it); splitting it would scatter that one list.

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _parse_duration(value: object) -> object:
    """``"30m"`` -> ``1800.0``; numbers pass through as seconds."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError("must be a duration such as 90s, 30m, 2h or 1d")
        return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    return value


#: Default ports by scheme: the schemes a source URL may have.
_HTTP_PORTS = {"http": 80, "https": 443}


def is_http_url(url: object) -> bool:
    """Whether ``url`` is an absolute ``http://`` or ``https://`` URL with a
    host, free of white space and control characters, with a valid port.
    (Declared here, with the rule it backs; `scraper.urls` shares it.)"""
    if not isinstance(url, str) or not url:
        return False
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in _HTTP_PORTS and bool(parts.hostname)


def _http_url(value: str) -> str:
    if not is_http_url(value):
        raise ValueError("must be an absolute http:// or https:// URL")
    return value


Duration = Annotated[float, BeforeValidator(_parse_duration), Field(gt=0)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
Slug = Annotated[str, Field(pattern=_SLUG.pattern, max_length=64)]


class _Strict(BaseModel):
    # Unknown keys are typos until proven otherwise.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Topic(_Strict):
    """A named keyword set.  An article matches when any ``include`` term or
    phrase occurs in its title or text (case-insensitive, whole words,
    Unicode-aware) and no ``exclude`` term does."""

    name: Slug
    include: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    exclude: list[Annotated[str, Field(min_length=1)]] = []
    min_matches: int = Field(1, ge=1, description="distinct include terms needed for a match")


#: Window of a new source when its ``since`` is not set, by kind: sitemaps
#: and listing pages reach back through an outlet's archive; a feed already
#: lists only its latest items, so it keeps them all unless told otherwise.
DEFAULT_SINCE = {"sitemap": 7 * 86400.0, "section": 7 * 86400.0}


class Source(_Strict):
    """One watched source: an RSS/Atom ``feed``, a ``sitemap`` (index, plain,
    Google News; gzip'd or not) or a ``section`` (listing pages whose article
    links are followed, with their pagination)."""

    id: Slug
    outlet: str = Field(min_length=1, description="outlet name as cited in a clipping")
    kind: Literal["feed", "sitemap", "section"] = "feed"
    url: HttpUrl
    language: str | None = Field(None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]+)?$")
    poll_interval: Duration = 3600.0
    topics: list[str] = []
    enabled: bool = True
    since: Duration | None = Field(
        None,
        description="take only articles published after the source's first crawl minus "
        "this; default 7d for sitemap and section, no limit for feed",
    )
    url_pattern: str | None = Field(
        None, description="regular expression an article URL must match (sitemap, section)"
    )
    max_pages: int = Field(3, ge=1, le=100, description="listing pages followed (section)")
    ignore_robots: bool = Field(
        False, description="fetch this source's URLs even where robots.txt forbids it"
    )

    @property
    def poll_interval_s(self) -> float:
        return self.poll_interval

    @property
    def since_s(self) -> float | None:
        """The ``since`` window in seconds, the kind's default when unset;
        ``None`` means no window."""
        return self.since if self.since is not None else DEFAULT_SINCE.get(self.kind)

    @field_validator("url_pattern")
    @classmethod
    def _pattern(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.data.get("kind", "feed") == "feed":
            raise ValueError('only for kind = "sitemap" or "section"')
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @field_validator("max_pages")
    @classmethod
    def _pages(cls, value: int, info: ValidationInfo) -> int:
        if info.data.get("kind") not in (None, "section"):
            raise ValueError('only for kind = "section"')
        return value


class SourcesFile(_Strict):
    """Contents of ``sources.toml``."""

    topics: list[Topic] = []
    sources: list[Source] = []

    def cross_errors(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Rules across entries: unique names and ids, known topics.  Returns
        ``(key path, rule)`` pairs, empty when the file is consistent."""
        errors: list[tuple[tuple[str | int, ...], str]] = []
        errors += _duplicates([t.name for t in self.topics], "topics", "name")
        errors += _duplicates([s.id for s in self.sources], "sources", "id")
        known = {t.name for t in self.topics}
        for i, source in enumerate(self.sources):
            for j, topic in enumerate(source.topics):
                if topic not in known:
                    defined = ", ".join(sorted(known)) or "none"
                    errors.append(
                        (
                            ("sources", i, "topics", j),
                            f"unknown topic {topic!r} (defined: {defined})",
                        )
                    )
        return errors


def _duplicates(
    values: list[str], section: str, key: str
) -> list[tuple[tuple[str | int, ...], str]]:
    seen: set[str] = set()
    errors: list[tuple[tuple[str | int, ...], str]] = []
    for i, value in enumerate(values):
        if value in seen:
            errors.append(((section, i, key), f"duplicate {key} {value!r}"))
        seen.add(value)
    return errors


class Database(_Strict):
    url: str = Field(
        "sqlite:///data/presscut.db",
        description=(
            "SQLAlchemy URL: sqlite:///path (relative to the config folder) "
            "or postgresql+psycopg://user@host/db"
        ),
    )

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        return value


class Cluster(_Strict):
    """Crawling on several processes or machines: a coordinator (``presscut
    crawl``/``run``) and ``presscut worker`` processes sharing a Redis
    frontier and one PostgreSQL store.  Unset ``redis_url``: one process."""

    redis_url: str = Field(
        "",
        description="redis://host:port/db of the shared frontier; empty: no cluster",
    )
    prefix: str = Field(
        "presscut",
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Redis key prefix: one per cluster sharing a Redis server",
    )
    lease: Duration = Field(
        120.0,
        gt=0,
        description="how long a worker holds a request before it is handed to another",
    )

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL, or empty")
        return value


class Crawl(_Strict):
    user_agent: str = Field(
        "presscut/0.1 (+https://github.com/presscut/presscut)",
        description="identifying User-Agent with a contact URL",
    )
    # In all, not per host: requests waiting out a host's delay count too, so
    # a round over many hosts needs room for a few per host (politeness is
    # per host: concurrent_requests_per_host and download_delay).
    concurrent_requests: int = Field(128, ge=1, le=512)
    concurrent_requests_per_host: int = Field(2, ge=1, le=16)
    download_delay: float = Field(0.25, ge=0, description="seconds between requests to a host")
    download_timeout: float = Field(30, gt=0, description="seconds")
    max_response_bytes: int = Field(10_000_000, gt=0)
    extract_workers: int = Field(
        0, ge=0, le=64, description="extraction processes; 0 means one per core"
    )
    obey_robots_txt: bool = True
    crawl_delay_max: float = Field(
        30.0, ge=0, description="seconds: ceiling on a robots.txt Crawl-delay honoured"
    )
    retry_times: int = Field(2, ge=0, le=10, description="retries of a transient failure")
    retry_backoff: float = Field(
        1.0, ge=0, description="seconds before the first retry; doubled for each one after"
    )
    retry_after_max: float = Field(
        120.0, ge=0, description="seconds: ceiling on a Retry-After wait and on the backoff"
    )
    host_error_budget: int = Field(
        8, ge=1, description="transient failures in a row before a host is left for the round"
    )
    round_budget: Duration = Field(
        600.0,
        description="how long a round hands out requests; what is not sent by then is left, "
        "pending, for the next round",
    )
    max_articles_per_source: int = Field(
        200, ge=1, description="new articles requested per source and round"
    )
    article_retry_delays: list[Duration] = Field(
        [3600.0, 21600.0, 86400.0],
        min_length=1,
        max_length=10,
        description="waits before a transiently failed article is fetched again, after its "
        "first, second, ... failure; one failure more gives it up",
    )
    parse_timeout: float = Field(
        60, gt=0, description="seconds a feed may take to parse before it is given up"
    )
    extract_timeout: float = Field(
        30,
        gt=0,
        description="seconds an article page may take to extract before its worker is "
        "stopped and the page recorded as parse_error",
    )
    allow_loopback: bool = Field(
        False,
        description="crawl hosts on this machine (127.0.0.0/8, ::1): for local test sites only",
    )
    allow_private_addresses: bool = Field(
        False,
        description="crawl private, shared and link-local addresses (10/8, 172.16/12, "
        "192.168/16, 100.64/10, 169.254/16 incl. cloud metadata, fc00::/7, fe80::/10)",
    )


class Excerpt(_Strict):
    min_words: int = Field(60, ge=1)
    max_words: int = Field(140, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Excerpt:
        if self.max_words < self.min_words:
            raise ValueError("max_words must be at least min_words")
        return self


class Polling(_Strict):
    """Bounds and memory of the adaptive poll interval (`scraper.polling`)."""

    floor: Duration = Field(300.0, description="shortest interval between two polls of a source")
    ceiling: Duration = Field(
        86400.0, description="longest interval, also the ceiling of a failing source's back-off"
    )
    window: Duration = Field(
        14 * 86400.0, description="how far back a source's publishing rate is measured"
    )

    @model_validator(mode="after")
    def _ordered(self) -> Polling:
        if self.ceiling < self.floor:
            raise ValueError("ceiling must be at least floor")
        return self


class ScheduledJob(_Strict):
    """A presscut command line run on a cron schedule by ``presscut run``."""

    id: Slug
    cron: str = Field(description="minute hour day month weekday, as in crontab(5)")
    command: str = Field(min_length=1, description="presscut arguments, e.g. 'db prune'")
    misfire_grace: Duration | None = Field(
        None, description="how late a missed run may still start; default [schedule] misfire_grace"
    )

    @field_validator("cron")
    @classmethod
    def _crontab(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(
                f"not a crontab expression (minute hour day month weekday): {exc}"
            ) from None
        return value

    @field_validator("command")
    @classmethod
    def _command(cls, value: str) -> str:
        import shlex

        try:
            words = shlex.split(value)
        except ValueError as exc:
            raise ValueError(f"cannot be split into arguments: {exc}") from None
        if not words:
            raise ValueError("names no command")
        if words[0] == "run":
            raise ValueError("cannot be 'run': the scheduler does not start itself")
        return value


class Schedule(_Strict):
    """What ``presscut run`` does when (see ``scheduler.py``)."""

    tick: Duration = Field(300.0, description="how often due sources are crawled, in one round")
    misfire_grace: Duration = Field(
        3600.0, description="how late a missed cron job may still start"
    )
    stop_timeout: Duration = Field(
        30.0, description="how long a stop waits for a running round before abandoning it"
    )
    timezone: str = Field("UTC", description="IANA zone in which cron times are read")
    jobs: list[ScheduledJob] = [
        ScheduledJob(id="housekeeping", cron="30 3 * * *", command="db prune")
    ]

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as UTC or Europe/London") from None
        return value

    @field_validator("jobs")
    @classmethod
    def _unique(cls, jobs: list[ScheduledJob]) -> list[ScheduledJob]:
        seen = {"crawl"}  # the crawl tick's own id
        for job in jobs:
            if job.id in seen:
                raise ValueError(f"job id {job.id!r} is taken")
            seen.add(job.id)
        return jobs


class Logging(_Strict):
    """Log output of the long-running commands (``presscut run``)."""

    format: Literal["text", "json"] = Field(
        "text", description="text lines, or one JSON object per line"
    )
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Publication(_Strict):
    """The publication itself: what its pages say about it."""

    name: str = Field("Presscut", description='publication name, as in "<Name> Weekly Digest"')
    description: str = Field("", description="its aims, shown in the archive's header")
    url: str = Field("", description="the site's address; links of the feed and WXR export")
    email: str = Field("", description="contact address shown in the header")
    twitter: str = Field("", description="Twitter/X handle shown in the header, without @")
    logo: str = Field("", description="URL of the logo image (its alternative text: the name)")
    timezone: str = Field("UTC", description="IANA zone in which dates are shown")

    @field_validator("url")
    @classmethod
    def _site_url(cls, value: str) -> str:
        return _http_url(value) if value else value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as UTC or Europe/London") from None
        return value


class Publishing(_Strict):
    """How posts, digests and the archive are rendered (see ``digest/``).
    Date formats are Python ``strftime`` formats."""

    templates: str = Field(
        "", description="folder of templates overriding the bundled ones (relative to config)"
    )
    posted_date_format: str = "%Y/%m/%d"
    article_date_format: str = "%B %d %Y"
    digest_date_format: str = "%B %d, %Y"
    digest_title: str = Field(
        "{name} Weekly Digest – {date}", description="{name} and {date} are filled in"
    )
    digest_order: Literal["newest", "topic"] = "newest"
    week_ends_on: Literal[
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    ] = "friday"
    feed_entries: int = Field(50, ge=1, description="clippings in the Atom feed")

    @field_validator("digest_title")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        try:
            value.format(name="", date="")
        except (KeyError, IndexError, ValueError):
            raise ValueError("may use only the {name} and {date} placeholders") from None
        return value


class WordPress(_Strict):
    """The WordPress site ``presscut publish wordpress`` writes to.  The
    application password is read from the environment only:
    ``PRESSCUT_WORDPRESS_PASSWORD``."""

    url: str = Field("", description="site address, e.g. https://news.example.org")
    user: str = Field("", description="user name the application password belongs to")

    @field_validator("url")
    @classmethod
    def _site_url(cls, value: str) -> str:
        return _http_url(value) if value else value


class Settings(_Strict):
    """Contents of ``settings.toml``; every key optional."""

    publication: Publication = Publication()
    publishing: Publishing = Publishing()
    wordpress: WordPress = WordPress()
    database: Database = Database()
    crawl: Crawl = Crawl()
    cluster: Cluster = Cluster()
    excerpt: Excerpt = Excerpt()
    polling: Polling = Polling()
    schedule: Schedule = Schedule()
    logging: Logging = Logging()
    sources_file: str = Field("sources.toml", description="relative to the config folder")

    @model_validator(mode="after")
    def _cluster_store(self) -> Settings:
        # Every worker writes to the one store: a SQLite file on one machine
        # cannot be it.
        if self.cluster.redis_url and not self.database.url.startswith("postgresql"):
            raise ValueError("[cluster] redis_url needs a postgresql+psycopg:// [database] url")
        return self
