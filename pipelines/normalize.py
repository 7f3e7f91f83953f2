"""Normalize: bring a freshly extracted clipping to the `Clipping` invariants
(`scraper.normalize.normalize_clipping`: canonical URL and its hash, tidy
NFC text, content hash and SimHash).

A clipping read by the extraction workers arrives normalized already, with
its `scraper.analysis.Analysis`; it is counted and passed on as it is.
"""

from __future__ import annotations

from pipelines.stage import Stage
from scraper.analysis import analysis_of
from scraper.items import Clipping
from scraper.normalize import normalize_clipping

__all__ = ["NormalizeStage", "normalize_clipping"]


class NormalizeStage(Stage):
    namespace = "normalize"

    def process_item(self, item: Clipping) -> Clipping:
        if analysis_of(item) is None:
            normalize_clipping(item)
        self.count("items")
        return item
