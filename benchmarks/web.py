"""The curator's desk at scale: server time of its pages and of an approve.

Builds the store of `benchmarks/store.py` (``--rows`` synthetic clippings,
its loader and config), adds a desk account, and calls the desk's ASGI app
in this process (Starlette's test client; no network).  The time measured
is the server's: from the request entering the app (security headers,
CSRF, session, login check included) to the last byte of the response,
p50 and p95 over ``--samples`` calls, each with a fresh random input:

* queue, no filter; by topic; by source; by topic and source; by flag
  (``syndicated``); the next page of a topic; the queue's search box (1-3
  words of a stored clipping, as `benchmarks.store_probes` draws them);
* the clipping page of a random new clipping;
* an approve of a random new clipping (htmx: the updated row comes back).

Page sizes: bytes of the queue page, and of the clipping page less its
article text (the text is as long as the article).  Goal: p95 <= 50 ms,
pages under 100 KB before the article text.

    python benchmarks/web.py --rows 100000 --db sqlite
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.store import drop_backend, open_backend, percentile
from benchmarks.store_load import load
from benchmarks.store_probes import Probes
from benchmarks.synthetic_clippings import SOURCES, TOPICS
from storage.desk_store import DeskStore
from web.app import create_app

GOAL_MS = 50.0
GOAL_BYTES = 100_000
_TOKEN = re.compile(r'name="csrftoken" value="([^"]+)"')


class ServerTime:
    """ASGI wrapper keeping the duration of the last request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last_ms = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.last_ms = (time.perf_counter() - start) * 1000


def run(backend: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    from starlette.testclient import TestClient

    store, ready = open_backend(backend, args.rows, args.dir, args.keep)
    results: list[dict[str, Any]] = []
    try:
        if not ready:
            loaded = load(store, args.rows, args.seed)
            print(f"[{backend}] loaded in {loaded['seconds']:.0f} s ({loaded['rate']:,.0f}/s, "
                  f"{loaded['cpu']:.0f} s CPU here)", file=sys.stderr)  # fmt: skip
        probes = Probes(store, args.rows, args.seed, args.dir / f"web-config-{backend}")
        desk = DeskStore(store)
        if desk.user("bench") is None:
            desk.add_user("bench", "curator", "bench-passphrase")
        timer = ServerTime(create_app(probes.config, store))
        client = TestClient(timer, base_url="http://testserver")
        page = client.get("/login").text
        token = _TOKEN.search(page).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"username": "bench", "password": "bench-passphrase",
                                    "csrftoken": token})  # fmt: skip
        rng = random.Random(args.seed + 7)
        new_ids = [row.id for row in desk.queue(limit=500)]
        first = {t: desk.queue(topic=t, limit=50) for t in TOPICS}
        cursors = {t: rows[-1].id for t, rows in first.items() if rows}
        sizes: dict[str, int] = {}

        def get(path: str, size_key: str | None = None, less: int = 0) -> None:
            r = client.get(path, follow_redirects=False)
            assert r.status_code == 200, (path, r.status_code)
            if size_key:
                sizes[size_key] = max(sizes.get(size_key, 0), len(r.content) - less)

        def source() -> str:
            return f"src-{rng.randrange(SOURCES):03d}"

        def clipping() -> None:
            clipping_id = rng.choice(new_ids)
            found = store.get_clipping(clipping_id)
            text = len((found.text if found else "").encode())
            get(f"/clippings/{clipping_id}", "clipping page less article text", text)

        def approve() -> None:
            clipping_id = new_ids.pop(rng.randrange(len(new_ids)))
            r = client.post(f"/queue/{clipping_id}/approve", data={"csrftoken": token},
                            headers={"HX-Request": "true"})  # fmt: skip
            assert r.status_code == 200, r.text

        calls = [
            ("queue, no filter", lambda: get("/queue", "queue page")),
            ("queue, topic", lambda: get(f"/queue?topic={rng.choice(TOPICS)}", "queue page")),
            ("queue, source", lambda: get(f"/queue?source={source()}")),
            (
                "queue, topic + source",
                lambda: get(
                    f"/queue?{urlencode({'topic': rng.choice(TOPICS), 'source': source()})}"
                ),
            ),
            ("queue, flag syndicated", lambda: get("/queue?flag=syndicated")),
            (
                "queue, topic, next page",
                lambda: get(
                    f"/queue?topic={(t := rng.choice(list(cursors)))}&before={cursors[t]}"
                ),
            ),
            (
                "queue, search box",
                lambda: get(
                    f"/queue?{urlencode({'q': rng.choice(probes.queries)})}", "queue page"
                ),
            ),
            ("clipping page", clipping),
            ("approve (htmx row)", approve),
        ]
        for name, call in calls:
            call()  # warm-up
            wall = []
            for _ in range(args.samples):
                call()
                wall.append(timer.last_ms)
            results.append({"backend": backend, "measure": name, "samples": args.samples,
                            "p50": percentile(wall, 50), "p95": percentile(wall, 95),
                            "max": max(wall)})  # fmt: skip
            print(f"[{backend}] {name}: p95 {results[-1]['p95']:.1f} ms", file=sys.stderr)
        for key, size in sizes.items():
            results.append({"backend": backend, "measure": key, "bytes": size})
    finally:
        store.close()
        if not args.keep:
            drop_backend(backend, args.rows, args.dir)
    return results


def print_table(rows: int, results: list[dict[str, Any]]) -> None:
    print(f"\nThe desk, {rows:,} clippings: server time per request\n")
    print("| backend | measure | samples | p50 ms | p95 ms | max ms | p95 <= 50 ms |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        if "p95" in r:
            met = "met" if r["p95"] <= GOAL_MS else f"missed by {r['p95'] - GOAL_MS:.1f} ms"
            print(f"| {r['backend']} | {r['measure']} | {r['samples']} | {r['p50']:.1f} | "
                  f"{r['p95']:.1f} | {r['max']:.1f} | {met} |")  # fmt: skip
    print("\n| backend | page | largest bytes seen | under 100 KB |")
    print("|---|---|---|---|")
    for r in results:
        if "bytes" in r:
            met = "yes" if r["bytes"] < GOAL_BYTES else "no"
            print(f"| {r['backend']} | {r['measure']} | {r['bytes']:,} | {met} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--samples", type=int, default=200, help="calls per measure")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "presscut-bench")
    parser.add_argument("--keep", action="store_true", help="reuse and keep the databases")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    backends = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    results = [r for backend in backends for r in run(backend, args)]
    print_table(args.rows, results)


if __name__ == "__main__":
    main()
