"""bench/rater_load_scale.py's children, Django on one size's database: seeding a study of
that size with half its ratings filled, and after each run its integrity check and undo."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from load_seed import integrity
from study_scale import clips_import_timed, shared_data, taxonomy_ensure, users_ensure
from study_scale_seed import proposals_fill, ratings_fill, vggsound_csv_write

RATERS_PER_CLIP = 12
FILLED_PER_CLIP = 6
POOL = 48
STUDY_NAME = "load-scale"
#: When the seeded ratings were "submitted": every later rating is a run's, to check and undo.
SEEDED_AT = "2026-01-01T00:00:00+00:00"


def _seeded_study(size: int):
    from annotator.models import Rating, Study

    study = Study.objects.filter(name=STUDY_NAME).first()
    if study is None or study.study_clips.count() != size:
        return None
    seeded = Rating.objects.filter(study_clip__study=study, submitted_at__lte=SEEDED_AT).count()
    return study if seeded == size * FILLED_PER_CLIP else None


def seed_main(args: argparse.Namespace) -> dict:
    """A study of `size` clips, half its ratings filled; reused when the database holds one."""
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from annotator import services
    from annotator.models import Clip, Dataset, ProposalSet

    started = time.perf_counter()
    owner, pool = users_ensure(POOL)
    tokens = [Token.objects.get_or_create(user=rater)[0].key for rater in pool]
    study = _seeded_study(args.size)
    if study is not None:
        _undo(study_id=study.pk)
        return {"study": study.pk, "tokens": tokens, "reused": True, "seconds": time.perf_counter() - started}
    data = shared_data()
    taxonomy = taxonomy_ensure(data)
    with tempfile.TemporaryDirectory() as work:
        clip_list = Path(work) / f"vggsound-{args.size}.csv"
        vggsound_csv_write(test_csv=data / "test.csv", out=clip_list, rows=args.size)
        clips_import_timed(name=STUDY_NAME, path=clip_list)
    dataset = Dataset.objects.get(name=STUDY_NAME)
    Dataset.objects.filter(pk=dataset.pk).update(owner=owner)
    Clip.objects.filter(dataset=dataset).update(media_status=Clip.MediaStatus.OK)
    proposal_set = ProposalSet.objects.create(dataset=dataset, name="top2", source=ProposalSet.Source.FILE)
    proposals_fill(proposal_set_id=proposal_set.pk, dataset_id=dataset.pk, taxonomy_size=taxonomy.categories.count())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    dataset.refresh_from_db()
    study = services.study_create(
        name=STUDY_NAME,
        dataset=dataset,
        proposal_set=proposal_set,
        owner=owner,
        raters=pool,
        sample_size=args.size,
        seed=0,
        raters_per_clip=RATERS_PER_CLIP,
        decoys_per_clip=1,
    )
    ratings, judgments = ratings_fill(study_id=study.pk, per_clip=FILLED_PER_CLIP, submitted_at=SEEDED_AT)
    _vacuum(everything=True)
    return {
        "study": study.pk,
        "tokens": tokens,
        "reused": False,
        "ratings": ratings,
        "judgments": judgments,
        "seconds": time.perf_counter() - started,
    }


def _vacuum(*, everything: bool = False) -> None:
    """VACUUM ANALYZE the tables a run writes (the whole database after seeding): every run
    starts on tables without dead rows and with fresh statistics, whether autovacuum is on."""
    from django.db import connection

    from annotator.models import Judgment, Rating, Reservation, StudyClip

    names = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in (StudyClip, Rating, Judgment, Reservation))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)" if everything else f"VACUUM (ANALYZE) {names}")


def _undo(*, study_id: int) -> None:
    """Back to the seeded state: the runs' ratings, their answers and every reservation of
    the study deleted, the clips' counters set from the ratings left (no rating of a run
    adds or hides labels, the study has no gold clips and serves a fixed overlap)."""
    from django.db import connection

    from annotator.models import Judgment, Rating, Reservation, StudyClip

    ratings, judgments, clips, reservations = (
        connection.ops.quote_name(m._meta.db_table) for m in (Rating, Judgment, StudyClip, Reservation)
    )
    params = {"study": study_id, "at": SEEDED_AT}
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {reservations} v USING {clips} sc WHERE sc.id = v.study_clip_id AND sc.study_id = %(study)s",
            params,
        )
        cursor.execute(
            f"DELETE FROM {judgments} j USING {ratings} r WHERE r.id = j.rating_id AND j.study_id = %(study)s "
            "AND r.submitted_at > %(at)s",
            params,
        )
        cursor.execute(
            f"DELETE FROM {ratings} r USING {clips} sc WHERE sc.id = r.study_clip_id AND sc.study_id = %(study)s "
            "AND r.submitted_at > %(at)s",
            params,
        )
        cursor.execute(
            f"""
            UPDATE {clips} sc SET completed_count = counted.n, quiet_ratings = counted.n, settled = false
              FROM (SELECT s.id, COUNT(r.id) FILTER (WHERE NOT r.skipped) AS n
                      FROM {clips} s LEFT JOIN {ratings} r ON r.study_clip_id = s.id
                     WHERE s.study_id = %(study)s GROUP BY s.id) counted
             WHERE sc.id = counted.id
               AND (sc.completed_count <> counted.n OR sc.quiet_ratings <> counted.n OR sc.settled)
            """,
            params,
        )
    _vacuum()


def after_run_main(args: argparse.Namespace) -> dict:
    """The run's integrity check (its ratings only), then the run undone."""
    done = json.loads(Path(args.acked).read_text())
    stats = [SimpleNamespace(acknowledged=set(done["acknowledged"]), served_after_submit=done["served_after_submit"])]
    check = integrity(study_id=args.study, stats=stats, overlap=RATERS_PER_CLIP, since=SEEDED_AT)
    _undo(study_id=args.study)
    return check
