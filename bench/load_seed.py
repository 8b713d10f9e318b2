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


def integrity(*, study_id: int, stats: list) -> dict[str, object]:
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
    # completed_count: the queue's stored count, which must match the real one (0 on code without it)
    miscounted = sum(row.completed != getattr(row, "completed_count", row.completed) for row in loads)
    pairs = stored.values("study_clip_id", "rater_id").annotate(n=Count("pk")).filter(n__gt=1).count()
    served_twice = sum(s.served_after_submit for s in stats) + pairs
    ok = stored_ids == acknowledged and worst <= OVERLAP and served_twice == 0 and miscounted == 0
    return {
        "stored": len(stored_ids),
        "acknowledged": len(acknowledged),
        "max_load": worst,
        "served_twice": served_twice,
        "miscounted": miscounted,
        "open_reservations": Reservation.objects.filter(study_clip__study_id=study_id).count(),
        "ok": ok,
    }
