"""Pages of annotator: roles, the rater page and its endpoints, clip media, researcher pages."""

import json
from types import SimpleNamespace

import pytest
from django.urls import reverse

from annotator import services
from annotator.models import ClipEvidence, ClipLabel, Judgment, Rating, Reservation, Study
from tests.annotator.test_media_files import write_mp4
from tests.factories import (
    CategoryFactory,
    ClipFactory,
    DatasetFactory,
    ProposalFactory,
    ProposalSetFactory,
    TaxonomyFactory,
    UserFactory,
    make_rater,
    make_researcher,
)

NAMES = ["dog barking", "cat meowing", "car engine", "rain on roof", "speech", "dog growling"]


@pytest.fixture
def world(db, media_root, settings, tmp_path):
    """A dataset of three generated clips (the first with sound), proposals, a study."""
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    taxonomy = TaxonomyFactory()
    categories = [CategoryFactory(taxonomy=taxonomy, name=name, index=i) for i, name in enumerate(NAMES)]
    dataset = DatasetFactory(taxonomy=taxonomy, media_root="ds")
    proposal_set = ProposalSetFactory(dataset=dataset)
    clips = []
    for i in range(3):
        write_mp4(media_root / "ds" / f"c{i}.mp4", seconds=1.0, audio=i == 0, clicks=(0.4,))
        clip = ClipFactory(dataset=dataset, media_path=f"c{i}.mp4", media_status="ok")
        ClipLabel.objects.create(clip=clip, category=categories[i])
        ProposalFactory(proposal_set=proposal_set, clip=clip, category=categories[0], heads=["audio", "onset"])
        ProposalFactory(proposal_set=proposal_set, clip=clip, category=categories[1], heads=["visual"])
        clips.append(clip)
    researcher = make_researcher()
    rater, other_rater = make_rater(), make_rater()
    study = services.study_create(
        name="Barks",
        dataset=dataset,
        proposal_set=proposal_set,
        owner=researcher,
        raters=[rater, other_rater],
        sample_size=3,
        raters_per_clip=2,
        decoys_per_clip=1,
        instructions="Listen first.",
    )
    return SimpleNamespace(
        taxonomy=taxonomy,
        categories=categories,
        dataset=dataset,
        proposal_set=proposal_set,
        clips=clips,
        researcher=researcher,
        rater=rater,
        other_rater=other_rater,
        study=study,
    )


def login(client, user):
    client.force_login(user)
    return client


def reserve(world, rater=None):
    return services.clip_next_for_rater(study=world.study, rater=rater or world.rater)


def page_config(html):
    return json.loads(html.split('id="rater-config" type="application/json">')[1].split("</script>")[0])


def answers_for(study_clip, answer="present"):
    return {str(label.category_id): answer for label in study_clip.shown_labels.all()}


# ---------------------------------------------------------------- roles


@pytest.mark.parametrize(
    "url",
    [
        "/rate/",
        "/rate/1/",
        "/studies/",
        "/studies/new/",
        "/studies/1/",
        "/media/clips/1/",
        "/media/clips/1/spectrogram.json",
    ],
)
def test_anonymous_user_is_sent_to_the_login_page(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_rater_cannot_open_researcher_pages(client, world):
    login(client, world.rater)

    for url in ("/studies/", "/studies/new/", f"/studies/{world.study.pk}/"):
        assert client.get(url).status_code == 403, url
    assert client.post("/studies/new/", {"name": "x"}).status_code == 403


def test_researcher_without_rater_role_cannot_open_rater_pages(client, world):
    login(client, world.researcher)

    assert client.get("/rate/").status_code == 403
    assert client.get(f"/rate/{world.study.pk}/").status_code == 403


def test_rater_outside_a_study_gets_404_for_its_pages(client, world):
    login(client, make_rater())

    assert client.get(f"/rate/{world.study.pk}/").status_code == 404
    assert client.get(f"/rate/{world.study.pk}/categories", {"q": "dog"}).status_code == 404
    assert client.post(f"/rate/{world.study.pk}/submit", {"study_clip_id": 1}).status_code == 404


# ---------------------------------------------------------------- rater pages


def test_rater_home_lists_the_rater_studies_with_progress(client, world):
    login(client, world.rater)

    response = client.get("/rate/")

    assert response.status_code == 200
    assert "Barks" in response.text
    assert "0 of 3 done" in response.text
    assert reverse("annotator:rate", args=[world.study.pk]) in response.text


def test_rate_page_shows_the_reserved_clip_labels_without_decoy_flags(client, world):
    login(client, world.rater)

    response = client.get(f"/rate/{world.study.pk}/")

    assert response.status_code == 200
    reservation = Reservation.objects.get(rater=world.rater)
    config = page_config(response.text)
    shown = list(reservation.study_clip.shown_labels.order_by("position").values_list("category_id", flat=True))
    assert [label["category_id"] for label in config["labels"]] == shown
    assert config["study_clip_id"] == reservation.study_clip_id
    assert config["media_url"] == f"/media/clips/{reservation.study_clip_id}/"
    assert "is_decoy" not in response.text and "decoy" not in json.dumps(config)
    assert "0 of 3 done" in response.text
    assert "Listen first." in response.text


def test_rate_page_serves_the_same_reservation_until_submitted(client, world):
    login(client, world.rater)

    client.get(f"/rate/{world.study.pk}/")
    client.get(f"/rate/{world.study.pk}/")

    assert Reservation.objects.filter(rater=world.rater).count() == 1


def test_rate_page_shows_evidence_only_when_the_study_shows_it(client, world):
    login(client, world.rater)
    page = client.get(f"/rate/{world.study.pk}/").text
    assert page_config(page)["evidence"] is None
    assert "proposed by the" not in page

    Study.objects.filter(pk=world.study.pk).update(show_evidence=True)
    study_clip = Reservation.objects.get(rater=world.rater).study_clip
    ClipEvidence.objects.create(
        proposal_set=world.proposal_set, clip=study_clip.clip, instant_seconds=[0.3], heatmap_path="heat/a.png"
    )
    page = client.get(f"/rate/{world.study.pk}/").text

    assert "proposed by the" not in page  # the study shows a decoy, which no head proposed
    assert f"/media/clips/{study_clip.pk}/heatmap.png" in page
    Study.objects.filter(pk=world.study.pk).update(decoys_per_clip=0)
    page = client.get(f"/rate/{world.study.pk}/").text

    assert "proposed by the audio, onset heads" in page
    assert f"/media/clips/{study_clip.pk}/heatmap.png" in page
    assert page_config(page)["evidence"]["instant_seconds"] == [0.3]


def test_submit_stores_answers_added_labels_and_time(client, world):
    login(client, world.rater)
    study_clip = reserve(world)
    shown = list(study_clip.shown_labels.values_list("category_id", flat=True))
    answers = dict(zip(map(str, shown), ["present", "absent", "unsure"], strict=False))
    added = next(c for c in world.categories if c.pk not in shown)

    response = client.post(
        f"/rate/{world.study.pk}/submit",
        {
            "study_clip_id": study_clip.pk,
            "answers": json.dumps(answers),
            "added": str(added.pk),
            "seconds_spent": "7.5",
            "skipped": "false",
        },
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"next": f"/rate/{world.study.pk}/"}
    rating = Rating.objects.get(rater=world.rater, study_clip=study_clip)
    assert rating.seconds_spent == 7.5 and not rating.skipped
    stored = {(j.category_id, j.answer, j.added_by_rater) for j in rating.judgments.all()}
    assert stored == {(int(k), v, False) for k, v in answers.items()} | {(added.pk, "present", True)}
    assert not Reservation.objects.filter(rater=world.rater).exists()


def test_skip_stores_a_skipped_rating_and_moves_on(client, world):
    login(client, world.rater)
    study_clip = reserve(world)

    response = client.post(
        f"/rate/{world.study.pk}/submit", {"study_clip_id": study_clip.pk, "skipped": "true", "seconds_spent": "1"}
    )

    assert response.status_code == 200
    assert Rating.objects.get(rater=world.rater).skipped is True
    page = client.get(f"/rate/{world.study.pk}/")
    assert Reservation.objects.get(rater=world.rater).study_clip_id != study_clip.pk
    assert "1 of 3 done" in page.text


def test_submit_with_an_unanswered_label_is_refused_and_stores_nothing(client, world):
    login(client, world.rater)
    study_clip = reserve(world)
    first = study_clip.shown_labels.first()

    response = client.post(
        f"/rate/{world.study.pk}/submit",
        {"study_clip_id": study_clip.pk, "answers": json.dumps({str(first.category_id): "present"})},
    )

    assert response.status_code == 400
    assert "Answer every shown label" in response.json()["error"]
    assert not Rating.objects.exists()
    assert Reservation.objects.filter(rater=world.rater, study_clip=study_clip).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("answers", "not json"), ("answers", '{"1": "maybe"}'), ("added", "1,x"), ("seconds_spent", "-3")],
)
def test_malformed_submit_is_a_400_with_a_message(client, world, field, value):
    login(client, world.rater)
    study_clip = reserve(world)
    data = {"study_clip_id": study_clip.pk, "answers": json.dumps(answers_for(study_clip)), field: value}

    response = client.post(f"/rate/{world.study.pk}/submit", data)

    assert response.status_code == 400
    assert field in response.json()["error"]
    assert not Rating.objects.exists()


def test_submit_for_a_clip_the_rater_does_not_hold_is_404(client, world):
    study_clip = reserve(world, world.other_rater)
    login(client, world.rater)

    response = client.post(
        f"/rate/{world.study.pk}/submit",
        {"study_clip_id": study_clip.pk, "answers": json.dumps(answers_for(study_clip))},
    )

    assert response.status_code == 404
    assert not Rating.objects.exists()


def test_submit_needs_the_csrf_token(world):
    from django.test import Client

    client = login(Client(enforce_csrf_checks=True), world.rater)
    study_clip = reserve(world)

    response = client.post(f"/rate/{world.study.pk}/submit", {"study_clip_id": study_clip.pk})

    assert response.status_code == 403
    assert not Rating.objects.exists()


def test_rater_with_nothing_left_sees_a_done_message(client, world):
    login(client, world.rater)
    for _ in range(3):
        study_clip = reserve(world)
        services.rating_submit(study_clip=study_clip, rater=world.rater, answers=answers_for(study_clip))

    response = client.get(f"/rate/{world.study.pk}/")

    assert response.status_code == 200
    assert "Nothing left to rate" in response.text
    assert "3 of 3 done" in response.text


def test_categories_endpoint_searches_the_study_taxonomy(client, world):
    CategoryFactory(name="dog elsewhere", index=99)  # another taxonomy
    login(client, world.rater)

    response = client.get(f"/rate/{world.study.pk}/categories", {"q": "dog"})

    assert response.status_code == 200
    names = {row["name"] for row in response.json()["results"]}
    assert names == {"dog barking", "dog growling"}
    assert client.get(f"/rate/{world.study.pk}/categories", {"q": ""}).json() == {"results": []}


# ---------------------------------------------------------------- clip media


def test_rater_fetches_the_media_of_an_assigned_clip_with_ranges(client, world, media_root):
    login(client, world.rater)
    study_clip = reserve(world)
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


def test_rater_cannot_fetch_media_of_a_clip_not_assigned_to_them(client, world):
    held_by_other = reserve(world, world.other_rater)
    login(client, world.rater)

    for suffix in ("", "spectrogram.json", "heatmap.png"):
        assert client.get(f"/media/clips/{held_by_other.pk}/{suffix}").status_code == 404, suffix
    unserved = world.study.study_clips.exclude(pk=held_by_other.pk).first()
    assert client.get(f"/media/clips/{unserved.pk}/").status_code == 404


def test_rater_keeps_access_to_a_clip_they_rated(client, world):
    login(client, world.rater)
    study_clip = reserve(world)
    services.rating_submit(study_clip=study_clip, rater=world.rater, answers=answers_for(study_clip))

    assert client.get(f"/media/clips/{study_clip.pk}/").status_code == 200


def test_study_owner_may_fetch_media_and_other_researchers_may_not(client, world):
    study_clip = world.study.study_clips.first()

    assert login(client, world.researcher).get(f"/media/clips/{study_clip.pk}/").status_code == 200
    assert login(client, make_researcher()).get(f"/media/clips/{study_clip.pk}/").status_code == 404


def test_media_path_outside_the_dataset_root_is_refused(client, world, media_root):
    (media_root / "secret.mp4").write_bytes(b"private")
    login(client, world.rater)
    study_clip = reserve(world)
    type(study_clip.clip).objects.filter(pk=study_clip.clip_id).update(media_path="../secret.mp4")

    assert client.get(f"/media/clips/{study_clip.pk}/").status_code == 404
    assert client.get(f"/media/clips/{study_clip.pk}/spectrogram.json").status_code == 404


def test_spectrogram_of_an_assigned_clip_is_served_and_cached(client, world, settings):
    login(client, world.rater)
    study_clip = reserve(world)
    type(study_clip.clip).objects.filter(pk=study_clip.clip_id).update(media_path="c0.mp4")  # the one with sound

    response = client.get(f"/media/clips/{study_clip.pk}/spectrogram.json")

    assert response.status_code == 200
    document = response.json()
    assert document["has_audio"] is True and document["n_columns"] > 0 and document["onsets"]
    assert "source" not in document
    assert (settings.ARTIFACTS_DIR / "spectrograms" / f"{study_clip.clip_id}.json").exists()


def test_spectrogram_of_a_clip_without_sound_is_empty_not_an_error(client, world):
    login(client, world.rater)
    study_clip = reserve(world)
    type(study_clip.clip).objects.filter(pk=study_clip.clip_id).update(media_path="c1.mp4")

    document = client.get(f"/media/clips/{study_clip.pk}/spectrogram.json").json()

    assert document["has_audio"] is False and document["n_columns"] == 0


def test_unreadable_media_gives_a_422_spectrogram_error(client, world, media_root):
    (media_root / "ds" / "broken.mp4").write_bytes(b"garbage" * 20)
    login(client, world.rater)
    study_clip = reserve(world)
    type(study_clip.clip).objects.filter(pk=study_clip.clip_id).update(media_path="broken.mp4")

    response = client.get(f"/media/clips/{study_clip.pk}/spectrogram.json")

    assert response.status_code == 422
    assert "broken.mp4" in response.json()["detail"]


def test_heatmap_is_served_only_when_the_study_shows_evidence(client, world, media_root):
    (media_root / "heat").mkdir()
    (media_root / "heat" / "a.png").write_bytes(b"\x89PNG fake")
    login(client, world.rater)
    study_clip = reserve(world)
    ClipEvidence.objects.create(proposal_set=world.proposal_set, clip=study_clip.clip, heatmap_path="heat/a.png")
    url = f"/media/clips/{study_clip.pk}/heatmap.png"

    hidden = client.get(url)
    Study.objects.filter(pk=world.study.pk).update(show_evidence=True)
    shown = client.get(url)
    ClipEvidence.objects.filter(clip=study_clip.clip).update(heatmap_path="../../etc/passwd")
    escaping = client.get(url)

    assert hidden.status_code == 404
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    assert b"".join(shown.streaming_content) == b"\x89PNG fake"
    assert escaping.status_code == 404


# ---------------------------------------------------------------- researcher pages


def study_form_data(world, **overrides):
    data = {
        "name": "New study",
        "dataset": world.dataset.pk,
        "proposal_set": world.proposal_set.pk,
        "sample_size": 2,
        "seed": 7,
        "stratified": "on",
        "split": "",
        "raters_per_clip": 1,
        "raters": [world.rater.pk, world.other_rater.pk],
        "decoys_per_clip": 1,
        "gold_rate": 0,
        "reservation_timeout_seconds": 300,
        "instructions": "Be quick.",
    }
    data.update(overrides)
    return data


def test_study_form_lists_rater_group_users_and_proposal_sets_with_their_dataset(client, world):
    UserFactory(username="not-a-rater")
    ProposalSetFactory(name="elsewhere")
    login(client, world.researcher)

    page = client.get("/studies/new/").text

    assert world.rater.username in page and "not-a-rater" not in page
    assert f'data-dataset="{world.dataset.pk}"' in page


def test_valid_study_form_creates_the_study(client, world):
    login(client, world.researcher)

    response = client.post("/studies/new/", study_form_data(world))

    study = Study.objects.get(name="New study")
    assert response.status_code == 302
    assert response["Location"] == f"/studies/{study.pk}/"
    assert study.owner == world.researcher
    assert (study.sample_size, study.seed, study.raters_per_clip, study.reservation_timeout_seconds) == (2, 7, 1, 300)
    assert set(study.raters.all()) == {world.rater, world.other_rater}
    assert study.study_clips.count() == 2
    assert study.instructions == "Be quick."


def test_study_form_shows_a_service_error_and_saves_nothing(client, world):
    login(client, world.researcher)
    before = Study.objects.count()

    response = client.post("/studies/new/", study_form_data(world, sample_size=50))

    assert response.status_code == 400
    assert "only 3 clips are eligible" in response.text
    assert Study.objects.count() == before
    assert 'value="New study"' in response.text  # what was typed is kept


def test_study_form_refuses_a_proposal_set_of_another_dataset(client, world):
    other = ProposalSetFactory()
    login(client, world.researcher)

    response = client.post("/studies/new/", study_form_data(world, proposal_set=other.pk))

    assert response.status_code == 400
    assert "belongs to dataset" in response.text
    assert not Study.objects.filter(name="New study").exists()


@pytest.mark.parametrize(
    ("field", "value"), [("sample_size", "0"), ("gold_rate", "1.5"), ("name", ""), ("raters", ["999999"])]
)
def test_study_form_field_errors_are_shown(client, world, field, value):
    login(client, world.researcher)

    response = client.post("/studies/new/", study_form_data(world, **{field: value}))

    assert response.status_code == 400
    assert 'class="errorlist' in response.text
    assert not Study.objects.filter(name="New study").exists()


def test_researcher_sees_only_their_own_studies(client, world):
    other = make_researcher()
    login(client, other)

    assert "Barks" not in client.get("/studies/").text
    assert client.get(f"/studies/{world.study.pk}/").status_code == 404

    login(client, world.researcher)
    page = client.get("/studies/").text
    assert "Barks" in page and "0 / 6" in page


def test_admin_sees_every_study(client, world):
    admin = UserFactory(role="admin")

    login(client, admin)

    assert "Barks" in client.get("/studies/").text
    assert client.get(f"/studies/{world.study.pk}/").status_code == 200


def test_study_detail_shows_progress_per_rater_and_per_clip(client, world):
    study_clip = reserve(world)
    services.rating_submit(study_clip=study_clip, rater=world.rater, answers=answers_for(study_clip), seconds_spent=4.0)
    login(client, world.researcher)

    response = client.get(f"/studies/{world.study.pk}/")

    assert response.status_code == 200
    rows = response.text.split("<h2>Raters</h2>")[1].split("<h2>Clips</h2>")
    assert world.rater.username in rows[0] and "4.0" in rows[0]
    assert study_clip.clip.clip_id in rows[1]
    assert "1 / 6" in response.text
    assert Judgment.objects.count() == study_clip.shown_labels.count()
