"""The shape of presscut's configuration: every setting declared once, with its
type, default, rule and help text.

Two files make a configuration (see `config.loader`):

* ``settings.toml``: how presscut runs (database, crawling, excerpts, the
  publication's name); every key optional, defaults below;
* ``sources.toml``: what it watches: ``[[topics]]`` and ``[[sources]]``.

Durations are written ``90s``, ``30m``, ``2h``, ``1d`` (or a number of seconds)
and held as seconds (``float``).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
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


def _http_url(value: str) -> str:
    from scraper.urls import is_http_url

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


class Source(_Strict):
    """One watched source: a feed (sitemaps and section pages come later)."""

    id: Slug
    outlet: str = Field(min_length=1, description="outlet name as cited in a clipping")
    kind: Literal["feed"] = "feed"
    url: HttpUrl
    language: str | None = Field(None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]+)?$")
    poll_interval: Duration = 3600.0
    topics: list[str] = []
    enabled: bool = True

    @property
    def poll_interval_s(self) -> float:
        return self.poll_interval


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
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db",
    )

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        return value


class Crawl(_Strict):
    user_agent: str = Field(
        "presscut/0.1 (+https://github.com/presscut/presscut)",
        description="identifying User-Agent with a contact URL",
    )
    concurrent_requests: int = Field(32, ge=1, le=512)
    concurrent_requests_per_host: int = Field(2, ge=1, le=16)
    download_delay: float = Field(0.25, ge=0, description="seconds between requests to a host")
    download_timeout: float = Field(30, gt=0, description="seconds")
    max_response_bytes: int = Field(10_000_000, gt=0)
    extract_workers: int = Field(
        0, ge=0, le=64, description="extraction processes; 0 means one per core"
    )
    obey_robots_txt: bool = True


class Excerpt(_Strict):
    min_words: int = Field(60, ge=1)
    max_words: int = Field(140, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Excerpt:
        if self.max_words < self.min_words:
            raise ValueError("max_words must be at least min_words")
        return self


class Publication(_Strict):
    name: str = Field("Presscut", description='publication name, as in "<Name> Weekly Digest"')


class Settings(_Strict):
    """Contents of ``settings.toml``; every key optional."""

    publication: Publication = Publication()
    database: Database = Database()
    crawl: Crawl = Crawl()
    excerpt: Excerpt = Excerpt()
    sources_file: str = Field("sources.toml", description="relative to the config folder")
