"""A lapsed reservation grants nothing (issue 9, point 2): no clip, media or answer after
`expires_at`, one 409 for a late submit whether or not its row was purged, and lapsed rows
deleted by the rater's next `next` and by the periodic task."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from annotator import services, tasks
from annotator.models import ClipEvidence, Rating, Reservation
from config.celery import app as celery_app
from tests.annotator.clients import client_for, login
from tests.builders import all_present, build_world, make_study

LAPSED = "Your reservation for this clip lapsed; ask for the next clip."


def _reserve_long_ago(world, rater):
    """A reservation of `rater` that lapsed a minute ago (the study's timeout is 600 s)."""
    long_ago = timezone.now() - timedelta(seconds=world.study.reservation_timeout_seconds + 60)
    return services.clip_next_for_rater(study=world.study, rater=rater, now=long_ago)


def test_a_lapsed_reservation_opens_neither_the_clip_nor_its_media(client, media_world, media_root):
    (media_root / "heat").mkdir()
    (media_root / "heat" / "a.png").write_bytes(b"\x89PNG fake")
    media_world.study.show_evidence = True
    media_world.study.save()
    rater = media_world.raters[0]
    study_clip = _reserve_long_ago(media_world, rater)
    ClipEvidence.objects.create(proposal_set=media_world.proposal_set, clip=study_clip.clip, heatmap_path="heat/a.png")
    login(client, rater)
    urls = [
        f"/api/study-clips/{study_clip.pk}/",
        f"/media/clips/{study_clip.pk}/",
        f"/media/clips/{study_clip.pk}/spectrogram.json",
        f"/media/clips/{study_clip.pk}/heatmap.png",
    ]

    lapsed = {url: client.get(url).status_code for url in urls}
    Reservation.objects.filter(rater=rater).update(expires_at=timezone.now() + timedelta(minutes=5))
    live = {url: client.get(url).status_code for url in urls}

    assert lapsed == dict.fromkeys(urls, 404)
    assert live == dict.fromkeys(urls, 200)


@pytest.mark.parametrize("purged", [False, True], ids=["row-kept", "row-purged"])
@pytest.mark.parametrize("skipped", [False, True], ids=["answered", "skipped"])
def test_a_late_submit_is_one_409_stores_nothing_and_grants_nothing(media_world, purged, skipped):
    rater = media_world.raters[0]
    study_clip = _reserve_long_ago(media_world, rater)
    if purged:
        assert services.reservations_purge() == 1
    client = client_for(rater)
    body = {"skipped": True} if skipped else {"answers": {str(k): v for k, v in all_present(study_clip).items()}}

    response = client.post(f"/api/study-clips/{study_clip.pk}/submit/", body, format="json")

    assert response.status_code == 409
    assert response.json() == {"message": LAPSED, "extra": {}}
    assert not Rating.objects.exists()
    assert client.get(f"/api/study-clips/{study_clip.pk}/").status_code == 404


def test_a_skipped_clip_grants_no_access_but_its_resubmit_returns_the_stored_rating(client, media_world):
    rater = media_world.raters[0]
    api = client_for(rater)
    login(client, rater)
    payload = api.post(f"/api/studies/{media_world.study.pk}/next/").json()
    url = f"/api/study-clips/{payload['study_clip_id']}/"

    first = api.post(f"{url}submit/", {"skipped": True}, format="json")
    again = api.post(f"{url}submit/", {"skipped": True}, format="json")

    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and first.json()["skipped"] is True
    assert api.get(url).status_code == 404
    assert client.get(f"/media/clips/{payload['study_clip_id']}/").status_code == 404


def test_a_rated_clip_stays_open_to_its_rater_and_resubmitting_returns_the_rating(media_world):
    rater = media_world.raters[0]
    client = client_for(rater)
    payload = client.post(f"/api/studies/{media_world.study.pk}/next/").json()
    answers = {str(label["category_id"]): "present" for label in payload["labels"]}
    url = f"/api/study-clips/{payload['study_clip_id']}/"

    first = client.post(f"{url}submit/", {"answers": answers}, format="json")
    Reservation.objects.all().delete()  # nothing held any more: the rating alone grants access
    again = client.post(f"{url}submit/", {"answers": answers}, format="json")

    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert client.get(url).status_code == 200


def test_next_deletes_the_raters_own_lapsed_reservations(db):
    world = build_world(clips_per_class=(3,), raters=2)
    world.study = make_study(world, raters_per_clip=1)
    first, second = world.raters
    lapsed_first, lapsed_second = _reserve_long_ago(world, first), _reserve_long_ago(world, second)

    services.clip_next_for_rater(study=world.study, rater=first)

    assert not Reservation.objects.filter(rater=first, expires_at__lte=timezone.now()).exists()
    assert Reservation.objects.filter(rater=second, study_clip=lapsed_second).exists()  # the task's job
    assert lapsed_first is not None


def test_reservations_purge_deletes_every_lapsed_row_in_batches_and_keeps_live_ones(db):
    world = build_world(clips_per_class=(4, 3), raters=2)
    study = make_study(world, raters_per_clip=2)
    now = timezone.now()
    study_clips = list(study.study_clips.order_by("position"))
    for rater in world.raters:
        for study_clip in study_clips[:5]:
            Reservation.objects.create(study_clip=study_clip, rater=rater, expires_at=now - timedelta(seconds=1))
        Reservation.objects.create(study_clip=study_clips[6], rater=rater, expires_at=now + timedelta(minutes=5))

    deleted = services.reservations_purge(now=now, batch_size=3)

    assert deleted == 10
    assert list(Reservation.objects.values_list("study_clip_id", flat=True)) == [study_clips[6].pk] * 2


def test_the_purge_task_is_registered_scheduled_and_returns_its_count(db):
    world = build_world(clips_per_class=(1,), raters=1)
    world.study = make_study(world, raters_per_clip=1)
    _reserve_long_ago(world, world.raters[0])
    entry = settings.CELERY_BEAT_SCHEDULE["annotator.reservations_purge"]

    assert entry["task"] == "annotator.reservations_purge" and entry["task"] in celery_app.tasks
    assert entry["schedule"] <= 600
    assert tasks.reservations_purge() == 1
    assert not Reservation.objects.exists()
