"""``presscut extract``: run article extraction on saved pages.

One page::

    presscut extract PAGE.html [--url URL] [--topic NAME] [--config-dir DIR]

prints the clipping as one JSON object (see `page_record`).  Many pages::

    presscut extract --jsonl LIST [-o OUT] [--workers N] [--topic NAME]

reads ``LIST``, one JSON object a line: ``{"id", "path", "url"}``, where
``path`` may be gzip-compressed and a relative path is resolved against the
folder of ``LIST``.  It writes one JSON line per input line, in input order,
carrying the same ``id``: the page record, or ``{"id", "error"}`` when the
page could not be read or extracted.  One bad page never stops the run: a
page that kills its worker process is retried alone and then reported as an
error.  Pages are extracted in a pool of ``--workers`` processes (default:
one per core).

The configuration is read only when ``--topic`` or ``--config-dir`` is
given: ``--topic`` names a configured topic whose matches steer the excerpt,
and the excerpt length comes from ``[excerpt]`` in ``settings.toml``.
"""

from __future__ import annotations

import gzip
import json
import logging
import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from cli.options import load
from config import Topic
from scraper.errors import ExtractionError
from scraper.excerpt import pick_excerpt
from scraper.extract import MAX_PAGE_BYTES, extract_article
from scraper.items import Clipping
from scraper.topics import Span, TopicMatcher


@dataclass(frozen=True, slots=True)
class ExcerptOptions:
    """What the excerpt needs besides the text: the topic (or none) and the
    length bounds in words.  Picklable, so workers receive it."""

    topic: Topic | None = None
    min_words: int = 60
    max_words: int = 140


def read_page(path: Path) -> bytes:
    """The bytes of a saved page, gunzipped when gzip-compressed; at most
    `MAX_PAGE_BYTES` + 1 bytes, so that a compression bomb is refused by
    `extract_article` instead of filling memory."""
    with path.open("rb") as handle:
        magic = handle.read(2)
        handle.seek(0)
        if magic == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=handle) as unzipped:
                return unzipped.read(MAX_PAGE_BYTES + 1)
        return handle.read(MAX_PAGE_BYTES + 1)


def page_record(clipping: Clipping) -> dict[str, Any]:
    """The printed form of an extracted clipping: ``title``, ``authors``
    (list), ``date`` (ISO 8601 with offset, or null), ``text``, ``excerpt``,
    ``language``, ``url``, the raw byline and date as found (``authors_raw``,
    ``date_raw``), the agency ``credit``, ``topics``, ``provenance`` (field
    -> origin), ``confidence`` (credit field -> 0..1, `scraper.credits`)
    and ``doubts`` (the credit fields of low confidence)."""
    return {
        "url": clipping.url,
        "title": clipping.title,
        "authors": clipping.authors,
        "authors_raw": clipping.authors_raw,
        "date": clipping.published_at.isoformat() if clipping.published_at else None,
        "date_raw": clipping.published_raw,
        "language": clipping.language,
        "excerpt": clipping.excerpt,
        "topics": clipping.topics,
        "text": clipping.text,
        "provenance": clipping.provenance(),
        "credit": clipping.credit,
        "confidence": {
            name: entry.get("confidence") for name, entry in clipping.candidates.items()
        },
        "doubts": clipping.doubts,
    }


def add_excerpt(clipping: Clipping, options: ExcerptOptions) -> Clipping:
    """Set ``excerpt``/``excerpt_from`` (and ``topics``/``matched_terms``
    when a topic is given) on ``clipping``, in place; returns it."""
    spans: list[Span] = []
    if options.topic is not None:
        match = TopicMatcher(options.topic).match(clipping.title, clipping.text)
        if match.matched:
            clipping.topics = [match.topic]
            clipping.matched_terms = list(match.terms)
            spans = list(match.spans)
    text = clipping.text if spans else lead_paragraphs(clipping.text, options.max_words)
    excerpt, origin = pick_excerpt(
        text, spans, min_words=options.min_words, max_words=options.max_words
    )
    clipping.excerpt, clipping.excerpt_from = (excerpt or None), (origin if excerpt else None)
    return clipping


def lead_paragraphs(text: str, max_words: int) -> str:
    """The shortest run of whole leading paragraphs of ``text`` with more
    than ``max_words`` words (all of it when shorter).  A lead excerpt drawn
    from it equals one drawn from the whole text, since sentences end at
    paragraph breaks and a lead never passes ``max_words``; splitting a long
    article into sentences only to use its first ones costs time."""
    words = 0
    end = 0
    while end < len(text) and words <= max_words:
        cut = text.find("\n", end)
        cut = len(text) if cut < 0 else cut + 1
        words += len(text[end:cut].split())
        end = cut
    return text[:end]


def extract_file(path: str, url: str, options: ExcerptOptions) -> dict[str, Any]:
    """Read and extract one saved page: its `page_record`, or ``{"error"}``.
    Runs in the worker processes; never raises for page content."""
    try:
        clipping = extract_article(read_page(Path(path)), url)
        return page_record(add_excerpt(clipping, options))
    except (OSError, ExtractionError) as exc:
        return {"error": f"{exc.__class__.__name__}: {exc}"}
    except Exception as exc:  # a bug, but one page must not end the run
        return {"error": f"unexpected {exc.__class__.__name__}: {exc}"}


# Pages in flight per worker.  Output keeps input order, so a slow page holds
# back the writing of later ones; a deep window keeps the workers busy meanwhile.
_WINDOW = 32


@dataclass(slots=True)
class _Job:
    page_id: Any
    path: str = ""
    url: str = ""
    error: str | None = None
    future: Future[dict[str, Any]] | None = None
    generation: int = 0


def _jobs(listing: Path) -> Iterator[_Job]:
    """One job per non-blank input line; an unreadable line is a job that
    already carries its error."""
    folder = listing.parent
    with listing.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                page_id, path = entry.get("id"), str(entry["path"])
                url = entry.get("url") or ""
            except (ValueError, KeyError, AttributeError, TypeError) as exc:
                yield _Job(
                    None, error=f"line {number} unreadable: {exc.__class__.__name__}: {exc}"
                )
                continue
            resolved = Path(path) if Path(path).is_absolute() else folder / path
            yield _Job(page_id, str(resolved), url or resolved.resolve().as_uri())


def quiet_libraries() -> None:
    """Silence trafilatura's and htmldate's own logging: each page's failure
    is reported once, in its output line."""
    for name in ("trafilatura", "htmldate", "courlan", "charset_normalizer"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _pool(workers: int) -> ProcessPoolExecutor:
    # This command runs no reactor and holds no connections, so while it has a
    # single thread, fork is safe, and it spares each worker re-importing the
    # command and its libraries; otherwise spawn, as the crawl's pool does.
    single_thread = threading.active_count() == 1
    method = (
        "fork" if single_thread and "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context(method),
        initializer=quiet_libraries,
    )


def run_listing(
    listing: Path,
    out: TextIO,
    workers: int,
    options: ExcerptOptions,
    *,
    run: Callable[[str, str, ExcerptOptions], dict[str, Any]] = extract_file,
) -> tuple[int, int]:
    """Extract every page of ``listing`` into ``out`` (JSON Lines, input
    order), with at most ``workers`` processes calling ``run`` (a top-level
    function: `extract_file` unless testing).  Returns ``(pages, errors)``."""
    pages = errors = 0
    window: deque[_Job] = deque()
    pool, generation = _pool(workers), 0

    def finish(job: _Job) -> dict[str, Any]:
        nonlocal pool, generation
        if job.error is not None or job.future is None:
            return {"error": job.error or "not run"}
        try:
            return job.future.result()
        except BrokenProcessPool:
            # Some page in flight killed its worker, and which one is unknown:
            # every page the broken pool had not finished is retried alone.
            if job.generation == generation:
                pool.shutdown(wait=False, cancel_futures=True)
                pool, generation = _pool(workers), generation + 1
            return _isolated(job, options, run)

    def write(job: _Job) -> None:
        nonlocal pages, errors
        record = finish(job)
        pages, errors = pages + 1, errors + ("error" in record)
        out.write(_json({"id": job.page_id, **record}) + "\n")

    try:
        for job in _jobs(listing):
            if job.error is None:
                job.future = pool.submit(run, job.path, job.url, options)
                job.generation = generation
            window.append(job)
            while len(window) >= workers * _WINDOW:
                write(window.popleft())
        while window:
            write(window.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return pages, errors


def _isolated(
    job: _Job, options: ExcerptOptions, run: Callable[[str, str, ExcerptOptions], dict[str, Any]]
) -> dict[str, Any]:
    with _pool(1) as single:
        try:
            return single.submit(run, job.path, job.url, options).result()
        except BrokenProcessPool:
            return {"error": "the extraction process crashed on this page"}


def extract(
    page: Annotated[
        Path | None,
        typer.Argument(help="A saved HTML page (may be gzip-compressed).", show_default=False),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="URL the page was fetched from.", show_default=False),
    ] = None,
    topic: Annotated[
        str | None,
        typer.Option(
            "--topic", help="A configured topic to build the excerpt around.", show_default=False
        ),
    ] = None,
    config_dir: Annotated[
        Path | None,
        typer.Option(
            "--config-dir",
            "--config",
            "-c",
            help="Config folder (read only with --topic).",
            show_default=False,
        ),
    ] = None,
    jsonl: Annotated[
        Path | None,
        typer.Option(
            "--jsonl", help='List of pages, one {"id","path","url"} a line.', show_default=False
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="With --jsonl: file (default: stdout).")
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", "-w", help="With --jsonl: processes (0: one per core).")
    ] = 0,
) -> None:
    """Extract article pages saved on disk and print them as JSON."""
    if (page is None) == (jsonl is None):
        raise typer.BadParameter("give either PAGE or --jsonl LIST")
    options = _excerpt_options(topic, config_dir)
    if jsonl is not None:
        if not jsonl.is_file():
            raise typer.BadParameter(f"no such file: {jsonl}", param_hint="--jsonl")
        workers = workers if workers > 0 else os.cpu_count() or 1
        if output is None:
            _, failed = run_listing(jsonl, sys.stdout, workers, options)
        else:
            with output.open("w", encoding="utf-8") as out:
                done, failed = run_listing(jsonl, out, workers, options)
            typer.echo(f"{done} pages, {failed} errors -> {output}", err=True)
        return
    assert page is not None
    quiet_libraries()
    try:
        clipping = extract_article(read_page(page), url or page.resolve().as_uri())
    except (OSError, ExtractionError) as exc:
        typer.echo(f"cannot extract {page}: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(_json(page_record(add_excerpt(clipping, options)), indent=2))


def _json(record: dict[str, Any], indent: int | None = None) -> str:
    """``record`` as JSON that any UTF-8 output can take: a lone surrogate
    left in a value is written as its escape rather than failing the write."""
    text = json.dumps(record, ensure_ascii=False, indent=indent)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(record, ensure_ascii=True, indent=indent)
    return text


def _excerpt_options(topic: str | None, config_dir: Path | None) -> ExcerptOptions:
    if topic is None and config_dir is None:
        return ExcerptOptions()
    config = load(config_dir)
    chosen = None
    if topic is not None:
        if topic not in config.topics:
            known = ", ".join(sorted(config.topics)) or "none"
            raise typer.BadParameter(
                f"unknown topic {topic!r} (configured: {known})", param_hint="--topic"
            )
        chosen = config.topics[topic]
    excerpt = config.settings.excerpt
    return ExcerptOptions(chosen, excerpt.min_words, excerpt.max_words)
