"""The researcher's pages: the study form, the study list and a study's progress."""

import pytest

from annotator import services
from annotator.models import Judgment, Study
from tests.annotator.clients import login
from tests.builders import all_present, reserve
from tests.factories import DatasetFactory, ProposalSetFactory, UserFactory, make_researcher


def study_form_data(world):
    return {
        "name": "New study",
        "dataset": world.dataset.pk,
        "proposal_set": world.proposal_set.pk,
        "sample_size": 2,
        "seed": 7,
        "stratified": "on",
        "split": "",
        "raters_per_clip": 1,
        "raters": [world.raters[0].username, world.raters[1].username],
        "decoys_per_clip": 1,
        "gold_rate": 0,
        "reservation_timeout_seconds": 300,
        "instructions": "Be quick.",
    }


def test_study_form_lists_rater_group_users_and_proposal_sets_with_their_dataset(client, media_world):
    UserFactory(username="not-a-rater")
    ProposalSetFactory(name="elsewhere")
    login(client, media_world.owner)

    page = client.get("/studies/new/").text

    assert media_world.raters[0].username in page and "not-a-rater" not in page
    assert f'data-dataset="{media_world.dataset.pk}"' in page


def test_valid_study_form_creates_the_study(client, media_world):
    login(client, media_world.owner)

    response = client.post("/studies/new/", study_form_data(media_world))

    study = Study.objects.get(name="New study")
    assert response.status_code == 302
    assert response["Location"] == f"/studies/{study.pk}/"
    assert study.owner == media_world.owner
    assert (study.sample_size, study.seed, study.raters_per_clip, study.reservation_timeout_seconds) == (2, 7, 1, 300)
    assert set(study.raters.all()) == {media_world.raters[0], media_world.raters[1]}
    assert study.study_clips.count() == 2
    assert study.instructions == "Be quick."


def test_study_form_shows_a_service_error_and_saves_nothing(client, media_world):
    login(client, media_world.owner)
    before = Study.objects.count()

    response = client.post("/studies/new/", study_form_data(media_world) | {"sample_size": 50})

    assert response.status_code == 400
    assert "only 3 clips are eligible" in response.text
    assert Study.objects.count() == before
    assert 'value="New study"' in response.text  # what was typed is kept


def test_study_form_refuses_a_proposal_set_of_another_dataset(client, media_world):
    other = ProposalSetFactory(dataset=DatasetFactory(owner=media_world.owner))  # another of the owner's
    login(client, media_world.owner)

    response = client.post("/studies/new/", study_form_data(media_world) | {"proposal_set": other.pk})

    assert response.status_code == 400
    assert "belongs to dataset" in response.text
    assert not Study.objects.filter(name="New study").exists()


@pytest.mark.parametrize(
    ("field", "value"), [("sample_size", "0"), ("gold_rate", "1.5"), ("name", ""), ("raters", ["999999"])]
)
def test_study_form_field_errors_are_shown(client, media_world, field, value):
    login(client, media_world.owner)

    response = client.post("/studies/new/", study_form_data(media_world) | {field: value})

    assert response.status_code == 400
    assert 'class="errorlist' in response.text
    assert not Study.objects.filter(name="New study").exists()


def test_researcher_sees_only_their_own_studies(client, media_world):
    other = make_researcher()
    login(client, other)

    assert "Barks" not in client.get("/studies/").text
    assert client.get(f"/studies/{media_world.study.pk}/").status_code == 404

    login(client, media_world.owner)
    page = client.get("/studies/").text
    assert "Barks" in page and "0 / 6" in page


def test_admin_sees_every_study(client, media_world):
    admin = UserFactory(role="admin")

    login(client, admin)

    assert "Barks" in client.get("/studies/").text
    assert client.get(f"/studies/{media_world.study.pk}/").status_code == 200


def test_study_detail_shows_progress_per_rater_and_per_clip(client, media_world):
    study_clip = reserve(media_world)
    services.rating_submit(
        study_clip=study_clip, rater=media_world.raters[0], answers=all_present(study_clip), seconds_spent=4.0
    )
    login(client, media_world.owner)

    response = client.get(f"/studies/{media_world.study.pk}/")

    assert response.status_code == 200
    rows = response.text.split("<h2>Raters</h2>")[1].split("<h2>Clips</h2>")
    assert media_world.raters[0].username in rows[0] and "4.0" in rows[0]
    assert study_clip.clip.clip_id in rows[1]
    assert "1 / 6" in response.text
    assert Judgment.objects.count() == study_clip.shown_labels.count()
