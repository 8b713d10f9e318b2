"""Benchmark: what a study costs as it grows to VGGSound's size (2k, 20k, 200k clips).

For each size, on PostgreSQL (a database of its own, created and dropped):
- import s: the vggsound.csv-format clip list of that many rows (built from VGGSound's real
  test split, bench/study_scale_seed.py) imported by annotator's clips importer into a new
  dataset, taxonomy VGGSound's 309 classes;
- create s: `study_create` sampling every clip of it (stratified, seeded) for `--raters`
  raters per clip and writing the labels each clip shows (its 2 proposals and 1 decoy);
- then every rater rates every clip (all ratings filled, none skipped: 12 per clip by
  default) and answers each shown label, written by bulk SQL, not timed;
- evaluate s: `evaluation.services.study_evaluate` (what the evaluation page and the
  `evaluation.compute` task call: judgments loaded, metrics, tables, 1000 bootstrap
  resamples), in a child process, split into loading and tables, with its peak RSS;
- export s / peak RSS: `study_dataset_export` in csv, jsonl and parquet written to a file as
  the export_dataset command does, each in a fresh child process; peak RSS is the child's
  ru_maxrss, interpreter, Django and the study's data included.

Children run under an address-space cap (--child-memory-gb) so that a run that would need
too much memory fails alone instead of starving the machine.

    python bench/study_scale.py [--sizes 2000,20000,200000] [--raters 12] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from load_harness import admin_connection, database_drop, database_recreate, production_env
from study_scale_seed import proposals_fill, ratings_fill, vggsound_csv_write

ROOT = Path(__file__).resolve().parents[1]
EXPORT_FORMATS = ("csv", "jsonl", "parquet")
TAXONOMY = "vggsound-bench"
N_BOOT = 1000


def shared_data() -> Path:
    for folder in (os.environ.get("AVLABEL_SHARED_DATA"), "/work/shared/data", ROOT / "tests" / "data"):
        if folder and (Path(folder) / "vggsound" / "test.csv").is_file():
            return Path(folder) / "vggsound"
    raise SystemExit("VGGSound's test.csv not found (set AVLABEL_SHARED_DATA)")


# --------------------------------------------------------------------------------------
# Children: one measurement each, so that peak RSS is that measurement's alone
# --------------------------------------------------------------------------------------


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child_main(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from annotator.models import Study
    from evaluation import services

    study = Study.objects.select_related("dataset__taxonomy", "proposal_set").get(pk=args.study)
    baseline = _peak_rss_mb()
    marks: dict[str, float] = {}
    started = time.perf_counter()
    if args.child == "evaluate":

        def progress(fraction: float, message: str) -> None:
            marks.setdefault(message, time.perf_counter() - started)

        evaluation = services.study_evaluate(study=study, n_boot=N_BOOT, seed=0, on_progress=progress)
        size = len(evaluation.tables)
    else:
        body = services.study_dataset_export(study=study, fmt=args.format)
        data = body.encode("utf-8") if isinstance(body, str) else body
        Path(args.out).write_bytes(data)
        size = len(data)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_mb": _peak_rss_mb(), "baseline_mb": baseline, "size": size, **marks}))
    return 0


def child_run(*, env: dict, memory_gb: float, timeout: float, arguments: list[str]) -> dict:
    def cap() -> None:
        limit = int(memory_gb * 1024**3)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    command = [sys.executable, str(Path(__file__).resolve()), "--child", *arguments]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, preexec_fn=cap, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout:.0f} s"}
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["?"]
        what = f"MemoryError (cap {memory_gb:g} GB)" if "MemoryError" in done.stderr else tail[0][:120]
        return {"error": f"{what} after {time.perf_counter() - started:.0f} s"}
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------
# The parent: seed, time, print
# --------------------------------------------------------------------------------------


def users_ensure(raters: int):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from annotator import roles

    User = get_user_model()
    rater_group, _ = Group.objects.get_or_create(name=roles.RATER)
    researcher_group, _ = Group.objects.get_or_create(name=roles.RESEARCHER)
    owner, _ = User.objects.get_or_create(username="scale-owner")
    owner.groups.add(researcher_group)
    pool = []
    for i in range(raters):
        rater, _ = User.objects.get_or_create(username=f"scale-rater{i:02d}")
        rater.groups.add(rater_group)
        pool.append(rater)
    return owner, pool


def taxonomy_ensure(data: Path):
    from annotator.importers.taxonomy import taxonomy_import
    from annotator.models import Taxonomy

    if not Taxonomy.objects.filter(name=TAXONOMY).exists():
        taxonomy_import(name=TAXONOMY, path=data / "stat.csv", file_format="vggsound-stat")
    return Taxonomy.objects.get(name=TAXONOMY)


def clips_import_timed(*, name: str, path: Path) -> tuple[float, int]:
    from annotator.importers.clips import clips_import

    started = time.perf_counter()
    report = clips_import(dataset_name=name, path=path, file_format="vggsound", taxonomy_name=TAXONOMY)
    seconds = time.perf_counter() - started
    if report.errors:
        raise RuntimeError(f"import of {path} reported errors: {report.errors[:3]}")
    return seconds, report.created


def _dataset_delete(name: str) -> None:
    from annotator.models import Dataset, Study

    for dataset in Dataset.objects.filter(name=name):
        Study.objects.filter(dataset=dataset).delete()
        dataset.proposal_sets.all().delete()
        dataset.delete()


def _rated_study(*, name: str, size: int, raters: int):
    from annotator.models import Rating, Study

    study = Study.objects.filter(dataset__name=name, name=f"{name} rated").first()
    if study is None or Rating.objects.filter(study_clip__study=study).count() != size * raters:
        return None
    return study


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure_size(*, size: int, args: argparse.Namespace, env: dict, work: Path, data: Path) -> dict:
    from django.db import connection

    from annotator import services
    from annotator.models import Clip, Dataset, Judgment, ProposalSet, Rating

    name = f"scale-{size}"
    clip_list = work / f"vggsound-{size}.csv"
    vggsound_csv_write(test_csv=data / "test.csv", out=clip_list, rows=size)
    owner, pool = users_ensure(args.raters)
    taxonomy = taxonomy_ensure(data)
    study = _rated_study(name=name, size=size, raters=args.raters) if args.keep else None
    row: dict = {"size": size}

    if study is not None:  # a kept, seeded database: time the import into a fresh dataset
        _log(f"{name}: reusing study {study.pk}")
        _dataset_delete(f"{name}-reimport")
        row["import"], _ = clips_import_timed(name=f"{name}-reimport", path=clip_list)
        _dataset_delete(f"{name}-reimport")
        dataset = study.dataset
        proposal_set = study.proposal_set
    else:
        _dataset_delete(name)
        row["import"], created = clips_import_timed(name=name, path=clip_list)
        _log(f"{name}: imported {created} clips in {row['import']:.1f} s")
        dataset = Dataset.objects.get(name=name)
        Dataset.objects.filter(pk=dataset.pk).update(owner=owner)
        Clip.objects.filter(dataset=dataset).update(media_status=Clip.MediaStatus.OK)
        proposal_set = ProposalSet.objects.create(dataset=dataset, name="top2", source=ProposalSet.Source.FILE)
        started = time.perf_counter()
        proposals = proposals_fill(
            proposal_set_id=proposal_set.pk, dataset_id=dataset.pk, taxonomy_size=taxonomy.categories.count()
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        _log(f"{name}: {proposals} proposals in {time.perf_counter() - started:.1f} s")
    dataset.refresh_from_db()

    started = time.perf_counter()
    created_study = services.study_create(
        name=f"{name} rated" if study is None else f"{name} timed",
        dataset=dataset,
        proposal_set=proposal_set,
        owner=owner,
        raters=pool,
        sample_size=size,
        seed=0,
        raters_per_clip=args.raters,
        decoys_per_clip=1,
    )
    row["create"] = time.perf_counter() - started
    _log(f"{name}: study created in {row['create']:.1f} s")
    if study is None:
        study = created_study
        started = time.perf_counter()
        ratings, judgments = ratings_fill(study_id=study.pk)
        _log(f"{name}: {ratings} ratings, {judgments} judgments written in {time.perf_counter() - started:.1f} s")
    else:
        created_study.delete()
    row["ratings"] = Rating.objects.filter(study_clip__study=study).count()
    row["judgments"] = Judgment.objects.filter(rating__study_clip__study=study).count()

    child = {"env": env, "memory_gb": args.child_memory_gb, "timeout": args.child_timeout}
    row["evaluate"] = child_run(**child, arguments=["evaluate", "--study", str(study.pk)])
    _log(f"{name}: evaluate {row['evaluate']}")
    row["export"] = {}
    for fmt in EXPORT_FORMATS:
        out = work / f"study-{study.pk}.{fmt}"
        row["export"][fmt] = child_run(
            **child, arguments=["export", "--study", str(study.pk), "--format", fmt, "--out", str(out)]
        )
        out.unlink(missing_ok=True)
        _log(f"{name}: export {fmt} {row['export'][fmt]}")
    return row


def _seconds(result: dict) -> float | None:
    return None if "error" in result else result["seconds"]


def _figure(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _columns(row: dict) -> dict[str, list[float | None]]:
    evaluate = row["evaluate"]
    load = evaluate.get("computing tables") if "error" not in evaluate else None
    exports = [row["export"][fmt] for fmt in EXPORT_FORMATS]
    return {
        "import s": [row["import"]],
        "create s": [row["create"]],
        "evaluate s (load + tables)": [_seconds(evaluate)]
        + ([load, evaluate["seconds"] - load] if load is not None else [None, None]),
        "evaluate peak RSS MB": [evaluate.get("peak_mb")],
        "export s " + "/".join(EXPORT_FORMATS): [_seconds(result) for result in exports],
        "export peak RSS MB " + "/".join(EXPORT_FORMATS): [result.get("peak_mb") for result in exports],
    }


def _cell(values: list[float | None], key: str) -> str:
    digits = 0 if "MB" in key else 1
    if key.startswith("evaluate s"):
        total, load, tables = values
        return "n/a" if total is None else f"{total:.1f} ({_figure(load)} + {_figure(tables)})"
    return "/".join(_figure(value, digits) for value in values)


def cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return "?"
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "?")


def table_print(rows: list[dict], *, raters: int, load_before: float, load_after: float) -> None:
    print(
        f"study_scale: PostgreSQL, {raters} raters per clip (all ratings filled), 2 proposals + 1 decoy per clip, "
        f"VGGSound taxonomy (309 classes), bootstrap {N_BOOT}; {os.cpu_count()} CPUs ({cpu_model()}); "
        f"load average {load_before:.2f} before, {load_after:.2f} after; errors: "
        + (
            "; ".join(
                f"{row['size']} {what}: {result['error']}"
                for row in rows
                for what, result in [("evaluate", row["evaluate"]), *row["export"].items()]
                if "error" in result
            )
            or "none"
        )
    )
    keys = list(_columns(rows[0]))
    print("| size | ratings | judgments | " + " | ".join(keys) + " |")
    print("|---" * (3 + len(keys)) + "|")
    for row in rows:
        columns = _columns(row)
        cells = [_cell(columns[key], key) for key in keys]
        print(f"| {row['size']} | {row['ratings']} | {row['judgments']} | " + " | ".join(cells) + " |")
    if len(rows) > 1:
        first, last = _columns(rows[0]), _columns(rows[-1])
        ratios = []
        for key in keys:
            pairs = list(zip(last[key], first[key], strict=True))[: 1 if key.startswith("evaluate s") else None]
            ratios.append("/".join("n/a" if a is None or not b else f"{a / b:.1f}x" for a, b in pairs))
        print(
            f"| {rows[-1]['size']}/{rows[0]['size']} | {rows[-1]['ratings'] / max(rows[0]['ratings'], 1):.0f}x | "
            f"{rows[-1]['judgments'] / max(rows[0]['judgments'], 1):.0f}x | " + " | ".join(ratios) + " |"
        )


def database_exists(server: str, name: str) -> bool:
    connection = admin_connection(server)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cursor.fetchone() is not None
    finally:
        connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2000,20000,200000", help="clips per study, comma-separated")
    parser.add_argument("--raters", type=int, default=12, help="raters per clip (the pool: each rates every clip)")
    parser.add_argument("--keep", action="store_true", help="keep the database, and reuse its seeded studies")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--database", default="avlabel_bench_scale", help="database to create (and drop)")
    parser.add_argument("--child-memory-gb", type=float, default=8.0, help="address-space cap of each child")
    parser.add_argument("--child-timeout", type=float, default=1200.0, help="seconds a child may run")
    parser.add_argument("--child", choices=["evaluate", "export"], help=argparse.SUPPRESS)
    parser.add_argument("--study", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--format", choices=EXPORT_FORMATS, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_main(args)
    sizes = [int(value) for value in args.sizes.split(",")]

    load_before = os.getloadavg()[0]
    if not (args.keep and database_exists(args.server, args.database)):
        database_recreate(args.server, args.database)
    work = Path(tempfile.mkdtemp(prefix="avlabel-study-scale-"))
    try:
        env = production_env(server=args.server, database=args.database, data_dir=work / "data")
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.db import connections

        data = shared_data()
        rows = [measure_size(size=size, args=args, env=env, work=work, data=data) for size in sizes]
        connections.close_all()
        table_print(rows, raters=args.raters, load_before=load_before, load_after=os.getloadavg()[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep:
            database_drop(args.server, args.database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
