"""The round context: what one crawl round shares, handed over in one piece.

`rounds.round.run_round` builds one `RoundContext` per round and hands it to
the round spider as a spider argument (``process.crawl(RoundSpider,
context=...)``); every pipeline stage gets its parts in ``from_crawler``
through `context_of`, and nothing else reaches into the spider.  A spider or
stage built without one (a bare ``scrapy crawl``) raises
`scraper.errors.MissingContext`: a round needs its configuration, its
migrated store and its round lock, which only ``presscut`` provides.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from config import Config
from scraper.errors import MissingContext
from scraper.polling import PollingPolicy
from scraper.source_states import SourceStates
from storage import Store


@dataclass
class RoundContext:
    """One round's shared state.

    ``config`` is the validated configuration; ``store`` the round's one
    `storage.Store` (opened, migrated and closed by the caller); ``states``
    the per-source fetch state, counts and errors (`SourceStates`);
    ``windows`` when each source's ``since`` window opens (sources with one
    only), filled by the spider once it knows the due sources; ``bodies``
    which cluster each body went to across a cluster's workers."""

    config: Config
    store: Store
    states: SourceStates
    windows: dict[str, datetime] = field(default_factory=dict)
    #: A cluster worker's `scraper.frontier.SharedBodies`; ``None`` in one
    #: process.
    bodies: Any = None

    @classmethod
    def open(cls, config: Config, store: Store) -> RoundContext:
        """A fresh context for a round over ``config`` into ``store``."""
        policy = PollingPolicy.from_settings(config.settings.polling)
        return cls(config=config, store=store, states=SourceStates(store, policy))

    @property
    def summary(self) -> dict[str, Counter[str]]:
        """``summary[source_id][outcome]``: see `SourceStates`."""
        return self.states.summary

    @property
    def errors(self) -> dict[str, str]:
        """The first error per source, ``"<kind>: <message>"``."""
        return self.states.errors


def context_of(crawler: Any) -> RoundContext:
    """The `RoundContext` of ``crawler``'s round spider; `MissingContext`
    when there is none."""
    return require_context(getattr(getattr(crawler, "spider", None), "context", None))


def require_context(context: Any) -> RoundContext:
    """``context`` when it is a `RoundContext`, else `MissingContext`."""
    if not isinstance(context, RoundContext):
        raise MissingContext(
            "a crawl round runs through presscut: use `presscut crawl` "
            "(or `presscut run`), not `scrapy crawl`"
        )
    return context
