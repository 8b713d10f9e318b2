"""Clip media for raters and owners under /media/clips/: the file with ranges, the
spectrogram and the heatmap, each only for a clip the user may see."""

from annotator import services
from annotator.models import ClipEvidence, Study
from tests.annotator.clients import login
from tests.builders import all_present, reserve
from tests.factories import make_researcher


def test_rater_fetches_the_media_of_an_assigned_clip_with_ranges(client, media_world, media_root):
    login(client, media_world.raters[0])
    study_clip = reserve(media_world)
    data = (media_root / "ds" / study_clip.clip.media_path).read_bytes()

    whole = client.get(f"/media/clips/{study_clip.pk}/")
    first = client.get(f"/media/clips/{study_clip.pk}/", headers={"Range": "bytes=0-99"})
    tail = client.get(f"/media/clips/{study_clip.pk}/", headers={"Range": "bytes=-50"})
    rest = client.get(f"/media/clips/{study_clip.pk}/", headers={"Range": "bytes=100-"})
    beyond = client.get(f"/media/clips/{study_clip.pk}/", headers={"Range": f"bytes={len(data)}-"})

    assert whole.status_code == 200 and b"".join(whole.streaming_content) == data
    assert whole["Content-Type"] == "video/mp4"
    assert first.status_code == 206
    assert b"".join(first.streaming_content) == data[:100]
    assert first["Content-Range"] == f"bytes 0-99/{len(data)}"
    assert b"".join(tail.streaming_content) == data[-50:]
    assert b"".join(rest.streaming_content) == data[100:]
    assert rest["Content-Range"] == f"bytes 100-{len(data) - 1}/{len(data)}"
    assert beyond.status_code == 416
    assert beyond["Content-Range"] == f"bytes */{len(data)}"


def test_rater_cannot_fetch_media_of_a_clip_not_assigned_to_them(client, media_world):
    held_by_other = reserve(media_world, rater=media_world.raters[1])
    login(client, media_world.raters[0])

    for suffix in ("", "spectrogram.json", "heatmap.png"):
        assert client.get(f"/media/clips/{held_by_other.pk}/{suffix}").status_code == 404, suffix
    unserved = media_world.study.study_clips.exclude(pk=held_by_other.pk).first()
    assert client.get(f"/media/clips/{unserved.pk}/").status_code == 404


def test_rater_keeps_access_to_a_clip_they_rated(client, media_world):
    login(client, media_world.raters[0])
    study_clip = reserve(media_world)
    services.rating_submit(study_clip=study_clip, rater=media_world.raters[0], answers=all_present(study_clip))

    assert client.get(f"/media/clips/{study_clip.pk}/").status_code == 200


def test_study_owner_may_fetch_media_and_other_researchers_may_not(client, media_world):
    study_clip = media_world.study.study_clips.first()

    assert login(client, media_world.owner).get(f"/media/clips/{study_clip.pk}/").status_code == 200
    assert login(client, make_researcher()).get(f"/media/clips/{study_clip.pk}/").status_code == 404


def test_media_path_outside_the_dataset_root_is_refused(client, media_world, media_root):
    (media_root / "secret.mp4").write_bytes(b"private")
    login(client, media_world.raters[0])
    study_clip = reserve(media_world)
    type(study_clip.clip).objects.filter(pk=study_clip.clip_id).update(media_path="../secret.mp4")

    assert client.get(f"/media/clips/{study_clip.pk}/").status_code == 404
    assert client.get(f"/media/clips/{study_clip.pk}/spectrogram.json").status_code == 404


def test_spectrogram_of_an_assigned_clip_is_served_and_cached(client, media_world, settings):
    login(client, media_world.raters[0])
    study_clip = reserve(media_world)
    type(study_clip.clip).objects.filter(pk=study_clip.clip_id).update(media_path="c0.mp4")  # the one with sound

    response = client.get(f"/media/clips/{study_clip.pk}/spectrogram.json")

    assert response.status_code == 200
    document = response.json()
    assert document["has_audio"] is True and document["n_columns"] > 0 and document["onsets"]
    assert "source" not in document
    assert (settings.ARTIFACTS_DIR / "spectrograms" / f"{study_clip.clip_id}.json").exists()


def test_spectrogram_of_a_clip_without_sound_is_empty_not_an_error(client, media_world):
    login(client, media_world.raters[0])
    study_clip = reserve(media_world)
    type(study_clip.clip).objects.filter(pk=study_clip.clip_id).update(media_path="c1.mp4")

    document = client.get(f"/media/clips/{study_clip.pk}/spectrogram.json").json()

    assert document["has_audio"] is False and document["n_columns"] == 0


def test_unreadable_media_gives_a_422_spectrogram_error_that_names_no_file(client, media_world, media_root):
    (media_root / "ds" / "broken.mp4").write_bytes(b"garbage" * 20)
    login(client, media_world.raters[0])
    study_clip = reserve(media_world)
    type(study_clip.clip).objects.filter(pk=study_clip.clip_id).update(media_path="broken.mp4")

    response = client.get(f"/media/clips/{study_clip.pk}/spectrogram.json")

    assert response.status_code == 422
    assert response.json()["detail"] == "The sound picture could not be made for this clip."
    assert b"broken" not in response.content


def test_heatmap_is_served_only_when_the_study_shows_evidence(client, media_world, media_root):
    (media_root / "heat").mkdir()
    (media_root / "heat" / "a.png").write_bytes(b"\x89PNG fake")
    login(client, media_world.raters[0])
    study_clip = reserve(media_world)
    ClipEvidence.objects.create(proposal_set=media_world.proposal_set, clip=study_clip.clip, heatmap_path="heat/a.png")
    url = f"/media/clips/{study_clip.pk}/heatmap.png"

    hidden = client.get(url)
    Study.objects.filter(pk=media_world.study.pk).update(show_evidence=True)
    shown = client.get(url)
    ClipEvidence.objects.filter(clip=study_clip.clip).update(heatmap_path="../../etc/passwd")
    escaping = client.get(url)

    assert hidden.status_code == 404
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    assert b"".join(shown.streaming_content) == b"\x89PNG fake"
    assert escaping.status_code == 404
