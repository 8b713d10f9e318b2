"""bench/rater_load.py's data: the dataset, studies and raters it seeds through the
services (Django, in the bench's own process), and the integrity check it reads back
from the database after each run."""

from __future__ import annotations

OVERLAP = 3
CATEGORIES = 60


def seed(*, studies: int, raters: int, clips: int) -> tuple[list[int], list[str]]:
    """One dataset, one proposal set, `studies` studies; returns study ids and rater tokens."""
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
    Dataset.objects.filter(pk=dataset.pk).update(owner=owner)  # studies may only use their owner's datasets
    pool = []
    for i in range(raters):
        rater = User.objects.create(username=f"bench-rater{i:02d}")
        rater.groups.add(rater_group)
        pool.append(rater)
    tokens = [Token.objects.create(user=rater).key for rater in pool]
    study_ids = [
        services.study_create(
            name=f"bench {index}",
            dataset=dataset,
            proposal_set=proposal_set,
            owner=owner,
            raters=pool,
            sample_size=clips,
            seed=index,
            raters_per_clip=OVERLAP,
            decoys_per_clip=1,
        ).pk
        for index in range(studies)
    ]
    return study_ids, tokens


def integrity(*, study_id: int, stats: list, overlap: int = OVERLAP, since=None) -> dict[str, object]:
    """The checks after a run, read from the database: ratings stored == submits acknowledged
    (`since`: only ratings submitted after it are the run's, in a study seeded with ratings),
    no clip over `overlap` (completed + reserved), no clip served twice to a rater, and every
    clip's completed_count equal to its real count. Aggregated in SQL: a 200k-clip study's
    1.2M ratings never travel to Python. `stats`: objects with `acknowledged` (rating ids)
    and `served_after_submit`."""
    from django.db import connection

    from annotator.models import Rating, Reservation, StudyClip

    ratings, clips, reservations = (
        connection.ops.quote_name(m._meta.db_table) for m in (Rating, StudyClip, Reservation)
    )
    # completed_count: the queue's stored count, which must match the real one (none on code without it)
    stored_count = "s.completed_count" if hasattr(StudyClip, "completed_count") else "COALESCE(done.n, 0)"
    acknowledged = set().union(*(s.acknowledged for s in stats))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.id FROM {ratings} r JOIN {clips} sc ON sc.id = r.study_clip_id WHERE sc.study_id = %s"
            + (" AND r.submitted_at > %s" if since is not None else ""),
            [study_id] + ([since] if since is not None else []),
        )
        stored_ids = {pk for (pk,) in cursor.fetchall()}
        cursor.execute(
            f"""
            WITH s AS (SELECT * FROM {clips} WHERE study_id = %(study)s),
            done AS (SELECT r.study_clip_id, COUNT(*) AS n FROM {ratings} r JOIN s ON s.id = r.study_clip_id
                      WHERE NOT r.skipped GROUP BY r.study_clip_id),
            held AS (SELECT v.study_clip_id, COUNT(*) AS n FROM {reservations} v JOIN s ON s.id = v.study_clip_id
                      GROUP BY v.study_clip_id)
            SELECT COALESCE(MAX(COALESCE(done.n, 0) + COALESCE(held.n, 0)), 0),
                   COUNT(*) FILTER (WHERE COALESCE(done.n, 0) <> {stored_count}),
                   COALESCE(SUM(held.n), 0)::bigint,
                   (SELECT COUNT(*) FROM (SELECT 1 FROM {ratings} r JOIN s ON s.id = r.study_clip_id
                                           GROUP BY r.study_clip_id, r.rater_id HAVING COUNT(*) > 1) AS pairs)
              FROM s LEFT JOIN done ON done.study_clip_id = s.id LEFT JOIN held ON held.study_clip_id = s.id
            """,
            {"study": study_id},
        )
        worst, miscounted, open_reservations, pairs = cursor.fetchone()
    served_twice = sum(s.served_after_submit for s in stats) + pairs
    ok = stored_ids == acknowledged and worst <= overlap and served_twice == 0 and miscounted == 0
    return {
        "stored": len(stored_ids),
        "acknowledged": len(acknowledged),
        "max_load": worst,
        "served_twice": served_twice,
        "miscounted": miscounted,
        "open_reservations": open_reservations,
        "ok": ok,
    }
