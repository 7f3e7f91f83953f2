"""Cluster throughput: a coordinator and 1, 2 and 4 ``presscut worker``s.

The ingest benchmark's web (`benchmarks.localweb`: ``--sites`` sites of
``--per-site`` articles from the article corpus, served from a separate
process with ``--delay`` seconds per response) is crawled, for each worker
count, by ``presscut crawl --all`` as the coordinator of that many running
workers, into a fresh PostgreSQL schema, with a fresh Redis key prefix; and
once by one ``presscut crawl --all`` process without ``[cluster]``, the
figure to compare with.  Workers are started and left to settle before the
round's clock starts: in use they run all the time.

Per run it prints articles stored per second (wall time of the round, from
the coordinator's start to its report), CPU time per article (every
process of the crawl: the coordinator, the workers and their extraction
processes; not the served web, which it prints apart, nor Redis or
PostgreSQL, whose CPU it prints from /proc when they run on this machine)
and the load average.

    python benchmarks/cluster.py                       # 20 sites x 50 articles, 100 ms
    python benchmarks/cluster.py --sites 4 --per-site 20 --workers 1 2
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.ingest import drop_schema, load, postgres_schema_url, presscut_crawl, process_cpu
from benchmarks.localweb import ServedWeb, build_sites, corpus_pages, sources_toml

REDIS = os.environ.get("PRESSCUT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
#: Seconds the workers are given to start before a round.
SETTLE_S = 15.0


def tree_cpu(pid: int) -> float:
    """CPU seconds of process ``pid`` and its descendants, live or reaped
    (an extraction process replaced mid-round still counts)."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo += [int(c) for c in children]
    return total


def named_cpu(name: str) -> float:
    """CPU seconds of every process whose command is ``name`` (a server)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == name:
                total += process_cpu(int(entry.name))
        except OSError:
            continue
    return total


def write_config(folder: Path, urls: dict[str, str], db_url: str, prefix: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "sources.toml").write_text(sources_toml(urls), encoding="utf-8")
    (folder / "settings.toml").write_text(
        f'[database]\nurl = "{db_url}"\n[crawl]\nextract_workers = 0\n'
        f'[cluster]\nredis_url = "{REDIS}"\nprefix = "{prefix}"\n',
        encoding="utf-8",
    )
    return folder


def cluster_crawl(workdir: Path, urls: dict[str, str], db_url: str, n: int, web_pid: int) -> dict:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    config = write_config(workdir / prefix, urls, db_url, prefix)
    env = {**os.environ, "PRESSCUT_CRAWL_ALLOW_LOOPBACK": "true"}
    command = [sys.executable, "-m", "cli.main"]
    subprocess.run(
        [*command, "db", "upgrade", "--config", str(config)],
        check=True,
        capture_output=True,
        env=env,
    )
    workers = [
        subprocess.Popen(
            [*command, "worker", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        for _ in range(n)
    ]
    try:
        time.sleep(SETTLE_S)
        before = sum(tree_cpu(w.pid) for w in workers)
        web0, redis0, pg0 = process_cpu(web_pid), named_cpu("redis-server"), named_cpu("postgres")
        start = time.perf_counter()
        cpu0 = os.times()
        done = subprocess.run(
            [*command, "crawl", "--all", "--config", str(config)],
            capture_output=True, text=True, env=env,
        )  # fmt: skip
        wall = time.perf_counter() - start
        cpu1 = os.times()
        coordinator = (cpu1.children_user - cpu0.children_user) + (
            cpu1.children_system - cpu0.children_system
        )
        worker_cpu = sum(tree_cpu(w.pid) for w in workers) - before
        if done.returncode:
            sys.exit(f"round failed:\n{done.stdout}\n{done.stderr}")
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(timeout=60)
        _forget(prefix)
    from storage import open_store

    store = open_store(db_url)
    stored = store.count_clippings()
    store.close()
    return {
        "stored": stored,
        "wall": wall,
        "cpu": coordinator + worker_cpu,
        "coordinator_cpu": coordinator,
        "web_cpu": process_cpu(web_pid) - web0,
        "redis_cpu": named_cpu("redis-server") - redis0,
        "pg_cpu": named_cpu("postgres") - pg0,
    }


def _forget(prefix: str) -> None:
    import redis

    server = redis.Redis.from_url(REDIS)
    stale = list(server.scan_iter(match=f"{prefix}:*", count=1000))
    if stale:
        server.delete(*stale)
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--per-site", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.1, help="seconds per response")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores; {args.sites} sites x {args.per_site} articles, "
        f"{args.delay * 1000:.0f} ms per response; {load()}"
    )
    with tempfile.TemporaryDirectory(prefix="presscut-cluster-") as tmp:
        root = Path(tmp) / "web"
        build_sites(root, corpus_pages(), args.sites, args.per_site)
        with ServedWeb(root, args.delay) as web:
            runs: list[tuple[str, int | None]] = [("one process", None)]
            runs += [(f"{n} worker(s)", n) for n in args.workers]
            for label, n in runs:
                pg = postgres_schema_url()
                if pg is None:
                    sys.exit("the cluster needs PostgreSQL")
                url, schema = pg
                try:
                    if n is None:
                        r = presscut_crawl(Path(tmp), web.urls, url, web.proc.pid)
                        r.update(coordinator_cpu=0.0, redis_cpu=0.0, pg_cpu=0.0)
                    else:
                        r = cluster_crawl(Path(tmp), web.urls, url, n, web.proc.pid)
                finally:
                    drop_schema(schema)
                per = max(r["stored"], 1)
                print(
                    f"{label}: {r['stored']} stored in {r['wall']:.1f} s = "
                    f"{r['stored'] / r['wall']:.1f} articles/s; "
                    f"{r['cpu'] / per * 1000:.1f} ms CPU/article "
                    f"(coordinator {r['coordinator_cpu'] / per * 1000:.1f}); "
                    f"served web {r['web_cpu'] / per * 1000:.1f}, redis-server "
                    f"{r['redis_cpu'] / per * 1000:.1f}, postgres "
                    f"{r['pg_cpu'] / per * 1000:.1f} ms CPU/article (servers: all "
                    f"their clients on this machine); {load()}"
                )


if __name__ == "__main__":
    main()
