"""annotator.selectors: what raters may see, progress for raters and researchers, judgment rows."""

import json
import random
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from annotator import roles, selectors, services
from annotator.models import ClipEvidence, Proposal, Rating, Reservation, StudyClipLabel
from config.errors import NotFoundError
from tests.builders import all_present, build_world, make_study, rate
from tests.factories import UserFactory

PAYLOAD_KEYS = {
    "study_clip_id",
    "study_id",
    "instructions",
    "media_url",
    "spectrogram_url",
    "duration_seconds",
    "has_audio",
    "labels",
    "ask_modality",
    "evidence",
}


def test_payload_shows_the_labels_in_order_and_nothing_that_gives_answers_away(small_world):
    study = make_study(small_world, raters_per_clip=2, decoys_per_clip=2, instructions="Listen.")
    first, second, _ = small_world.raters
    study_clip = services.clip_next_for_rater(study=study, rater=first)
    rate(study_clip, first)
    services.clip_next_for_rater(study=study, rater=second)

    payload = selectors.study_clip_payload(study_clip=study_clip)

    assert set(payload) == PAYLOAD_KEYS
    assert payload["media_url"] == f"/media/clips/{study_clip.pk}/"
    assert payload["spectrogram_url"] == f"/media/clips/{study_clip.pk}/spectrogram.json"
    assert payload["evidence"] is None
    assert payload["instructions"] == "Listen."
    expected = list(
        StudyClipLabel.objects.filter(study_clip=study_clip)
        .order_by("position")
        .values_list("category_id", "category__name", "position")
    )
    assert [(label["category_id"], label["name"], label["position"]) for label in payload["labels"]] == expected
    assert all(set(label) == {"category_id", "name", "position"} for label in payload["labels"])
    text = json.dumps(payload)
    for forbidden in ("decoy", "is_gold", "present", "absent", "original", "answer"):
        assert forbidden not in text


def evidence_for_first_clip(world, *, decoys_per_clip: int):
    study = make_study(world, show_evidence=True, decoys_per_clip=decoys_per_clip)
    study_clip = services.clip_next_for_rater(study=study, rater=world.raters[0])
    ClipEvidence.objects.create(
        proposal_set=world.proposal_set,
        clip=study_clip.clip,
        event_type="instant",
        instant_seconds=[1.5],
        onset_seconds=[0.5, 2.0],
        heatmap_path="heatmaps/x.png",
    )
    Proposal.objects.filter(clip=study_clip.clip).update(heads=["audio", "onset"])
    return study_clip, selectors.study_clip_payload(study_clip=study_clip)


def test_payload_carries_evidence_and_each_labels_heads_in_a_study_without_decoys(small_world):
    study_clip, payload = evidence_for_first_clip(small_world, decoys_per_clip=0)

    assert payload["evidence"] == {
        "label_heads": True,
        "event_type": "instant",
        "instant_seconds": [1.5],
        "onset_seconds": [0.5, 2.0],
        "heatmap_url": f"/media/clips/{study_clip.pk}/heatmap.png",
    }
    assert payload["labels"]
    assert all(label["heads"] == ["audio", "onset"] for label in payload["labels"])


def test_payload_evidence_hides_the_heads_when_decoys_are_shown(small_world):
    """No head proposes a decoy: showing the heads would tell raters which labels are decoys."""
    study_clip, payload = evidence_for_first_clip(small_world, decoys_per_clip=1)

    assert study_clip.shown_labels.filter(is_decoy=True).exists()
    assert payload["evidence"]["label_heads"] is False
    assert payload["evidence"]["instant_seconds"] == [1.5]
    assert all(set(label) == {"category_id", "name", "position"} for label in payload["labels"])
    assert "heads" not in json.dumps(payload["labels"])


def test_payload_evidence_without_a_heatmap_has_no_heatmap_url(small_world):
    study = make_study(small_world, show_evidence=True)
    study_clip = services.clip_next_for_rater(study=study, rater=small_world.raters[0])

    assert selectors.study_clip_payload(study_clip=study_clip)["evidence"]["heatmap_url"] is None


def test_study_clip_for_rater_hides_clips_held_by_others(small_world):
    study = make_study(small_world)
    holder, other, _ = small_world.raters
    study_clip = services.clip_next_for_rater(study=study, rater=holder)

    assert selectors.study_clip_for_rater(rater=holder, study_clip_id=study_clip.pk) == study_clip
    assert selectors.study_clip_for_rater(rater=small_world.owner, study_clip_id=study_clip.pk) == study_clip
    with pytest.raises(NotFoundError):
        selectors.study_clip_for_rater(rater=other, study_clip_id=study_clip.pk)
    with pytest.raises(NotFoundError):
        selectors.study_clip_for_rater(rater=holder, study_clip_id=10**9)


def test_study_clip_for_rater_keeps_a_rated_clip_visible_to_its_rater(small_world):
    study = make_study(small_world)
    rater = small_world.raters[0]
    study_clip = services.clip_next_for_rater(study=study, rater=rater)
    rate(study_clip, rater)

    assert selectors.study_clip_for_rater(rater=rater, study_clip_id=study_clip.pk) == study_clip


def test_rater_studies_lists_active_studies_the_rater_is_in(small_world):
    mine = make_study(small_world, name="mine")
    make_study(small_world, name="not mine", raters=small_world.raters[1:])
    closed = make_study(small_world, name="closed")
    services.study_close(study=closed)

    assert list(selectors.rater_studies(rater=small_world.raters[0])) == [mine]
    with pytest.raises(NotFoundError):
        selectors.study_for_rater(rater=small_world.raters[0], study_id=closed.pk)


def test_studies_for_researcher_shows_own_studies_and_all_to_admins(small_world):
    own = make_study(small_world, name="own")
    other_owner = build_world().owner
    small_world.dataset.shared_with.add(other_owner)  # a study needs a dataset its owner may use
    other = make_study(small_world, name="other", owner=other_owner)
    admin = UserFactory(role="admin")

    assert list(selectors.studies_for_researcher(user=small_world.owner)) == [own]
    assert set(selectors.studies_for_researcher(user=admin)) == {own, other}
    with pytest.raises(NotFoundError):
        selectors.study_for_researcher(user=small_world.owner, study_id=other.pk)


def test_rater_progress_counts_done_and_available(small_world):
    study = make_study(small_world, raters_per_clip=1)
    first, second, _ = small_world.raters
    rate(services.clip_next_for_rater(study=study, rater=first), first)
    skipped = services.clip_next_for_rater(study=study, rater=first)
    services.rating_submit(study_clip=skipped, rater=first, answers={}, skipped=True)
    held = services.clip_next_for_rater(study=study, rater=second)
    services.clip_next_for_rater(study=study, rater=small_world.raters[2])  # a third clip is taken

    progress = selectors.rater_progress(study=study, rater=first)

    assert held.pk == skipped.pk  # skipping leaves the clip to others
    assert progress == {"done": 2, "skipped": 1, "available": 1, "total": 4}
    # the rater's own reservation counts as available to them
    assert selectors.rater_progress(study=study, rater=second) == {"done": 0, "skipped": 0, "available": 2, "total": 4}


def test_study_progress_has_rows_per_rater_and_per_clip(small_world):
    study = make_study(small_world, raters_per_clip=2)
    first, second, third = small_world.raters
    clip = services.clip_next_for_rater(study=study, rater=first)
    rate(clip, first, seconds_spent=4)
    rate(services.clip_next_for_rater(study=study, rater=first), first, seconds_spent=10)
    rate(services.clip_next_for_rater(study=study, rater=first), first, seconds_spent=6)
    held = services.clip_next_for_rater(study=study, rater=second)
    services.rating_submit(
        study_clip=services.clip_next_for_rater(study=study, rater=third), rater=third, answers={}, skipped=True
    )

    progress = selectors.study_progress(study=study)

    rows = {row["username"]: row for row in progress["raters"]}
    assert rows[first.username] == {
        "rater_id": first.pk,
        "username": first.username,
        "done": 3,
        "skipped": 0,
        "reserved": 0,
        "median_seconds": 6,
    }
    assert rows[second.username]["reserved"] == 1
    assert rows[third.username]["skipped"] == 1 and rows[third.username]["median_seconds"] is None
    clip_rows = {row["study_clip_id"]: row for row in progress["clips"]}
    assert clip_rows[clip.pk]["completed"] == 1
    assert clip_rows[held.pk]["reserved"] == 1
    assert sum(row["needed"] for row in progress["clips"]) == 4 * 2 - 3
    totals = progress["totals"]
    assert totals["ratings_completed"] == 3 and totals["ratings_needed"] == 8 and totals["ratings_skipped"] == 1
    assert totals["fraction_complete"] == pytest.approx(3 / 8)


def test_study_judgments_are_flat_rows_with_decoy_and_gold_flags(small_world):
    study = make_study(small_world, raters_per_clip=1, decoys_per_clip=1)
    rater = small_world.raters[0]
    study_clip = services.clip_next_for_rater(study=study, rater=rater)
    shown = set(study_clip.shown_labels.values_list("category_id", flat=True))
    added = next(c for c in small_world.categories if c.pk not in shown)
    services.rating_submit(
        study_clip=study_clip,
        rater=rater,
        answers=all_present(study_clip),
        added_category_ids=[added.pk],
        seconds_spent=2,
    )
    skipped = services.clip_next_for_rater(study=study, rater=rater)
    services.rating_submit(study_clip=skipped, rater=rater, answers={}, skipped=True)

    rows = selectors.study_judgments(study=study)

    judged = [row for row in rows if not row["skipped"]]
    assert len(judged) == len(shown) + 1
    decoy = study_clip.shown_labels.get(is_decoy=True).category_id
    assert {row["category_id"] for row in judged if row["is_decoy"]} == {decoy}
    assert [row["category_id"] for row in judged if row["added_by_rater"]] == [added.pk]
    row = judged[0]
    assert row["study_clip_id"] == study_clip.pk and row["clip_id"] == study_clip.clip_id
    assert row["clip_name"] == study_clip.clip.clip_id and row["rater_id"] == rater.pk
    assert row["seconds_spent"] == 2 and row["is_gold"] is False
    skipped_rows = [row for row in rows if row["skipped"]]
    assert len(skipped_rows) == 1 and skipped_rows[0]["category_id"] is None
    assert skipped_rows[0]["study_clip_id"] == skipped.pk


def test_clip_list_filters_by_dataset_split_status_and_label(small_world):
    clips = small_world.clips
    clips[0].split = "train"
    clips[0].save()

    owner, dataset_id = small_world.owner, small_world.dataset.pk
    assert selectors.clip_list(user=owner, dataset_id=dataset_id).count() == 4
    assert list(selectors.clip_list(user=owner, split="train")) == [clips[0]]
    assert selectors.clip_list(user=owner, dataset_id=dataset_id, media_status="missing").count() == 0
    assert selectors.clip_list(user=owner, dataset_id=dataset_id, label="CAT1").count() == 2
    assert selectors.clip_list(user=owner, dataset_id=dataset_id, label=str(small_world.categories[0].pk)).count() == 2


def test_rater_progress_available_is_the_number_of_clips_the_queue_could_serve(db):
    world = build_world(clips_per_class=(3, 3, 3), raters=4)
    study = make_study(world, raters_per_clip=2)
    first, second, third, fourth = world.raters
    for rater in (first, second, third):
        rate(services.clip_next_for_rater(study=study, rater=rater), rater)
    services.rating_submit(
        study_clip=services.clip_next_for_rater(study=study, rater=first), rater=first, answers={}, skipped=True
    )
    services.clip_next_for_rater(study=study, rater=second)  # held
    services.clip_next_for_rater(study=study, rater=third)  # held
    now = timezone.now()

    for rater in world.raters:
        open_clips = selectors.study_clips_open_for_rater(study=study, rater=rater, now=now, limit=10**6)
        assert selectors.rater_progress(study=study, rater=rater, now=now)["available"] == len(open_clips)
    assert selectors.rater_progress(study=study, rater=fourth, now=now)["available"] < 9


def test_user_for_token_reads_the_user_and_roles_in_one_statement(small_world, django_assert_num_queries):
    rater = small_world.raters[0]
    key = Token.objects.create(user=rater).key

    with django_assert_num_queries(1):
        user, token = selectors.user_for_token(key=key)
        is_rater, is_researcher = roles.user_is_rater(user), roles.user_is_researcher(user)

    assert (user.pk, token.key, token.user_id) == (rater.pk, key, rater.pk)
    assert is_rater and not is_researcher
    assert user.is_active is True and user.date_joined == rater.date_joined
    assert selectors.user_for_token(key="no-such-token") is None


def test_open_clips_widen_their_window_past_clips_the_rater_already_rated(db):
    """The candidates are read from a window of the serving order; a rater whose own ratings
    fill that window still gets the clips after it."""
    world = build_world(clips_per_class=(45,), raters=2)
    study = make_study(world, raters_per_clip=3)
    rater = world.raters[0]
    for _ in range(40):  # 40 clips with one completed rating each, all by this rater, lead the order
        rate(services.clip_next_for_rater(study=study, rater=rater), rater)

    served = services.clip_next_for_rater(study=study, rater=rater)

    rated = set(Rating.objects.filter(rater=rater).values_list("study_clip_id", flat=True))
    assert served is not None and served.pk not in rated
    assert served.position == min(study.study_clips.exclude(pk__in=rated).values_list("position", flat=True))


def test_open_clips_match_a_brute_force_ranking(db):
    """Seeded random activity (ratings, skips, live and lapsed reservations), then the
    queue's candidates compared with the order computed in Python from every row."""
    rng = random.Random(5)
    world = build_world(clips_per_class=(30,), raters=6)
    study = make_study(world, raters_per_clip=3)
    clips = list(study.study_clips.all())
    now = timezone.now()
    for rater in world.raters:
        for study_clip in rng.sample(clips, 12):
            if Rating.objects.filter(study_clip=study_clip, skipped=False).count() < 3:
                skipped = rng.random() < 0.2
                Rating.objects.create(study_clip=study_clip, rater=rater, skipped=skipped)
        held = rng.choice(clips)
        if not Rating.objects.filter(study_clip=held, rater=rater).exists():
            minutes = rng.choice([-5, 5])  # lapsed or live
            Reservation.objects.create(study_clip=held, rater=rater, expires_at=now + timedelta(minutes=minutes))
    services.study_clip_counts_refresh(study=study)

    for rater in world.raters:
        expected = []
        for study_clip in clips:
            completed = Rating.objects.filter(study_clip=study_clip, skipped=False).count()
            held = Reservation.objects.filter(study_clip=study_clip, expires_at__gt=now).exclude(rater=rater).count()
            mine = Rating.objects.filter(study_clip=study_clip, rater=rater).exists()
            if not mine and completed + held < 3:
                expected.append((-(completed + held), -completed, study_clip.position, study_clip.pk))
        expected = [row[-1] for row in sorted(expected)]
        for limit in (1, 5, 100):
            got = selectors.study_clips_open_for_rater(study=study, rater=rater, now=now, limit=limit)
            assert got == expected[:limit], (rater.pk, limit)
