"""What the round spider's readers share: the host they rely on, and how a
response's headers and block pages are read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError

from scraper.blocks import Block, detect_block

if TYPE_CHECKING:
    from config import Source
    from scraper.context import RoundContext
    from scraper.items import Clipping


class SourceReader:
    """Base of the readers of each source kind (feed, sitemap, section) and
    of the article requests: what they rely on from `RoundSpider`, which
    mixes them in.  Declarations only."""

    crawler: Any
    context: RoundContext

    if TYPE_CHECKING:  # provided by the round spider and its article mixin

        def unchanged(self, response: Response) -> bool: ...
        def fetched(self, response: Response, *, validators: bool = True) -> None: ...
        def failed_source(self, response: Response, kind: str, message: str) -> None: ...
        def request_articles(self, source: Source, bases: list[Clipping]) -> list[Any]: ...
        def listing_failed(self, failure: Any) -> None: ...
        def listing_answered(self, response: Response) -> None: ...


#: Request meta keys that say where a further listing page sits.
LISTING_PLACES = ("listing_page", "sitemap_depth")


def listing_place(meta: dict[str, Any]) -> dict[str, int]:
    """Where a listing request's page sits (``listing_page``,
    ``sitemap_depth``), from its meta."""
    return {k: int(meta[k]) for k in LISTING_PLACES if k in meta}


def header(response: Response, name: str) -> str | None:
    """One header's value as text (Latin-1, as HTTP has it), or ``None``."""
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def headers(response: Response) -> dict[str, str]:
    """Every header's first value as text."""
    return {
        k.decode("latin-1"): (v[0] if v else b"").decode("latin-1")
        for k, v in response.headers.items()
    }


#: Statuses by which a site walls an article off from presscut: it exists,
#: but is not shown (login required, forbidden, unavailable for legal
#: reasons).  A 404 or 410 says it is gone.
WALL_STATUSES = frozenset({401, 403, 451})


def walled(failure: Any) -> bool:
    """Whether ``failure`` is an HTTP answer of `WALL_STATUSES`."""
    if not isinstance(failure.value, HttpError):
        return False
    return failure.value.response.status in WALL_STATUSES


def blocked_response(failure: Any) -> Block | None:
    """The block page behind an HTTP error (a 403 or 503 challenge, an
    "access denied" page); a 404 or 410 is an HTTP error, never a block."""
    response = getattr(failure.value, "response", None)
    if response is None or not isinstance(failure.value, HttpError):
        return None
    if response.status in (404, 410):
        return None
    return detect_block(status=response.status, headers=headers(response), body=response.body)
