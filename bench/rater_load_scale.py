"""Benchmark: the rater queue as a study grows (2k, 20k, 200k clips), 12 raters per clip.

bench/rater_load.py's raters and measurements (gunicorn on PostgreSQL, N saturating raters
asking for their next clip and submitting it, latency per request, CPU per round trip of
the server, the database and the clients, the integrity check after each run), run against
one study per size, each in a database of its own (an installation holding that study):

- the clips are a vggsound.csv-format list of that many rows built from VGGSound's real test
  split, imported by the clips importer, with 2 proposals per clip (bench/study_scale_seed.py);
- `study_create` samples every clip for 12 raters per clip (2 proposals + 1 decoy shown);
- half the ratings are filled by bulk SQL before any run: each clip gets 6 of its 12 ratings,
  from 6 consecutive raters of a 48-rater pool starting at a rater picked by a hash of the
  clip's position, with an answer for each shown label; every rater has rated about 1/8 of
  the clips (25,000 at 200k), so the rater's own history grows with the study as it would;
- the load raters are the pool's first N: study members with 7/8 of the clips open to them.

After each run the integrity check counts only the run's ratings (submitted after the seeded
ones), then the run is undone (its ratings, answers and reservations deleted, the clips'
counters restored, VACUUM ANALYZE), so every run starts from the same half-filled study and a
kept database (`--keep`) can be measured again without seeding (200k x 12 takes minutes).
Runs are interleaved: for each round, for each N, every size back to back, the sizes' order
turned by one each round (with 3 rounds each size runs once first, once last); a row per
(size, N) pools its rounds. Besides CPU, each row gives the shared-buffer pages its database
read or hit per round trip (pg_stat_database, read 11 s after the run, when every backend
has reported): the statements' work, which other jobs on the machine do not change. The
ratio row divides the largest size's figures by the smallest's.

    python bench/rater_load_scale.py [--sizes 2000,20000,200000] [--levels 8,32] [--seconds 30]
        [--rounds 3] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from load_harness import (
    admin_connection,
    database_drop,
    database_recreate,
    free_port,
    gunicorn_start,
    gunicorn_stop,
    production_env,
)
from load_report import RunResult, integrity_verdict, trip_figures
from rater_load import run_level
from rater_load_scale_seed import FILLED_PER_CLIP, POOL, RATERS_PER_CLIP, after_run_main, seed_main
from study_scale import cpu_model, database_exists

ROOT = Path(__file__).resolve().parents[1]
#: PostgreSQL 15's backends report their statistics at most once a second, an idle one within 10 s.
STATS_FLUSH_SECONDS = 11
#: Target: the largest study within this factor of the smallest on p99 and CPU per round trip.
TARGET_RATIO = 1.2


def child_main(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    result = seed_main(args) if args.child == "seed" else after_run_main(args)
    print(json.dumps(result))
    return 0


def child_run(*, env: dict, arguments: list[str]) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", *arguments]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments[:1])} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------
# The parent: databases and servers per size, interleaved runs, the table
# --------------------------------------------------------------------------------------


def database_buffers(server: str, name: str) -> int:
    """Shared-buffer pages the database's backends have read or found so far (hits + reads):
    the work its statements did, whatever else the machine was running."""
    connection = admin_connection(server)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT blks_hit + blks_read FROM pg_stat_database WHERE datname = %s", [name])
            return int(cursor.fetchone()[0])
    finally:
        connection.close()


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pooled(results: list[RunResult]) -> RunResult:
    """One row's worth of a (size, N)'s rounds: latencies and trips pooled, time and CPU summed."""
    checks = [result.integrity for result in results]
    integrity_sum = {
        key: sum(check[key] for check in checks)
        for key in ("stored", "acknowledged", "served_twice", "miscounted", "open_reservations", "buffers")
    }
    integrity_sum["max_load"] = max(check["max_load"] for check in checks)
    integrity_sum["ok"] = all(check["ok"] for check in checks)
    cpu = {key: sum(result.cpu_seconds[key] for result in results) for key in results[0].cpu_seconds}
    return RunResult(
        results[0].think_ms,
        results[0].raters,
        sum(result.seconds for result in results),
        [stat for result in results for stat in result.stats],
        cpu,
        integrity_sum,
    )


#: What the target bounds: p99 of both endpoints and CPU per round trip.
TARGETED = ("next p99", "submit p99", "cpu server", "cpu database", "cpu total")


def table(rows: dict[tuple[int, int], RunResult], *, sizes: list[int], levels: list[int]) -> tuple[str, list[str]]:
    header = (
        "| clips | N | round trips | round trips/s | next p50 | next p95 | next p99 | submit p50 | submit p95 "
        "| submit p99 | errors | CPU ms/trip server/db/clients | db buffers/trip | other load | integrity |"
    )
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    verdicts = []
    for level in levels:
        figures = {}
        for size in sizes:
            result = rows[(size, level)]
            f = figures[size] = trip_figures(result)
            f["cpu total"] = f["cpu server"] + f["cpu database"] + f["cpu clients"]
            f["buffers"] = result.integrity["buffers"] / max(f["trips"], 1)
            lines.append(
                f"| {size} | {level} | {f['trips']} | {f['rate']:.1f} "
                f"| {f['next p50']:.1f} | {f['next p95']:.1f} | {f['next p99']:.1f} "
                f"| {f['submit p50']:.1f} | {f['submit p95']:.1f} | {f['submit p99']:.1f} "
                f"| {f['errors']} | {f['cpu server']:.1f}/{f['cpu database']:.1f}/{f['cpu clients']:.1f} "
                f"| {f['buffers']:.0f} | {f['other load']:.2f} | {integrity_verdict(result, RATERS_PER_CLIP)} |"
            )
        if len(sizes) > 1:
            big, small = figures[sizes[-1]], figures[sizes[0]]

            def ratio(key: str, big=big, small=small) -> str:
                return f"{big[key] / small[key]:.2f}x" if small[key] else "n/a"

            lines.append(
                f"| {sizes[-1]}/{sizes[0]} | {level} | | {ratio('rate')} | {ratio('next p50')} | {ratio('next p95')} "
                f"| {ratio('next p99')} | {ratio('submit p50')} | {ratio('submit p95')} | {ratio('submit p99')} | "
                f"| {ratio('cpu server')}/{ratio('cpu database')}/{ratio('cpu clients')} | {ratio('buffers')} | | |"
            )
            over = [
                f"{key} {big[key] / small[key]:.2f}x"
                for key in TARGETED
                if small[key] and big[key] / small[key] > TARGET_RATIO
            ]
            within = ", ".join(f"{key} {big[key] / small[key]:.2f}x" for key in TARGETED if small[key])
            verdicts.append(
                f"{'met   ' if not over else 'MISSED'} N={level}: {sizes[-1]} clips within {TARGET_RATIO}x of "
                f"{sizes[0]} on p99 and CPU per round trip ({within}; db buffers/trip {ratio('buffers')})"
            )
    return "\n".join(lines), verdicts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2000,20000,200000", help="clips per study, comma-separated")
    parser.add_argument("--levels", default="8,32", help="numbers of concurrent raters, comma-separated")
    parser.add_argument("--seconds", type=float, default=30.0, help="run time per (size, N, round)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per (size, N), pooled per row")
    parser.add_argument("--think-ms", type=float, default=0.0, help="pause between next and submit")
    parser.add_argument("--jitter", type=float, default=0.5, help="think time varies uniformly by +- this share")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--keep", action="store_true", help="keep the databases, and reuse their seeded studies")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--database", default="avlabel_bench_load", help="database name prefix (one per size)")
    parser.add_argument("--child", choices=["seed", "after-run"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--study", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--acked", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_main(args)
    sizes = sorted(int(value) for value in args.sizes.split(","))
    levels = [int(value) for value in args.levels.split(",")]
    if max(levels) > POOL:
        parser.error(f"at most {POOL} raters")

    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="avlabel-bench-scale-"))
    servers: dict[int, subprocess.Popen] = {}
    databases = {size: f"{args.database}_{size}" for size in sizes}
    try:
        seeded, envs = {}, {}
        for size in sizes:
            if not (args.keep and database_exists(args.server, databases[size])):
                database_recreate(args.server, databases[size])
            envs[size] = production_env(server=args.server, database=databases[size], data_dir=work / str(size))
            seeded[size] = child_run(env=envs[size], arguments=["seed", "--size", str(size)])
            how = "reused" if seeded[size]["reused"] else f"seeded ({seeded[size]['ratings']} ratings, "
            how += "" if seeded[size]["reused"] else f"{seeded[size]['judgments']} judgments)"
            _log(f"{size} clips: study {seeded[size]['study']} {how} in {seeded[size]['seconds']:.0f} s")
        load_seeded = os.getloadavg()

        def run(size: int, level: int, seconds: float, think_ms: float, jitter: float) -> RunResult:
            buffers_before = database_buffers(args.server, databases[size])
            stats, used, elapsed = run_level(
                port=ports[size], tokens=seeded[size]["tokens"][:level], study_id=seeded[size]["study"],
                seconds=seconds, think_ms=think_ms, jitter=jitter, server_pid=servers[size].pid,
                db_server=args.server, database=databases[size],
            )  # fmt: skip
            time.sleep(STATS_FLUSH_SECONDS)  # idle backends report their counts within 10 s
            buffers = database_buffers(args.server, databases[size]) - buffers_before
            acked = work / "acked.json"
            acked.write_text(
                json.dumps(
                    {
                        "acknowledged": sorted({pk for stat in stats for pk in stat.acknowledged}),
                        "served_after_submit": sum(stat.served_after_submit for stat in stats),
                    }
                )
            )
            check = child_run(
                env=envs[size], arguments=["after-run", "--study", str(seeded[size]["study"]), "--acked", str(acked)]
            )
            result = RunResult(think_ms, level, elapsed, stats, used, {**check, "buffers": buffers})
            f = trip_figures(result)
            _log(
                f"{size} clips, N={level}: {f['rate']:.1f} trips/s, p99 next {f['next p99']:.1f} submit "
                f"{f['submit p99']:.1f} ms, CPU ms/trip {f['cpu server']:.1f}/{f['cpu database']:.1f}/"
                f"{f['cpu clients']:.1f}, db buffers/trip {buffers / max(f['trips'], 1):.0f}, "
                f"other load {f['other load']:.2f}, load average {os.getloadavg()[0]:.2f}, "
                f"integrity {'ok' if check['ok'] else 'FAILED'}"
            )
            return result

        ports = {}
        for size in sizes:
            ports[size] = free_port()
            servers[size] = gunicorn_start(
                env=envs[size], workers=args.workers, worker_class="sync", threads=1, port=ports[size],
                log_path=work / f"gunicorn-{size}.log",
            )  # fmt: skip
            run(size, 2 * args.workers, 3, 0, 0)  # warm-up, not reported (then undone like any run)
        results: dict[tuple[int, int], list[RunResult]] = {}
        for round_index in range(args.rounds):
            # the order of the sizes turns by one each round: none always runs first or last
            turned = sizes[round_index % len(sizes) :] + sizes[: round_index % len(sizes)]
            for level in levels:
                for size in turned:
                    results.setdefault((size, level), []).append(
                        run(size, level, args.seconds, args.think_ms, args.jitter)
                    )
        load_after = os.getloadavg()
        text, verdicts = table(
            {key: pooled(value) for key, value in results.items()}, sizes=sizes, levels=levels
        )  # fmt: skip
        print(
            f"rater_load_scale: gunicorn -w {args.workers} -k sync, PostgreSQL, one database per size, "
            f"{RATERS_PER_CLIP} raters per clip, {FILLED_PER_CLIP} of them filled before the runs "
            f"(pool {POOL}, load raters its first N), 2 proposals + 1 decoy per clip; {args.rounds} interleaved "
            f"round(s) of {args.seconds:.0f} s per row, think {args.think_ms:.0f} ms; {os.cpu_count()} CPUs "
            f"({cpu_model()}) shared by clients, server and database; latencies in ms; load average (1/5/15 min) "
            f"before seeding {'/'.join(f'{v:.2f}' for v in load_before)}, before the runs "
            f"{'/'.join(f'{v:.2f}' for v in load_seeded)}, after {'/'.join(f'{v:.2f}' for v in load_after)}"
        )
        print(text)
        for verdict in verdicts:
            print(verdict)
        ok = all(result.integrity["ok"] for value in results.values() for result in value)
        return 0 if ok else 1
    finally:
        for process in servers.values():
            gunicorn_stop(process)
        if not args.keep:
            for name in databases.values():
                database_drop(args.server, name)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
