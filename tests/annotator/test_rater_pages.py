"""The rater's pages: their studies, the rate page with its reserved clip, the done message
and the category search."""

import json

from django.urls import reverse

from annotator import services
from annotator.models import ClipEvidence, Reservation, Study
from tests.annotator.clients import login, rate_page
from tests.builders import all_present, reserve
from tests.factories import CategoryFactory


def page_config(html):
    return json.loads(html.split('id="rater-config" type="application/json">')[1].split("</script>")[0])


def test_rater_home_lists_the_rater_studies_with_progress(client, media_world):
    login(client, media_world.raters[0])

    response = client.get("/rate/")

    assert response.status_code == 200
    assert "Barks" in response.text
    assert "0 of 3 done" in response.text
    assert reverse("annotator:rate", args=[media_world.study.pk]) in response.text


def test_rate_page_shows_the_reserved_clip_labels_without_decoy_flags(client, media_world):
    login(client, media_world.raters[0])

    response = rate_page(client, media_world.study)

    assert response.status_code == 200
    reservation = Reservation.objects.get(rater=media_world.raters[0])
    config = page_config(response.text)
    shown = list(reservation.study_clip.shown_labels.order_by("position").values_list("category_id", flat=True))
    assert [label["category_id"] for label in config["labels"]] == shown
    assert config["study_clip_id"] == reservation.study_clip_id
    assert config["media_url"] == f"/media/clips/{reservation.study_clip_id}/"
    assert "is_decoy" not in response.text and "decoy" not in json.dumps(config)
    assert "0 of 3 done" in response.text
    assert "Listen first." in response.text


def test_rate_page_serves_the_same_reservation_until_submitted(client, media_world):
    login(client, media_world.raters[0])

    first = page_config(rate_page(client, media_world.study).text)
    second = page_config(rate_page(client, media_world.study).text)
    reloaded = page_config(client.get(f"/rate/{media_world.study.pk}/").text)

    assert Reservation.objects.filter(rater=media_world.raters[0]).count() == 1
    assert first["study_clip_id"] == second["study_clip_id"] == reloaded["study_clip_id"]


def test_rate_page_shows_evidence_only_when_the_study_shows_it(client, media_world):
    login(client, media_world.raters[0])
    page = rate_page(client, media_world.study).text
    assert page_config(page)["evidence"] is None
    assert not any(label["heads"] for label in page_config(page)["labels"])  # rater.js renders them

    Study.objects.filter(pk=media_world.study.pk).update(show_evidence=True)
    study_clip = Reservation.objects.get(rater=media_world.raters[0]).study_clip
    ClipEvidence.objects.create(
        proposal_set=media_world.proposal_set, clip=study_clip.clip, instant_seconds=[0.3], heatmap_path="heat/a.png"
    )
    page = client.get(f"/rate/{media_world.study.pk}/").text

    # the study shows a decoy, which no head proposed
    assert not any(label["heads"] for label in page_config(page)["labels"])
    assert f"/media/clips/{study_clip.pk}/heatmap.png" in page
    Study.objects.filter(pk=media_world.study.pk).update(decoys_per_clip=0)
    page = client.get(f"/rate/{media_world.study.pk}/").text

    assert ["audio", "onset"] in [label["heads"] for label in page_config(page)["labels"]]
    assert f"/media/clips/{study_clip.pk}/heatmap.png" in page
    assert page_config(page)["evidence"]["instant_seconds"] == [0.3]


def test_rater_with_nothing_left_sees_a_done_message(client, media_world):
    login(client, media_world.raters[0])
    for _ in range(3):
        study_clip = reserve(media_world)
        services.rating_submit(study_clip=study_clip, rater=media_world.raters[0], answers=all_present(study_clip))

    response = client.get(f"/rate/{media_world.study.pk}/")

    assert response.status_code == 200
    assert "Nothing left to rate" in response.text
    assert "3 of 3 done" in response.text


def test_categories_endpoint_searches_the_study_taxonomy(client, media_world):
    CategoryFactory(name="dog elsewhere", index=99)  # another taxonomy
    login(client, media_world.raters[0])

    response = client.get(f"/rate/{media_world.study.pk}/categories", {"q": "dog"})

    assert response.status_code == 200
    names = {row["name"] for row in response.json()["results"]}
    assert names == {"dog barking", "dog growling"}
    assert client.get(f"/rate/{media_world.study.pk}/categories", {"q": ""}).json() == {"results": []}
