"""The catalogue API (datasets, clips, proposal sets): for researchers, not raters."""

from tests.annotator.clients import client_for


def test_researcher_reads_datasets_clips_and_proposal_sets(study_world):
    client = client_for(study_world.owner)

    datasets = client.get("/api/datasets/").json()
    detail = client.get(f"/api/datasets/{study_world.dataset.pk}/").json()
    clips = client.get("/api/clips/", {"dataset": study_world.dataset.pk, "label": "cat1"}).json()
    clip = client.get(f"/api/clips/{study_world.clips[0].pk}/").json()
    sets = client.get("/api/proposal-sets/", {"dataset": study_world.dataset.pk}).json()

    assert datasets["count"] == 1 and datasets["results"][0]["clip_count"] == 4
    assert detail["clips_by_split"] == {"test": 4} and detail["clips_by_media_status"] == {"ok": 4}
    assert clips["count"] == 2
    assert clip["labels"] == ["cat0"]
    assert sets["results"][0]["proposal_count"] == 8


def test_clip_list_rejects_a_bad_filter(study_world):
    response = client_for(study_world.owner).get("/api/clips/", {"media_status": "bogus"})

    assert response.status_code == 400


def test_raters_cannot_read_the_catalogue_or_studies(study_world):
    client = client_for(study_world.raters[0])

    for url in (
        "/api/datasets/",
        "/api/clips/",
        "/api/proposal-sets/",
        "/api/studies/",
        f"/api/studies/{study_world.study.pk}/",
        f"/api/studies/{study_world.study.pk}/progress/",
        f"/api/studies/{study_world.study.pk}/judgments/",
    ):
        assert client.get(url).status_code == 403, url
