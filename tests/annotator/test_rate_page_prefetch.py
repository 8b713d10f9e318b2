"""What the rate page tells rater.js for preloading the clip held ahead (issue 12, point 1),
and `?prefetch=0`, the full page per clip kept as the bench's reference."""

import json

from annotator.models import Reservation
from tests.annotator.clients import login


def _config(page: str) -> dict:
    return json.loads(page.split('id="rater-config" type="application/json">')[1].split("</script>")[0])


def test_the_page_config_names_the_apis_the_page_preloads_through(client, media_world):
    login(client, media_world.raters[0])

    config = _config(client.post(f"/rate/{media_world.study.pk}/", follow=True).text)

    assert config["prefetch"] is True
    assert config["next_api_url"] == f"/api/studies/{media_world.study.pk}/next/"
    assert config["submit_url_pattern"] == "/api/study-clips/{id}/submit/"
    assert config["release_url_pattern"] == "/api/study-clips/{id}/release/"
    assert config["submit_url"] == config["submit_url_pattern"].replace("{id}", str(config["study_clip_id"]))


def test_prefetch_0_keeps_the_full_page_flow_through_the_redirect(client, media_world):
    login(client, media_world.raters[0])

    start = client.get(f"/rate/{media_world.study.pk}/?prefetch=0").text
    response = client.post(f"/rate/{media_world.study.pk}/?prefetch=0")
    config = _config(client.get(response["Location"]).text)

    assert f'action="/rate/{media_world.study.pk}/?prefetch=0" id="rate-start"' in start
    assert response.status_code == 303
    assert response["Location"] == f"/rate/{media_world.study.pk}/?prefetch=0"
    assert config["prefetch"] is False
    assert config["next_url"] == f"/rate/{media_world.study.pk}/?prefetch=0"


def test_a_reload_naming_a_clip_shows_the_clip_being_rated(client, media_world):
    """The address names the clip on show (?clip=); the page shows the rater's current clip
    whatever it names, reserving nothing."""
    login(client, media_world.raters[0])
    first = _config(client.post(f"/rate/{media_world.study.pk}/", follow=True).text)

    for named in (first["study_clip_id"], 999999, "junk"):
        page = client.get(f"/rate/{media_world.study.pk}/?clip={named}")
        assert page.status_code == 200
        assert _config(page.text)["study_clip_id"] == first["study_clip_id"]
    assert Reservation.objects.filter(rater=media_world.raters[0]).count() == 1
