"""Benchmark: the rating queue over HTTP, with N raters working at once.

Creates a fresh PostgreSQL database, seeds it (bench/load_seed.py), starts the app under
gunicorn (bench/load_harness.py), runs N simulated raters for a fixed time per run: POST
for the next clip (reserving it), optionally "think", POST the answers.

Two modes, both printed by default:
- saturating (think 0): every rater asks again as soon as it has its answer. With N raters
  and no pause, latency is mostly time spent queueing for the 2 CPUs (Little's law:
  latency ~ N / throughput), so this run measures capacity.
- realistic (think 2000 ms, +-50 % uniform jitter): a rater looks at the clip before
  answering, as people do, and raters arrive spread over one think time rather than all in
  the same millisecond; this run measures what a rater waits for.

Clients are cheap on purpose, so they do not take the server's CPU: separate processes
(up to 8 raters each, threads inside), the standard library's http.client with one
connection per rater (kept alive where the server allows it; gunicorn's sync workers close
it after each answer), latency taken from sending the request to reading the last byte.
The server defaults to 2 sync workers: PostgreSQL on the same 2 CPUs needs about as much
CPU per request as Django, and 3 or 4 workers, or gthread workers, gave fewer round trips
per second in our runs, only more contention.
The CPU of gunicorn's workers, of the PostgreSQL backends serving the run's database and
of the clients is read from /proc and printed per round trip; so is what everything else
on the machine used meanwhile ("other load", in CPUs).

Each row ends with an integrity check read from the database afterwards: ratings stored ==
submits acknowledged, no clip over its overlap (completed + reserved), no clip served
twice to a rater, and every clip's completed_count equal to its real count.

    python bench/rater_load.py [--levels 1,8,32] [--think-ms 0,2000] [--seconds 30] [--clips 3000]
        (--help lists the server, database and gunicorn options)
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import queue
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from load_harness import (
    CpuTracker,
    admin_connection,
    database_backend_pids,
    database_drop,
    database_recreate,
    free_port,
    gunicorn_start,
    gunicorn_stop,
    machine_busy_seconds,
    process_tree,
    production_env,
)
from load_report import RaterStats, RunResult, table
from load_seed import OVERLAP, integrity, seed

ROOT = Path(__file__).resolve().parents[1]

RATERS_PER_CLIENT_PROCESS = 8


# ---------------------------------------------------------------- simulated raters (client processes)


class Rater:
    """One rater's HTTP connection: kept alive between requests, reopened when the server
    closed it (a request on a closed kept connection is sent again once, and timed from
    the first try)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body).encode()
        headers = self.headers if data is None else {**self.headers, "Content-Type": "application/json"}
        for attempt in (1, 2):
            reused = self.connection.sock is not None
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.connection.close()
                if not reused or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.connection.close()


def rater_run(
    *, port: int, token: str, study_id: int, start_at: float, seconds: float, think_ms: float, jitter: float,
    seed: int, stats: RaterStats,
) -> None:  # fmt: skip
    rng = random.Random(seed)
    rater = Rater(port, token)
    submitted: set[int] = set()
    deadline = start_at + seconds
    if think_ms:  # thinking raters arrive spread over one think time, not all in the same millisecond
        start_at += rng.uniform(0, think_ms / 1000)
    while time.time() < start_at:
        time.sleep(min(0.05, max(start_at - time.time(), 0)))
    while time.time() < deadline:
        start = time.perf_counter()
        try:
            status, content = rater.request("POST", f"/api/studies/{study_id}/next/")
        except (OSError, http.client.HTTPException) as exc:
            stats.errors[f"next {type(exc).__name__}"] += 1
            continue
        stats.next_ms.append((time.perf_counter() - start) * 1000)
        if status == 204:
            stats.exhausted = True
            break
        if status != 200:
            stats.errors[f"next {status}"] += 1
            continue
        payload = json.loads(content)
        study_clip_id = payload["study_clip_id"]
        if study_clip_id in submitted:
            stats.served_after_submit += 1
        pause = think_ms / 1000 * rng.uniform(1 - jitter, 1 + jitter) if think_ms else 0.0
        if pause:
            time.sleep(pause)
        body = {
            "answers": {str(label["category_id"]): "present" for label in payload["labels"]},
            "seconds_spent": round(pause, 3),
        }
        start = time.perf_counter()
        try:
            status, content = rater.request("POST", f"/api/study-clips/{study_clip_id}/submit/", body)
        except (OSError, http.client.HTTPException) as exc:
            stats.errors[f"submit {type(exc).__name__}"] += 1
            continue
        stats.submit_ms.append((time.perf_counter() - start) * 1000)
        if status != 200:
            stats.errors[f"submit {status}"] += 1
            continue
        stats.acknowledged.add(json.loads(content)["id"])
        submitted.add(study_clip_id)
    rater.close()


def client_process(job: dict, results) -> None:
    """Runs a share of the raters in threads; sends back their stats and this process's CPU."""
    stats = [RaterStats() for _ in job["tokens"]]
    threads = [
        threading.Thread(
            target=rater_run,
            kwargs={
                "port": job["port"],
                "token": token,
                "study_id": job["study_id"],
                "start_at": job["start_at"],
                "seconds": job["seconds"],
                "think_ms": job["think_ms"],
                "jitter": job["jitter"],
                "seed": job["seed"] + index,
                "stats": stat,
            },
        )  # fmt: skip
        for index, (token, stat) in enumerate(zip(job["tokens"], stats, strict=True))
    ]
    for thread in threads:
        thread.start()
    while time.time() < job["start_at"]:  # count this process's CPU from the start of the run
        time.sleep(0.01)
    begin = time.process_time()
    for thread in threads:
        thread.join()
    results.put((stats, time.process_time() - begin))


def run_level(
    *, port: int, tokens: list[str], study_id: int, seconds: float, think_ms: float, jitter: float,
    server_pid: int, db_server: str, database: str,
) -> tuple[list[RaterStats], dict[str, float], float]:  # fmt: skip
    context = multiprocessing.get_context("spawn")  # children share nothing with Django here
    results = context.Queue()
    shares = [tokens[i : i + RATERS_PER_CLIENT_PROCESS] for i in range(0, len(tokens), RATERS_PER_CLIENT_PROCESS)]
    start_at = time.time() + 3.0  # processes start (and import) before the clock runs
    processes = [
        context.Process(
            target=client_process,
            args=(
                {
                    "port": port,
                    "tokens": share,
                    "study_id": study_id,
                    "start_at": start_at,
                    "seconds": seconds,
                    "think_ms": think_ms,
                    "jitter": jitter,
                    "seed": 1000 * index,
                },
                results,
            ),
        )  # fmt: skip
        for index, share in enumerate(shares)
    ]
    for process in processes:
        process.start()
    while time.time() < start_at - 0.2:
        time.sleep(0.05)
    admin = admin_connection(db_server)
    server = CpuTracker(lambda: process_tree(server_pid))
    database_cpu = CpuTracker(lambda: database_backend_pids(admin, database))
    machine_before = machine_busy_seconds()
    stats: list[RaterStats] = []
    client_cpu = 0.0
    deadline = start_at + seconds + 300
    while len(stats) < len(tokens):
        server.sample()
        database_cpu.sample()
        try:
            share_stats, share_cpu = results.get(timeout=1)
        except queue.Empty:
            failed = [process.exitcode for process in processes if process.exitcode not in (None, 0)]
            if failed or time.time() > deadline:
                raise RuntimeError(f"client processes failed or hung (exit codes {failed})") from None
            continue
        stats.extend(share_stats)
        client_cpu += share_cpu
    elapsed = time.time() - start_at
    used = {
        "server": server.used(),
        "database": database_cpu.used(),
        "clients": client_cpu,
    }
    # whatever else ran on the machine meanwhile (other users' jobs, this script's own process)
    used["others"] = max(machine_busy_seconds() - machine_before - sum(used.values()), 0.0)
    admin.close()
    for process in processes:
        process.join()
    return stats, used, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1,8,32", help="numbers of concurrent raters, comma-separated")
    parser.add_argument("--think-ms", default="0,2000", help="pause between next and submit, one run per value")
    parser.add_argument("--jitter", type=float, default=0.5, help="think time varies uniformly by +- this share")
    parser.add_argument("--seconds", type=float, default=30.0, help="run time per level")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (sync, gthread)")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--clips", type=int, default=3000, help="clips per study (one study per run)")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--database", default="avlabel_bench", help="database to create (and drop) for the run")
    args = parser.parse_args()
    levels = [int(value) for value in args.levels.split(",")]
    thinks = [float(value) for value in args.think_ms.split(",")]
    if not 0 <= args.jitter < 1:
        parser.error("--jitter must lie in [0, 1)")

    load_before = os.getloadavg()[0]
    database_recreate(args.server, args.database)
    data_dir = Path(tempfile.mkdtemp(prefix="avlabel-bench-"))
    process = None
    try:
        env = production_env(server=args.server, database=args.database, data_dir=data_dir)
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.db import connections

        runs = [(think, level) for think in thinks for level in levels]
        (warmup_study_id, *study_ids), tokens = seed(studies=len(runs) + 1, raters=max(levels), clips=args.clips)
        connections.close_all()
        port = free_port()
        process = gunicorn_start(
            env=env, workers=args.workers, worker_class=args.worker_class, threads=args.threads, port=port,
            log_path=data_dir / "gunicorn.log",
        )  # fmt: skip
        # Warm-up, not reported: every worker serves both endpoints (lazy imports, URL
        # resolver, database connection) before any clock runs.
        run_level(
            port=port, tokens=tokens[: 2 * args.workers * args.threads], study_id=warmup_study_id, seconds=3,
            think_ms=0, jitter=0, server_pid=process.pid, db_server=args.server, database=args.database,
        )  # fmt: skip
        results = []
        for (think, level), study_id in zip(runs, study_ids, strict=True):
            stats, used, elapsed = run_level(
                port=port, tokens=tokens[:level], study_id=study_id, seconds=args.seconds, think_ms=think,
                jitter=args.jitter, server_pid=process.pid, db_server=args.server, database=args.database,
            )  # fmt: skip
            results.append(RunResult(think, level, elapsed, stats, used, integrity(study_id=study_id, stats=stats)))
            connections.close_all()
            print(f"think {think:.0f} ms, N={level}: done", file=sys.stderr, flush=True)
        print(
            f"rater_load: gunicorn -w {args.workers} -k {args.worker_class} --threads {args.threads}, PostgreSQL, "
            f"{args.clips} clips per study, {OVERLAP} raters per clip, {args.seconds:.0f} s per run, think time "
            f"+-{args.jitter:.0%}, {os.cpu_count()} CPUs shared by clients, server and database; latencies in ms; "
            f"other load = CPUs busy with anything else during the run (other jobs on the machine); "
            f"load average before the runs {load_before:.2f}"
        )
        print(table(results))
        errors = Counter()
        for result in results:
            for stat in result.stats:
                errors.update(stat.errors)
        if errors:
            print("errors:", dict(errors))
        return 0 if all(result.integrity["ok"] for result in results) else 1
    finally:
        if process is not None:
            gunicorn_stop(process)
        database_drop(args.server, args.database)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
