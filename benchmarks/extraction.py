"""Extraction quality and speed: presscut against bare trafilatura.

    python benchmarks/extraction.py [--limit N] [--workers N] [--corpus PATH] [--repeat N]
                                    [--keep DIR]

Runs, over the article corpus (``<corpus>/articles/manifest.jsonl``, 831
gzip'd pages with ground truth; default corpus ``../shared/corpus`` from the
repository root):

1. ``presscut extract --jsonl`` (as ``python -m cli.main extract``, or, while
   ``cli.main`` cannot be imported, the function it registers run by typer);
2. bare trafilatura, ``bare_extraction(html, url=url, with_metadata=True)``,
   authors split on ``"; "``, in a process pool of the same size;

each in its own subprocess, timed from start to exit (interpreter start-up
and worker start-up included, alike for both); with ``--repeat N`` the two
alternate N times and each one's fastest run counts.  CPU seconds (user +
system, workers included) are printed too: unlike wall-clock time they do
not depend on what else the machine is running.  Both prediction files go to
the corpus's ``score.py --markdown``, whose report is printed, followed by
pages/s for each run.  ``--limit N`` runs the first N pages and scores only
those.  Nothing is fetched from the network.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _bare_one(job: tuple[str, str, str]) -> dict[str, Any]:
    """Bare trafilatura on one page, as a score.py prediction line."""
    import trafilatura
    import trafilatura.settings

    page_id, path, url = job
    try:
        with gzip.open(path) as handle:
            html = handle.read()
        doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    except Exception as exc:  # scored as an empty prediction, like a None result
        return {"id": page_id, "error": f"{exc.__class__.__name__}: {exc}"}
    if not isinstance(doc, trafilatura.settings.Document):
        return {"id": page_id, "title": None, "authors": [], "date": None, "body": ""}
    return {
        "id": page_id,
        "title": doc.title,
        "authors": doc.author.split("; ") if doc.author else [],
        "date": doc.date,
        "body": doc.text or "",
    }


def run_bare(listing: Path, out: Path, workers: int) -> None:
    """The bare-trafilatura run: ``listing`` in, predictions to ``out``."""
    jobs = []
    for line in listing.read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            path = Path(entry["path"])
            path = path if path.is_absolute() else listing.parent / path
            jobs.append((entry["id"], str(path), entry["url"]))
    # The start method presscut extract uses for its pool, for a like-for-like timing.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(workers, mp_context=context) as pool, out.open("w") as handle:
        for record in pool.map(_bare_one, jobs, chunksize=4):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _timed(command: list[str]) -> tuple[float, float]:
    """Run ``command``; its wall-clock seconds and the CPU seconds (user +
    system) it and its worker processes used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _presscut_extract(python: str) -> list[str]:
    """The ``presscut extract`` command line: through ``cli.main`` when it
    imports, else the same `cli.extract.extract` function run by typer."""
    probe = subprocess.run([python, "-c", "import cli.main"], cwd=ROOT, capture_output=True)
    if probe.returncode == 0:
        return [python, "-m", "cli.main", "extract"]
    print("note: cli.main does not import; running cli.extract.extract directly", file=sys.stderr)
    launcher = "import typer; from cli.extract import extract; typer.run(extract)"
    return [python, "-c", launcher]


def _to_predictions(extracted: Path, out: Path) -> None:
    """presscut's extract records as score.py prediction lines."""
    with extracted.open(encoding="utf-8") as source, out.open("w", encoding="utf-8") as sink:
        for line in source:
            record = json.loads(line)
            prediction = {
                "id": record["id"],
                "title": record.get("title"),
                "authors": record.get("authors") or [],
                "date": record.get("date"),
                "body": record.get("text") or "",
            }
            sink.write(json.dumps(prediction, ensure_ascii=False) + "\n")


def _write_timing(predictions: Path, pages: int, seconds: float) -> float:
    rate = round(pages / seconds, 1)
    timing = {"pages": pages, "seconds": round(seconds, 2), "pages_per_second": rate}
    Path(f"{predictions}.timing.json").write_text(json.dumps(timing), encoding="utf-8")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="only the first N pages")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--keep", type=Path, help="keep predictions in this folder")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the fastest counts")
    parser.add_argument("--bare", nargs=2, metavar=("LIST", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        run_bare(Path(args.bare[0]), Path(args.bare[1]), args.workers)
        return

    articles = args.corpus.resolve() / "articles"
    manifest = articles / "manifest.jsonl"
    if not manifest.exists():
        sys.exit(f"no corpus manifest at {manifest} (see --corpus)")
    with tempfile.TemporaryDirectory(prefix="presscut-bench-") as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        lines = [line for line in manifest.read_text(encoding="utf-8").splitlines() if line]
        if args.limit:
            lines = lines[: args.limit]
        listing, scored = work / "pages.jsonl", work / "manifest.jsonl"
        with listing.open("w", encoding="utf-8") as out:
            for line in lines:
                entry = json.loads(line)
                path = str(articles / entry["path"])
                out.write(
                    json.dumps({"id": entry["id"], "path": path, "url": entry["url"]}) + "\n"
                )
        scored.write_text("\n".join(lines) + "\n", encoding="utf-8")

        extracted = work / "presscut-extract.jsonl"
        ours, bare = work / "presscut.jsonl", work / "trafilatura.jsonl"
        python = sys.executable
        workers = str(args.workers)
        command = [*_presscut_extract(python), "--jsonl", str(listing)]
        command += ["-o", str(extracted), "--workers", workers]
        script = str(Path(__file__).resolve())
        bare_command = [python, script, "--workers", workers, "--bare", str(listing), str(bare)]
        ours_runs, bare_runs = [], []
        # Alternate the runs and keep each one's fastest: other load on the
        # machine then slows both alike instead of skewing one.
        for _ in range(args.repeat):
            ours_runs.append(_timed(command))
            bare_runs.append(_timed(bare_command))
        (seconds_ours, cpu_ours), (seconds_bare, cpu_bare) = min(ours_runs), min(bare_runs)
        _to_predictions(extracted, ours)
        rate_ours = _write_timing(ours, len(lines), seconds_ours)
        rate_bare = _write_timing(bare, len(lines), seconds_bare)

        score = articles / "score.py"
        subprocess.run(
            [python, str(score), str(scored), str(ours), str(bare), "--markdown"], check=True
        )
        print()
        print(f"pages: {len(lines)}, workers: {args.workers}")
        for name, wall, cpu, rate in (
            ("presscut", seconds_ours, cpu_ours, rate_ours),
            ("trafilatura", seconds_bare, cpu_bare, rate_bare),
        ):
            print(
                f"{name + ':':<13}{wall:7.1f} s wall  {rate:6.1f} pages/s  "
                f"{cpu:7.1f} s CPU  {len(lines) / cpu:6.1f} pages per CPU-second"
            )


if __name__ == "__main__":
    main()
