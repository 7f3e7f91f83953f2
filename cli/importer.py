"""``presscut import FILE.jsonl``: clippings added by hand.

One JSON object a line: a curator's clipping of a print or broadcast piece,
or a migration from an older system.  Keys (`KEYS`):

* ``url`` (required, http(s)), ``title`` (the article's own title),
  ``headline`` (the post's; defaults to the title), ``authors`` (a list of
  names), ``via`` (who relayed a transcription), ``outlet``, ``language``;
* ``published_at``, ``posted_at``: ISO 8601 dates or datetimes; a date alone
  (``2019-09-17``) is the start of that day in the publication's time zone;
* ``excerpt`` and ``text``; ``text`` defaults to the excerpt (the part of the
  article presscut holds); the excerpt must be a verbatim passage of the
  text unless ``excerpt_paraphrased`` is true;
* ``topics`` (a list of names), ``status`` (``new`` by default; ``approved``,
  ``rejected`` with ``rejection_reason``, or ``published`` with
  ``posted_at``: a post migrated from another system, recorded as posted).

Every string is cleaned (`scraper.text.clean_text`: lone surrogates, NUL and
other control characters, non-characters removed) and cut to its cap in
`FIELD_CAPS`; each such change is reported as a note naming the line, and
the line is imported.  Dates outside the years the store keeps (1900-2200)
refuse their line.

Each clipping passes the crawl's own stages: normalize, validate and dedupe
(`pipelines`), against what is stored and earlier lines: a URL already stored
is a duplicate and skipped; the same (or a nearly the same) body as a stored
or earlier clipping joins that syndication cluster.  A bad line is reported with the file,
line number and cause; the other lines are imported.  Exit status 1 when a
line was refused.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.database import open_command_store
from cli.options import ConfigDir, console, errors, load
from digest.dates import parse_when, zone
from pipelines.dedupe import DedupeStage
from pipelines.normalize import NormalizeStage
from pipelines.validate import MIN_TEXT_WORDS, ValidateStage
from scraper.errors import Drop
from scraper.excerpt import is_verbatim
from scraper.items import STATUSES, Clipping
from scraper.text import clean_text
from storage import Store
from storage.batches import without_rejected
from storage.models import storable_datetime
from storage.publishing import AlreadyPublished

#: Most characters kept of each text field (``authors``: of each name);
#: longer values are cut, with a note.  Crawled titles are capped alike.
FIELD_CAPS = {
    "url": 2000, "title": 500, "headline": 500, "authors": 200, "via": 200, "outlet": 200,
    "language": 35, "published_at": 100, "posted_at": 100, "excerpt": 5000,
    "text": 200_000, "topics": 100, "status": 20, "rejection_reason": 1000,
}  # fmt: skip
#: Most names kept in ``authors``.
MAX_AUTHORS = 50

#: Keys an import line may have.
KEYS = frozenset(
    {
        "url", "title", "headline", "authors", "via", "outlet", "language", "published_at",
        "posted_at", "excerpt", "text", "excerpt_paraphrased", "topics", "status",
        "rejection_reason",
    }
)  # fmt: skip


class LineError(ValueError):
    """One import line that cannot be a clipping."""


@dataclass
class ImportReport:
    """What an import did: per outcome counts (``imported``, ``duplicate``,
    ``invalid``), one ``"FILE:LINE: cause"`` message per refused line, and
    one ``"FILE:LINE: note"`` per value cleaned or cut on an imported line."""

    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Stats:
    """The part of Scrapy's stats collector a stage uses."""

    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] += count


def _string_list(value: Any, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LineError(f"{key} must be a list of strings")
    return list(value)


def _fit(key: str, value: str, notes: list[str]) -> str:
    """``value`` cleaned and cut to its cap, with a note for each change."""
    cleaned = clean_text(value)
    if len(cleaned) < len(value):
        notes.append(
            f"{key}: {len(value) - len(cleaned)} character(s) that cannot be stored removed "
            "(lone surrogates, control characters or non-characters)"
        )
    cap = FIELD_CAPS[key]
    if len(cleaned) > cap:
        notes.append(f"{key}: cut to {cap} characters (was {len(cleaned)})")
        cleaned = cleaned[:cap]
    return cleaned


def _fitted(record: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """``record`` with every string fitted (see `_fit`)."""
    fitted = dict(record)
    for key, value in record.items():
        if isinstance(value, str):
            fitted[key] = _fit(key, value, notes)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            if key == "authors" and len(value) > MAX_AUTHORS:
                notes.append(f"authors: the first {MAX_AUTHORS} of {len(value)} kept")
                value = value[:MAX_AUTHORS]
            fitted[key] = [v for v in (_fit(key, v, notes) for v in value) if v]
    return fitted


def _stored_date(raw: str | None, tz: tzinfo, key: str) -> datetime | None:
    if not raw:
        return None
    try:
        return storable_datetime(parse_when(raw, tz, key), key)
    except ValueError as exc:
        raise LineError(str(exc)) from None


def clipping_from_record(
    record: Any, tz: tzinfo, now: datetime, notes: list[str] | None = None
) -> Clipping:
    """The `Clipping` an import record describes; `LineError` naming the
    key and rule when it cannot be one (before the pipeline's own checks).
    What was cleaned or cut goes to ``notes``, one line each."""
    if not isinstance(record, dict):
        raise LineError("not a JSON object")
    unknown = sorted(set(record) - KEYS)
    if unknown:
        raise LineError(f"unknown key(s) {', '.join(unknown)}")
    for key in KEYS - {"authors", "topics", "excerpt_paraphrased"}:
        if record.get(key) is not None and not isinstance(record[key], str):
            raise LineError(f"{key} must be a string")
    record = _fitted(record, [] if notes is None else notes)
    if not record.get("url"):
        raise LineError("url is required")
    status = record.get("status") or "new"
    if status not in STATUSES:
        raise LineError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    paraphrased = record.get("excerpt_paraphrased", False)
    if not isinstance(paraphrased, bool):
        raise LineError("excerpt_paraphrased must be true or false")
    published = record.get("published_at")
    published_at = _stored_date(published, tz, "published_at")
    posted_at = _stored_date(record.get("posted_at"), tz, "posted_at")
    if status == "published" and posted_at is None:
        raise LineError("a published clipping needs posted_at")
    if status == "rejected" and not record.get("rejection_reason"):
        raise LineError("a rejected clipping needs rejection_reason")
    excerpt = record.get("excerpt")
    text = record.get("text") or excerpt or ""
    if excerpt and not paraphrased and not is_verbatim(excerpt, text):
        raise LineError(
            "excerpt is not a verbatim passage of text "
            "(set excerpt_paraphrased to true for a deliberate paraphrase)"
        )
    return Clipping(
        url=record["url"],
        title=record.get("title"),
        title_from="import",
        headline=record.get("headline"),
        authors=_string_list(record.get("authors", []), "authors"),
        authors_from="import",
        via=record.get("via"),
        outlet=record.get("outlet"),
        language=record.get("language"),
        published_at=published_at,
        published_raw=published,
        published_from="import" if published else None,
        text=text,
        text_from="import",
        excerpt=excerpt,
        excerpt_from="import" if excerpt else None,
        excerpt_paraphrased=paraphrased,
        topics=_string_list(record.get("topics", []), "topics"),
        status=status,
        rejection_reason=record.get("rejection_reason"),
        posted_at=posted_at,
        fetched_at=now,
    )


def import_lines(
    store: Store, lines: list[str], source: str, tz: tzinfo, now: datetime | None = None
) -> ImportReport:
    """Import JSON Lines ``lines`` read from ``source`` (named in messages)
    into ``store``; see the module docstring for the rules."""
    now = now or datetime.now(UTC)
    report = ImportReport()
    stats = _Stats()
    stages = (NormalizeStage(stats), ValidateStage(stats), DedupeStage(store, stats))
    accepted: list[Clipping] = []
    numbers: dict[int, int] = {}  # id(clipping) -> its line
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        notes: list[str] = []
        try:
            clipping = clipping_from_record(json.loads(line), tz, now, notes)
            # Dedupe drops a body already stored *from the same source*; an
            # imported clipping has no source, so each counts as its own:
            # the same body joins its cluster (a syndicated copy), the same
            # URL is still a duplicate.
            clipping.source_id = f"import:{number}"
            try:
                for stage in stages:
                    clipping = stage.process_item(clipping)
                if "short_text" in clipping.flags:
                    # A crawl keeps a short text flagged for a curator to
                    # complete; an import is that curator's text.
                    words = len(clipping.text.split())
                    raise LineError(f"text too short ({words} words < {MIN_TEXT_WORDS})")
            finally:
                clipping.source_id = None
        except json.JSONDecodeError as exc:
            report.counts["invalid"] += 1
            report.problems.append(f"{source}:{number}: not JSON: {exc.msg}")
            continue
        except LineError as exc:
            report.counts["invalid"] += 1
            report.problems.append(f"{source}:{number}: {exc}")
            continue
        except Drop as exc:
            report.counts[exc.outcome] += 1
            if exc.outcome != "duplicate":
                report.problems.append(f"{source}:{number}: {exc.outcome}: {exc}")
            continue
        accepted.append(clipping)
        numbers[id(clipping)] = number
        report.notes.extend(f"{source}:{number}: {note}" for note in notes)
    result = store.store_batch(accepted, [], [])
    report.counts["imported"] = result.inserted
    for clipping, cause in result.rejected:
        report.counts["invalid"] += 1
        report.problems.append(f"{source}:{numbers[id(clipping)]}: not stored: {cause}")
    stored = without_rejected(accepted, result)
    _record_migrated_posts(store, [c for c in stored if c.status == "published"], report)
    return report


def _record_migrated_posts(store: Store, posted: list[Clipping], report: ImportReport) -> None:
    """Record imported ``published`` clippings as the site's posts, so they
    are never posted again; a story already posted is reported."""
    ids = store.clipping_ids_by_url_hash(c.url_hash or "" for c in posted)
    for clipping in posted:
        clipping_id = ids.get(clipping.url_hash or "")
        if clipping_id is None or clipping.posted_at is None:
            continue
        try:
            store.record_posts([(clipping_id, clipping, clipping.posted_at)])
        except AlreadyPublished as exc:
            report.problems.append(f"{clipping.url}: imported, but not recorded as posted: {exc}")


def import_clippings(
    file: Annotated[Path, typer.Argument(help="JSON Lines file, one clipping a line.")],
    config_dir: ConfigDir = None,
) -> None:
    """Add clippings by hand from a JSON Lines file (same checks as a crawl)."""
    config = load(config_dir)
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        errors.print(
            f"{file}: cannot be read: {exc}", highlight=False, markup=False, soft_wrap=True
        )
        raise typer.Exit(2) from None
    with open_command_store(config, create=False) as store:
        report = import_lines(store, lines, str(file), zone(config.settings.publication.timezone))
    for line in (*report.notes, *report.problems):
        errors.print(line, highlight=False, markup=False, soft_wrap=True)
    counts = report.counts
    console.print(
        f"{counts['imported']} imported, {counts['duplicate']} duplicate, "
        f"{counts['invalid']} refused",
        highlight=False,
    )
    if report.problems:
        raise typer.Exit(1)
