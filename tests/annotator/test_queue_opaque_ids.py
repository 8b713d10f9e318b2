"""Raters never see the dataset's clip id (issue 9, point 4): for VGGSound it is the key into
the public label file. Their handle is the study clip id, which says nothing about the
dataset; no response a rater gets names the clip, its YouTube id or its media file."""

from annotator.models import Clip, ClipEvidence
from tests.annotator.clients import client_for, login
from tests.builders import build_world, make_study

SECRET_CLIP_ID = "vgg-secret-clip-id"
SECRET_YOUTUBE_ID = "yt-secret_youtube-id"


def _everything_sent(response) -> bytes:
    """Status line, every header and the body of a response, as one byte string."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    headers = "\n".join(f"{name}: {value}" for name, value in response.items())
    return headers.encode() + b"\n" + body


def test_no_rater_response_names_the_clip_in_its_dataset(client, media_world, media_root):
    (media_root / "heat").mkdir()
    (media_root / "heat" / "a.png").write_bytes(b"\x89PNG fake")
    media_world.study.show_evidence = True
    media_world.study.save()
    for index, clip in enumerate(media_world.clips):
        Clip.objects.filter(pk=clip.pk).update(clip_id=f"{SECRET_CLIP_ID}-{index}", youtube_id=SECRET_YOUTUBE_ID)
    rater = media_world.raters[0]
    api = client_for(rater)
    login(client, rater)

    next_response = api.post(f"/api/studies/{media_world.study.pk}/next/")
    study_clip_id = next_response.json()["study_clip_id"]
    clip = Clip.objects.get(study_clips__pk=study_clip_id)
    ClipEvidence.objects.create(proposal_set=media_world.proposal_set, clip=clip, heatmap_path="heat/a.png")
    responses = {
        "next": next_response,
        "detail": api.get(f"/api/study-clips/{study_clip_id}/"),
        "page": client.get(f"/rate/{media_world.study.pk}/"),
        "media": client.get(f"/media/clips/{study_clip_id}/"),
        "media range": client.get(f"/media/clips/{study_clip_id}/", headers={"Range": "bytes=0-99"}),
        "spectrogram": client.get(f"/media/clips/{study_clip_id}/spectrogram.json"),
        "heatmap": client.get(f"/media/clips/{study_clip_id}/heatmap.png"),
    }

    secrets = [clip.clip_id, SECRET_YOUTUBE_ID, clip.media_path, "media_path", '"clip_id"']
    assert {name: response.status_code for name, response in responses.items()} == {
        **dict.fromkeys(responses, 200),
        "media range": 206,
    }
    leaks = {
        name: [secret for secret in secrets if secret.encode() in _everything_sent(response)]
        for name, response in responses.items()
    }
    assert leaks == dict.fromkeys(responses, [])
    assert "Content-Disposition" not in responses["media"]


def test_the_owner_still_sees_the_dataset_clip_id_of_a_study_clip(media_world):
    study_clip = media_world.study.study_clips.select_related("clip").first()

    response = client_for(media_world.owner).get(f"/api/clips/{study_clip.clip_id}/")

    assert response.status_code == 200 and study_clip.clip.clip_id in response.text


def test_study_clip_ids_follow_the_shuffled_serving_order_not_the_dataset_order(db):
    """Study clips are inserted in their seeded shuffled order, so the id a rater sees tells
    neither a clip's place in the dataset nor its class."""
    world = build_world(clips_per_class=(10, 10, 10), raters=1)
    study = make_study(world, raters_per_clip=1, stratified=False)

    rows = list(study.study_clips.order_by("pk").values_list("position", "clip_id", "clip__clip_id"))
    dataset_order = [clip.pk for clip in sorted(world.clips, key=lambda clip: clip.pk)]

    assert [position for position, _, _ in rows] == list(range(len(rows)))  # pk order is serving order
    served = [clip_pk for _, clip_pk, _ in rows]
    assert sorted(served) == dataset_order
    assert served != dataset_order and served != dataset_order[::-1]
    assert [name for *_, name in rows] != sorted(name for *_, name in rows)
    # Not just a rotation or a few swaps: most neighbours in the study are not neighbours in the dataset.
    place = {clip_pk: index for index, clip_pk in enumerate(dataset_order)}
    adjacent = sum(abs(place[a] - place[b]) == 1 for a, b in zip(served, served[1:], strict=False))
    assert adjacent < len(served) // 3
