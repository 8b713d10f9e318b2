"""Benchmark: the rating queue over HTTP, with N raters working at once.

Creates a fresh PostgreSQL database, migrates it, seeds it through the services (a dataset
of clips with readable media and proposals, one study per load level with 3 raters per
clip, raters with API tokens), starts the app under gunicorn and runs N simulated raters
(threads, each a requests.Session with token auth: GET next clip, POST its answers) for a
fixed time per level. Prints one row per level: round trips per second, p50/p95/p99
latency of `next` and of `submit`, errors, and an integrity check read from the database
afterwards (ratings stored == submits acknowledged, no clip over its overlap, no clip
served twice to a rater). Stops gunicorn and drops the database at the end.

    python bench/rater_load.py [--levels 1,8,32] [--seconds 20] [--workers 4] [--clips 1500]
        [--server postgres://postgres@127.0.0.1:5432] [--database avlabel_bench] [--think-ms 0]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OVERLAP = 3
CATEGORIES = 60


@dataclass
class RaterStats:
    next_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    acknowledged: set[int] = field(default_factory=set)  # rating ids the server confirmed
    served_after_submit: int = 0  # a clip served again after its rating was acknowledged
    exhausted: bool = False


@dataclass
class LevelResult:
    raters: int
    seconds: float
    stats: list[RaterStats]
    integrity: dict[str, object]


# ---------------------------------------------------------------- database and server


def admin_connection(server: str):
    connection = psycopg2.connect(f"{server.rstrip('/')}/postgres")
    connection.autocommit = True
    return connection


def database_recreate(server: str, name: str) -> None:
    connection = admin_connection(server)  # not `with connection`: that opens a transaction
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()


def database_drop(server: str, name: str) -> None:
    connection = admin_connection(server)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_start(*, env: dict, workers: int, port: int, log_path: Path) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = log_path.open("w")
    command = [str(gunicorn), "config.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--backlog", "256"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log_path}")
            try:
                # one answer per worker, so that none is still importing when the clock starts
                if all(requests.get(f"http://127.0.0.1:{port}/healthz", timeout=30).ok for _ in range(workers * 2)):
                    return process
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"gunicorn did not answer within 180 s; see {log_path}")
    except BaseException:
        gunicorn_stop(process)
        raise


def gunicorn_stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---------------------------------------------------------------- seeding (Django, in this process)


def seed(*, levels: list[int], clips: int) -> tuple[list[int], list[str]]:
    """One dataset, one proposal set, one study per level; returns study ids and tokens."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from annotator import roles, services
    from annotator.models import Category, Clip, ClipLabel, Dataset, Proposal, ProposalSet, Taxonomy

    taxonomy = Taxonomy.objects.create(name="bench")
    categories = Category.objects.bulk_create(
        [Category(taxonomy=taxonomy, name=f"class {i}", index=i) for i in range(CATEGORIES)]
    )
    dataset = Dataset.objects.create(name="bench", taxonomy=taxonomy)
    rows = Clip.objects.bulk_create(
        [
            Clip(dataset=dataset, clip_id=f"bench{i:06d}", split="test", media_status=Clip.MediaStatus.OK)
            for i in range(clips)
        ]
    )
    ClipLabel.objects.bulk_create(
        [ClipLabel(clip=clip, category=categories[i % CATEGORIES]) for i, clip in enumerate(rows)]
    )
    proposal_set = ProposalSet.objects.create(dataset=dataset, name="bench", source=ProposalSet.Source.FILE)
    Proposal.objects.bulk_create(
        [
            Proposal(proposal_set=proposal_set, clip=clip, category=categories[(i + shift) % CATEGORIES], score=0.5)
            for i, clip in enumerate(rows)
            for shift in (0, 7)
        ]
    )
    User = get_user_model()
    rater_group, _ = Group.objects.get_or_create(name=roles.RATER)
    researcher_group, _ = Group.objects.get_or_create(name=roles.RESEARCHER)
    owner = User.objects.create(username="bench-owner")
    owner.groups.add(researcher_group)
    raters = []
    for i in range(max(levels)):
        rater = User.objects.create(username=f"bench-rater{i:02d}")
        rater.groups.add(rater_group)
        raters.append(rater)
    tokens = [Token.objects.create(user=rater).key for rater in raters]
    study_ids = [
        services.study_create(
            name=f"bench N={level}",
            dataset=dataset,
            proposal_set=proposal_set,
            owner=owner,
            raters=raters[:level],
            sample_size=clips,
            seed=level,
            raters_per_clip=OVERLAP,
            decoys_per_clip=1,
        ).pk
        for level in levels
    ]
    return study_ids, tokens


def integrity(*, study_id: int, stats: list[RaterStats]) -> dict[str, object]:
    from django.db.models import Count, Q

    from annotator.models import Rating, Reservation, StudyClip

    stored = Rating.objects.filter(study_clip__study_id=study_id)
    acknowledged = set().union(*(s.acknowledged for s in stats))
    stored_ids = set(stored.values_list("pk", flat=True))
    loads = StudyClip.objects.filter(study_id=study_id).annotate(
        completed=Count("ratings", filter=Q(ratings__skipped=False), distinct=True),
        reserved=Count("reservations", distinct=True),
    )
    worst = max((row.completed + row.reserved for row in loads), default=0)
    pairs = stored.values("study_clip_id", "rater_id").annotate(n=Count("pk")).filter(n__gt=1).count()
    served_twice = sum(s.served_after_submit for s in stats) + pairs
    ok = stored_ids == acknowledged and worst <= OVERLAP and served_twice == 0
    return {
        "stored": len(stored_ids),
        "acknowledged": len(acknowledged),
        "max_load": worst,
        "served_twice": served_twice,
        "open_reservations": Reservation.objects.filter(study_clip__study_id=study_id).count(),
        "ok": ok,
    }


# ---------------------------------------------------------------- simulated raters


def rater_run(*, base: str, token: str, study_id: int, deadline: float, think: float, stats: RaterStats) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    submitted: set[int] = set()
    while time.monotonic() < deadline:
        start = time.perf_counter()
        try:
            response = session.get(f"{base}/api/studies/{study_id}/next/", timeout=30)
        except requests.RequestException as exc:
            stats.errors[f"next {type(exc).__name__}"] += 1
            continue
        stats.next_ms.append((time.perf_counter() - start) * 1000)
        if response.status_code == 204:
            stats.exhausted = True
            return
        if response.status_code != 200:
            stats.errors[f"next {response.status_code}"] += 1
            continue
        payload = response.json()
        study_clip_id = payload["study_clip_id"]
        if study_clip_id in submitted:
            stats.served_after_submit += 1
        if think:
            time.sleep(think)
        body = {
            "answers": {str(label["category_id"]): "present" for label in payload["labels"]},
            "seconds_spent": think,
        }
        start = time.perf_counter()
        try:
            response = session.post(f"{base}/api/study-clips/{study_clip_id}/submit/", json=body, timeout=30)
        except requests.RequestException as exc:
            stats.errors[f"submit {type(exc).__name__}"] += 1
            continue
        stats.submit_ms.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            stats.errors[f"submit {response.status_code}"] += 1
            continue
        stats.acknowledged.add(response.json()["id"])
        submitted.add(study_clip_id)
    session.close()


def level_run(*, base: str, tokens: list[str], study_id: int, seconds: float, think: float) -> LevelResult:
    stats = [RaterStats() for _ in tokens]
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=rater_run,
            kwargs={
                "base": base,
                "token": token,
                "study_id": study_id,
                "deadline": deadline,
                "think": think,
                "stats": stat,
            },
        )  # fmt: skip
        for token, stat in zip(tokens, stats, strict=True)
    ]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    return LevelResult(len(tokens), elapsed, stats, integrity(study_id=study_id, stats=stats))


# ---------------------------------------------------------------- report


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def table(results: list[LevelResult]) -> str:
    header = (
        "| N | round trips/s | next p50 | next p95 | next p99 | submit p50 | submit p95 | submit p99 "
        "| errors | integrity |"
    )
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for result in results:
        next_ms = [v for s in result.stats for v in s.next_ms]
        submit_ms = [v for s in result.stats for v in s.submit_ms]
        trips = sum(len(s.acknowledged) for s in result.stats)
        errors = sum(sum(s.errors.values()) for s in result.stats)
        check = result.integrity
        verdict = (
            f"{'ok' if check['ok'] else 'FAILED'}: stored {check['stored']} = acked {check['acknowledged']}, "
            f"max load {check['max_load']}/{OVERLAP}, served twice {check['served_twice']}"
        )
        if any(s.exhausted for s in result.stats):
            verdict += ", queue ran out"
        lines.append(
            f"| {result.raters} | {trips / result.seconds:.1f} "
            f"| {percentile(next_ms, 50):.1f} | {percentile(next_ms, 95):.1f} | {percentile(next_ms, 99):.1f} "
            f"| {percentile(submit_ms, 50):.1f} | {percentile(submit_ms, 95):.1f} | {percentile(submit_ms, 99):.1f} "
            f"| {errors} | {verdict} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1,8,32", help="numbers of concurrent raters, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="run time per level")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--clips", type=int, default=1500, help="clips per study (one study per level)")
    parser.add_argument("--think-ms", type=float, default=0.0, help="pause between next and submit")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--database", default="avlabel_bench", help="database to create (and drop) for the run")
    args = parser.parse_args()
    levels = [int(value) for value in args.levels.split(",")]

    database_recreate(args.server, args.database)
    data_dir = Path(tempfile.mkdtemp(prefix="avlabel-bench-"))
    env = os.environ | {
        "DATABASE_URL": f"{args.server.rstrip('/')}/{args.database}",
        "AVLABEL_DATA_DIR": str(data_dir),
        "CELERY_BROKER_URL": "memory://",
        "DJANGO_DEBUG": "0",
        "AVLABEL_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    process = None
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        from django.db import connections

        study_ids, tokens = seed(levels=levels, clips=args.clips)
        port = free_port()
        process = gunicorn_start(env=env, workers=args.workers, port=port, log_path=data_dir / "gunicorn.log")
        base = f"http://127.0.0.1:{port}"
        results = []
        for level, study_id in zip(levels, study_ids, strict=True):
            results.append(
                level_run(
                    base=base, tokens=tokens[:level], study_id=study_id, seconds=args.seconds,
                    think=args.think_ms / 1000,
                )
            )  # fmt: skip
            print(f"N={level}: done", file=sys.stderr, flush=True)
        print(
            f"rater_load: gunicorn -w {args.workers}, PostgreSQL, {args.clips} clips per study, "
            f"{OVERLAP} raters per clip, {args.seconds:.0f} s per level, think {args.think_ms:.0f} ms, "
            f"{os.cpu_count()} CPUs (clients, server and database share them); latencies in ms"
        )
        print(table(results))
        errors = Counter()
        for result in results:
            for stat in result.stats:
                errors.update(stat.errors)
        if errors:
            print("errors:", dict(errors))
        connections.close_all()
        return 0 if all(result.integrity["ok"] for result in results) else 1
    finally:
        if process is not None:
            gunicorn_stop(process)
        database_drop(args.server, args.database)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
