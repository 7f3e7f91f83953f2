"""Scale of the store: a million clippings in SQLite and in PostgreSQL.

Loads ``--rows`` synthetic clippings (`benchmarks.synthetic_clippings`:
realistic sizes, 240 sources, 24 topics, a year of dates) through
`Store.bulk_load`, records a site digest for every past week (the published
clippings of that week), then measures, each through `storage.Store` as the
application calls it:

* dedupe check: `existing_url_hashes`, `clusters_by_content_hash`,
  `near_duplicate_candidates` for one new entry, as `pipelines.dedupe` does
  (a new URL; 10 % of bodies and SimHashes those of a stored clipping);
* review page: `review_queue_page` (50) for a random topic and source, a
  random topic, and the next page of a random topic;
* full-text search: `search` (50) for 1-3 words of one stored clipping,
  among its words of frequency rank `QUERY_RANKS` (skipping the ~300 most
  common: the words people type to find something);
* week digest: `make_digest` (preview) of the newest week, its posts, groups
  and rendering to HTML or Markdown, as ``presscut digest --preview`` does;
  and the same for an older week whose digest is recorded (an export);
* bytes per clipping: `Store.footprint` / rows, with what takes them.

Times are wall and CPU (this process; PostgreSQL's server CPU is not in it)
per call, p50 and p95 over ``--samples`` calls.  Databases: SQLite in
``--dir``; PostgreSQL in a database ``presscut_bench`` created on the test
server (``PRESSCUT_TEST_POSTGRES_URL``; another name in
``PRESSCUT_BENCH_DATABASE``) and dropped afterwards.  ``--keep``
reuses a database of the same size made before and keeps it.

    python benchmarks/store.py                         # 1,000,000 rows, both
    python benchmarks/store.py --rows 50000 --db sqlite
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.engine import make_url

from benchmarks.store_load import load
from benchmarks.store_probes import Probes
from storage import Store, open_store

POSTGRES = os.environ.get(
    "PRESSCUT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
#: The PostgreSQL database the benchmark makes (or, with ``--keep``, reuses).
BENCH_DATABASE = os.environ.get("PRESSCUT_BENCH_DATABASE", "presscut_bench")
#: Goals: p95 milliseconds of the per-call measures, and the digest's seconds.
GOALS_MS = {"dedupe": 20.0, "page": 20.0, "search": 200.0, "digest": 1000.0}


def timed(call: Callable[[], Any], samples: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of ``samples`` calls (after one warm-up)."""
    call()
    wall, cpu = [], []
    for _ in range(samples):
        w0, c0 = time.perf_counter(), time.process_time()
        call()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    return wall, cpu


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def pg_admin(*args: str) -> None:
    url = make_url(POSTGRES)
    cmd = [args[0], "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)]
    cmd += ["-U", url.username or "postgres", *args[1:]]
    subprocess.run(cmd, check=True, capture_output=True)


def open_backend(backend: str, rows: int, folder: Path, keep: bool) -> tuple[Store, bool]:
    """The store and whether it already holds the ``rows`` clippings."""
    if backend == "sqlite":
        path = folder / f"store-{rows}.db"
        if not keep:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        store = open_store(f"sqlite:///{path}")
    else:
        if not keep:
            pg_admin("dropdb", "--if-exists", BENCH_DATABASE)
        with contextlib.suppress(subprocess.CalledProcessError):
            pg_admin("createdb", BENCH_DATABASE)  # fails when kept from before
        url = make_url(POSTGRES).set(database=BENCH_DATABASE)
        store = open_store(url.render_as_string(hide_password=False))
    store.upgrade()
    return store, keep and store.count_clippings() == rows


def drop_backend(backend: str, rows: int, folder: Path) -> None:
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{folder / f'store-{rows}.db'}{suffix}").unlink(missing_ok=True)
    else:
        pg_admin("dropdb", "--if-exists", BENCH_DATABASE)


def run(backend: str, args: argparse.Namespace, folder: Path) -> list[dict[str, Any]]:
    store, ready = open_backend(backend, args.rows, folder, args.keep)
    config_dir = folder / f"config-{backend}"
    results: list[dict[str, Any]] = []
    try:
        if ready:
            print(f"[{backend}] reusing {args.rows:,} clippings", file=sys.stderr)
        else:
            report = load(store, args.rows, args.seed)
            results.append({"backend": backend, "measure": "load", **report})
        probes = Probes(store, args.rows, args.seed, config_dir)
        for name, kind, call in probes.calls():
            if args.only and not any(word in name for word in args.only):
                continue
            n = args.digest_samples if kind == "digest" else args.samples
            wall, cpu = timed(call, n)
            results.append(
                {
                    "backend": backend,
                    "measure": name,
                    "kind": kind,
                    "samples": n,
                    "p50": percentile(wall, 50),
                    "p95": percentile(wall, 95),
                    "max": max(wall),
                    "cpu_p50": percentile(cpu, 50),
                }
            )
            print(f"[{backend}] {name}: p95 {results[-1]['p95']:.1f} ms", file=sys.stderr)
        results.append({"backend": backend, "measure": "bytes", **probes.footprint()})
    finally:
        store.close()
        if not args.keep:
            drop_backend(backend, args.rows, folder)
            shutil.rmtree(config_dir, ignore_errors=True)
    return results


def print_table(rows: int, results: list[dict[str, Any]]) -> None:
    print(f"\nScale of the store: {rows:,} clippings\n")
    print("| backend | measure | samples | p50 ms | p95 ms | max ms | CPU p50 ms | goal |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        if "kind" not in r:
            continue
        goal = GOALS_MS[r["kind"]]
        met = "met" if r["p95"] <= goal else f"missed by {r['p95'] - goal:.1f} ms"
        verdict = f"p95 <= {goal:g} ms: {met}" if r["kind"] != "digest" else f"<= 1 s: {met}"
        print(
            f"| {r['backend']} | {r['measure']} | {r['samples']} | {r['p50']:.1f} | "
            f"{r['p95']:.1f} | {r['max']:.1f} | {r['cpu_p50']:.1f} | {verdict} |"
        )
    print("\n| backend | load | of which rows | indexes after | rows/s | CPU (this process) |")
    print("|---|---|---|---|---|---|")
    for r in results:
        if r["measure"] == "load":
            after = r["seconds"] - r["rows_seconds"]
            print(
                f"| {r['backend']} | {r['seconds']:.0f} s | {r['rows_seconds']:.0f} s | "
                f"{after:.0f} s | {r['rate']:,.0f} | {r['cpu']:.0f} s |"
            )
    print("\n| backend | bytes per clipping | total | of which |")
    print("|---|---|---|---|")
    for r in results:
        if r["measure"] == "bytes":
            parts = ", ".join(f"{name} {size / rows:,.0f}" for name, size in r["largest"])
            total = f"{r['total'] / 2**30:.2f} GiB"
            print(f"| {r['backend']} | {r['per_row']:,.0f} | {total} | {parts} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--samples", type=int, default=300, help="calls per measure")
    parser.add_argument("--digest-samples", type=int, default=30, help="calls per digest measure")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "presscut-bench")
    parser.add_argument("--keep", action="store_true", help="reuse and keep the databases")
    parser.add_argument(
        "--only", action="append", help="run the measures whose name holds this (repeatable)"
    )
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(args.dir).free
    needed = args.rows * 12_000  # SQLite file plus headroom
    if free < needed:
        sys.exit(f"{args.dir}: {free / 2**30:.1f} GiB free, about {needed / 2**30:.1f} needed")
    backends = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    results = [r for backend in backends for r in run(backend, args, args.dir)]
    print_table(args.rows, results)


if __name__ == "__main__":
    main()
