"""Benchmark: the consensus a study reaches, with simulated raters of known behaviour rating it
through the real services, on a real multi-label truth with modality (LLP/AVVP val + test).

The truth (bench/consensus_truth.py) is each clip's dense audio and visual event classes; the
proposals hold about 60% of it plus wrong labels (mean set size 2.2). 12 raters
(bench/consensus_raters.py): 9 careful, 2 lenient, 1 random; they add true labels they are
not shown. Each configuration is its own study on the same dataset, proposals and seed:
fixed overlap 3, 5 and 12, and the settled queue (3 to 12 raters). Raters take turns in a
seeded random order, each turn `services.clip_next_for_rater` then `services.rating_submit`,
until the queue gives every rater None. The figures come from the study's dataset export
against the truth, on the sampled (non-gold) clips; rater gold accuracy from the rater
quality table.

Runs in the bench's own process on a PostgreSQL database it creates and drops.

    python bench/consensus.py [--clips N (default 1000, 0: all 1849)] [--seed S]
        [--configs fixed3,fixed5,fixed12,settled]
    python bench/consensus.py --dry-run   # truth and proposal statistics only, no database
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from consensus_raters import POOL, rater_names, study_rate
from consensus_truth import TruthClip, data_folder, proposals_make, seed_database, truth_load, truth_statistics
from load_harness import cpu_seconds, database_drop, database_recreate, production_env

ROOT = Path(__file__).resolve().parents[1]
GOLD_RATE = 0.1
# All 1849 clips cost about 55k ratings at about 23 ms of CPU each (bench + PostgreSQL, one
# after the other): over 20 minutes on a quiet 2-core machine. 1000 clips take about 12.
DEFAULT_CLIPS = 1000
CONFIGS = {  # name -> study_create settings
    "fixed3": {"serving": "fixed", "raters_per_clip": 3},
    "fixed5": {"serving": "fixed", "raters_per_clip": 5},
    "fixed12": {"serving": "fixed", "raters_per_clip": 12},
    "settled": {"serving": "settled", "min_raters": 3, "raters_per_clip": 12},
}
ROW_NAMES = {"fixed3": "fixed 3", "fixed5": "fixed 5", "fixed12": "fixed 12", "settled": "settled 3-12"}


@dataclass
class Result:
    name: str
    precision: float
    recall: float
    modality_accuracy: float | None = None
    ratings_per_clip: float | None = None
    judgments_per_clip: float | None = None
    careful_gold_accuracy: float | None = None
    seconds: float | None = None  # wall time of rating and measuring
    cpu_seconds: tuple[float, float] = (0.0, 0.0)  # the bench's process, its PostgreSQL backend
    ratings: int = 0
    misses: str = ""

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- measuring


def consensus_measure(*, study, truth_by_clip: dict[str, TruthClip], careful: set[str]) -> Result:
    from django.db.models import Count, Q

    from annotator.models import Judgment, Rating, StudyClip, StudyClipLabel
    from evaluation import exporters, selectors, tables

    data = selectors.study_data(study=study)
    records = {record["clip_id"]: record for record in exporters.study_dataset_records(data) if not record["is_gold"]}
    sample = list(
        StudyClip.objects.filter(study=study, is_gold=False).values_list("clip__clip_id", flat=True).order_by("pk")
    )
    shown: dict[str, set[str]] = {}  # every label a clip showed or a rater added, hidden since or not
    for clip_id, name in StudyClipLabel.objects.filter(study_clip__study=study, study_clip__is_gold=False).values_list(
        "study_clip__clip__clip_id", "category__name"
    ):
        shown.setdefault(clip_id, set()).add(name)
    hits = confirmed = true_total = modality_right = 0
    lost_unshown: Counter = Counter()
    lost_rejected: Counter = Counter()
    for clip_id in sample:
        truth = truth_by_clip[clip_id].truth
        labels = [label for label in records.get(clip_id, {"labels": []})["labels"] if label["confirmed"]]
        true_total += len(truth)
        confirmed += len(labels)
        for label in labels:
            if label["label"] in truth:
                hits += 1
                modality_right += label["modality"] == truth[label["label"]]
        consensus = {label["label"] for label in labels}
        for name in truth.keys() - consensus:
            (lost_rejected if name in shown.get(clip_id, ()) else lost_unshown)[name] += 1
    ratings = Rating.objects.filter(study_clip__study=study, study_clip__is_gold=False, skipped=False)
    per_clip = list(
        StudyClip.objects.filter(study=study, is_gold=False)
        .annotate(n=Count("ratings", filter=Q(ratings__skipped=False)))
        .values_list("n", flat=True)
    )
    judgments = Judgment.objects.filter(rating__in=ratings)
    quality = tables.rater_quality_table(data)
    names = [column.name for column in quality.columns]
    gold_values = [
        row[names.index("Gold accuracy")]
        for row in quality.rows
        if row[names.index("Rater")] in careful and row[names.index("Gold accuracy")] is not None
    ]
    worst = ", ".join(f"{name} {count}" for name, count in (lost_unshown + lost_rejected).most_common(4))
    return Result(
        name=ROW_NAMES.get(study.name, study.name),
        precision=hits / confirmed if confirmed else 0.0,
        recall=hits / true_total,
        modality_accuracy=modality_right / hits if hits else None,
        ratings_per_clip=ratings.count() / len(sample),
        judgments_per_clip=judgments.count() / len(sample),
        careful_gold_accuracy=sum(gold_values) / len(gold_values) if gold_values else None,
        misses=(
            f"{true_total - hits} true labels lost: {sum(lost_unshown.values())} never shown (not proposed, "
            f"never added), {sum(lost_rejected.values())} shown and not confirmed; most lost: {worst or 'none'}; "
            f"ratings per clip {min(per_clip)} to {max(per_clip)}"
        ),
    )


def proposals_measure(*, sample: list[str], truth_by_clip, proposals) -> Result:
    hits = sum(name in truth_by_clip[clip_id].truth for clip_id in sample for name in proposals[clip_id])
    proposed = sum(len(proposals[clip_id]) for clip_id in sample)
    true_total = sum(len(truth_by_clip[clip_id].truth) for clip_id in sample)
    return Result(name="proposals", precision=hits / proposed, recall=hits / true_total)


# ---------------------------------------------------------------- report


def _cell(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def table(results: list[Result]) -> str:
    lines = [
        "| configuration | precision | recall | F1 | modality acc. | ratings/clip | judgments/clip "
        "| careful gold acc. |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.precision:.3f} | {r.recall:.3f} | {r.f1:.3f} | {_cell(r.modality_accuracy)} "
            f"| {_cell(r.ratings_per_clip, 2)} | {_cell(r.judgments_per_clip, 2)} | {_cell(r.careful_gold_accuracy)} |"
        )
    return "\n".join(lines)


def target_checks(results: dict[str, Result]) -> list[str]:
    def line(met: bool | None, text: str) -> str:
        return f"{'n/a   ' if met is None else 'met   ' if met else 'MISSED'} {text}"

    settled, fixed12 = results.get("settled"), results.get("fixed12")
    lines = []
    if settled:
        lines.append(
            line(
                settled.recall >= 0.85 and settled.precision >= 0.97,
                f"settled: recall >= 0.85 at precision >= 0.97 (recall {settled.recall:.3f}, "
                f"precision {settled.precision:.3f})",
            )
        )
    for result in results.values():
        if result.modality_accuracy is not None:
            lines.append(
                line(result.modality_accuracy >= 0.90, f"{result.name}: modality accuracy >= 0.90 "
                     f"({result.modality_accuracy:.3f})")
            )  # fmt: skip
    if settled and fixed12:
        fewer = 1 - settled.judgments_per_clip / fixed12.judgments_per_clip
        lines.append(
            line(
                abs(settled.f1 - fixed12.f1) <= 0.01 and fewer >= 0.40,
                f"settled F1 within 0.01 of fixed 12 ({settled.f1:.3f} vs {fixed12.f1:.3f}) with >= 40% fewer "
                f"judgments ({fewer:.0%} fewer)",
            )
        )
    for result in results.values():
        value = result.careful_gold_accuracy
        lines.append(
            line(None if value is None else value >= 0.85, f"{result.name}: careful raters' gold accuracy >= 0.85 "
                 f"({_cell(value)})")
        )  # fmt: skip
    return lines


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--clips", type=int, default=DEFAULT_CLIPS, help=f"clips, a seeded subset (default {DEFAULT_CLIPS}; 0: all)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"comma-separated, of {', '.join(CONFIGS)}")
    parser.add_argument("--dry-run", action="store_true", help="print the truth and proposal statistics only")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--database", default="avlabel_bench_consensus", help="database to create (and drop)")
    args = parser.parse_args()
    configs = [name for name in args.configs.split(",") if name]
    unknown = sorted(set(configs) - set(CONFIGS))
    if unknown:
        parser.error(f"unknown configs: {', '.join(unknown)}")

    started = time.monotonic()
    load_before = os.getloadavg()[0]
    folder = data_folder()
    clips = truth_load(folder)
    if args.clips:
        if not 0 < args.clips <= len(clips):
            parser.error(f"--clips must lie in 1..{len(clips)}")
        clips = random.Random(args.seed).sample(clips, args.clips)
    proposals = proposals_make(clips, seed=args.seed)
    statistics = truth_statistics(clips, proposals)
    shown = (
        f"{key} {value:.3f}" if isinstance(value, float) else f"{key} {value}" for key, value in statistics.items()
    )
    progress(f"truth from {folder}: {', '.join(shown)}")
    if args.dry_run:
        return 0
    truth_by_clip = {clip.filename: clip for clip in clips}

    database_recreate(args.server, args.database)
    data_dir = Path(tempfile.mkdtemp(prefix="avlabel-bench-consensus-"))
    try:
        os.environ.update(production_env(server=args.server, database=args.database, data_dir=data_dir))
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.db import connection

        from annotator import services

        dataset, proposal_set, owner, raters = seed_database(
            clips=clips, proposals=proposals, rater_names=rater_names()
        )
        sample_size = len(clips)
        while sample_size + round(GOLD_RATE * sample_size) > len(clips):  # sample + its gold clips: every clip
            sample_size -= 1
        category_ids = dict(dataset.taxonomy.categories.values_list("name", "pk"))
        careful = {rater.username for rater, profile in zip(raters, POOL, strict=True) if profile.kind == "careful"}
        progress(f"seeded {len(clips)} clips, sample {sample_size} + gold; {time.monotonic() - started:.0f} s")
        results: dict[str, Result] = {}
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (backend_pid,) = cursor.fetchone()
        for name in configs:
            begin = time.monotonic()
            cpu_before = (time.process_time(), cpu_seconds([backend_pid])[backend_pid])
            study = services.study_create(
                name=name, dataset=dataset, proposal_set=proposal_set, owner=owner, raters=raters,
                sample_size=sample_size, seed=args.seed, decoys_per_clip=1, ask_modality=True,
                gold_rate=GOLD_RATE, **CONFIGS[name],
            )  # fmt: skip
            submitted = study_rate(
                study=study, raters=raters, truth_by_clip=truth_by_clip, category_ids=category_ids, seed=args.seed
            )
            results[name] = consensus_measure(study=study, truth_by_clip=truth_by_clip, careful=careful)
            result = results[name]
            result.seconds, result.ratings = time.monotonic() - begin, submitted
            cpu_after = (time.process_time(), cpu_seconds([backend_pid])[backend_pid])
            result.cpu_seconds = (cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1])
            progress(f"{name}: {submitted} ratings in {result.seconds:.0f} s")
        from annotator.models import StudyClip

        # every study has the same seed, hence the same sample: the proposals are measured on it
        sample = list(
            StudyClip.objects.filter(study__name=configs[0], is_gold=False).values_list("clip__clip_id", flat=True)
        )
    finally:
        database_drop(args.server, args.database)
        shutil.rmtree(data_dir, ignore_errors=True)

    reference = proposals_measure(sample=sample, truth_by_clip=truth_by_clip, proposals=proposals)
    print(
        f"consensus: LLP/AVVP val+test, {len(clips)} clips ({sample_size} sampled + {len(clips) - sample_size} gold), "
        f"{statistics['mean true labels']:.2f} true labels per clip, "
        f"proposals {statistics['mean proposal set size']:.2f} per clip; 12 raters (9 careful, 2 lenient, 1 random), "
        f"1 decoy per clip, gold rate {GOLD_RATE}, seed {args.seed}; figures on the sampled clips, micro over "
        "(clip, label)"
    )
    print(table([reference, *results.values()]))
    print()
    for line in target_checks(results):
        print(line)
    print()
    for result in results.values():
        bench_cpu, database_cpu = (seconds * 1000 / max(result.ratings, 1) for seconds in result.cpu_seconds)
        print(
            f"{result.name}: {result.misses}; {result.ratings} ratings in {result.seconds:.0f} s, CPU ms per rating "
            f"bench {bench_cpu:.1f} + PostgreSQL {database_cpu:.1f}"
        )
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} CPUs, PostgreSQL on the same machine; load average before "
        f"{load_before:.2f}, after {os.getloadavg()[0]:.2f}; wall time {time.monotonic() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
