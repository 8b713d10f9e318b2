"""Datasets are owned: a researcher sees and uses the datasets they own or that are shared with
them (admins every one; one with no owner is for admins only); clips and proposal sets follow
their dataset; a study can only use datasets its owner may use. Anything else is a 404."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from annotator import selectors, services
from annotator.models import Dataset, Study
from config.errors import ConflictError, NotFoundError
from tests.annotator.clients import client_for, login
from tests.builders import build_world, make_study
from tests.factories import DatasetFactory, ProposalSetFactory, make_rater, make_researcher, make_user


@pytest.fixture
def two_worlds(db):
    """Two researchers, each with a dataset of their own; plus a dataset nobody owns."""
    mine, theirs = build_world(clips_per_class=(2, 2), raters=1), build_world(clips_per_class=(2,), raters=1)
    mine.unowned = DatasetFactory(name="unowned")
    return mine, theirs


def _options(page: str, name: str) -> set[str]:
    """The values a page's <select name=...> offers (the empty choice left out)."""
    select = re.search(rf'<select name="{name}".*?</select>', page, re.S)
    assert select, name
    return set(re.findall(r'<option value="([^"]+)"', select.group(0)))


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_researcher_lists_only_the_datasets_they_own_or_that_are_shared_with_them(two_worlds):
    mine, theirs = two_worlds
    client = client_for(mine.owner)

    assert _ids(client.get("/api/datasets/")) == {mine.dataset.pk}
    assert client.get(f"/api/datasets/{theirs.dataset.pk}/").status_code == 404
    assert client.get(f"/api/datasets/{mine.unowned.pk}/").status_code == 404

    theirs.dataset.shared_with.add(mine.owner)

    assert _ids(client.get("/api/datasets/")) == {mine.dataset.pk, theirs.dataset.pk}
    detail = client.get(f"/api/datasets/{theirs.dataset.pk}/").json()
    assert detail["owner"] == theirs.owner.username and detail["clip_count"] == 2


def test_admins_see_every_dataset_including_those_without_an_owner(two_worlds):
    mine, theirs = two_worlds
    admin = make_user(role="admin")

    assert _ids(client_for(admin).get("/api/datasets/")) == {mine.dataset.pk, theirs.dataset.pk, mine.unowned.pk}
    assert client_for(admin).get(f"/api/datasets/{mine.unowned.pk}/").json()["owner"] is None


def test_clips_and_proposal_sets_follow_their_dataset(two_worlds):
    mine, theirs = two_worlds
    client = client_for(mine.owner)

    assert _ids(client.get("/api/clips/")) == {clip.pk for clip in mine.clips}
    assert _ids(client.get("/api/clips/", {"dataset": theirs.dataset.pk})) == set()
    assert client.get(f"/api/clips/{theirs.clips[0].pk}/").status_code == 404  # no media path, no labels
    assert _ids(client.get("/api/proposal-sets/")) == {mine.proposal_set.pk}
    assert _ids(client.get("/api/proposal-sets/", {"dataset": theirs.dataset.pk})) == set()


def test_study_create_refuses_a_dataset_its_owner_may_not_use(two_worlds):
    mine, theirs = two_worlds

    with pytest.raises(NotFoundError, match="not yours"):
        services.study_create(
            name="borrowed",
            dataset=theirs.dataset,
            proposal_set=theirs.proposal_set,
            owner=mine.owner,
            raters=mine.raters,
            sample_size=1,
        )
    assert not Study.objects.exists()

    theirs.dataset.shared_with.add(mine.owner)
    study = make_study(theirs, owner=mine.owner, raters=mine.raters, sample_size=1)
    assert study.owner == mine.owner


def test_study_create_api_and_page_offer_and_accept_only_usable_datasets(two_worlds, client):
    mine, theirs = two_worlds
    body = {
        "name": "borrowed",
        "dataset": theirs.dataset.pk,
        "proposal_set": theirs.proposal_set.pk,
        "raters": [mine.raters[0].username],
        "sample_size": 1,
    }

    response = client_for(mine.owner).post("/api/studies/create/", body, format="json")

    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"dataset", "proposal_set"}
    login(client, mine.owner)
    page = client.get("/studies/new/").text
    assert _options(page, "dataset") == {str(mine.dataset.pk)}
    assert _options(page, "proposal_set") == {str(mine.proposal_set.pk)}
    assert client.post("/studies/new/", body).status_code == 400
    assert not Study.objects.exists()


def test_owner_shares_a_dataset_through_the_api(two_worlds):
    mine, theirs = two_worlds
    colleague = make_researcher(username="colleague")
    url = f"/api/datasets/{mine.dataset.pk}/share/"

    response = client_for(mine.owner).post(url, {"researchers": ["colleague"]}, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": mine.dataset.pk,
        "name": mine.dataset.name,
        "owner": mine.owner.username,
        "shared_with": ["colleague"],
    }
    assert selectors.dataset_for_researcher(user=colleague, dataset_id=mine.dataset.pk) == mine.dataset
    # Only the owner (or an admin) shares: others, the colleague included, get a 404.
    for user in (theirs.owner, colleague):
        assert client_for(user).post(url, {"researchers": [user.username]}, format="json").status_code == 404
    assert client_for(mine.raters[0]).post(url, {"researchers": ["colleague"]}, format="json").status_code == 403
    rater = mine.raters[0].username
    refused = client_for(mine.owner).post(url, {"researchers": [rater]}, format="json")
    assert refused.status_code == 400 and rater in refused.json()["message"]
    admin = make_user(role="admin")
    url = f"/api/datasets/{theirs.dataset.pk}/share/"
    assert client_for(admin).post(url, {"researchers": ["colleague"]}, format="json").status_code == 200


def _run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_import_clips_owner_option_gives_the_new_dataset_its_owner(db, tmp_path):
    researcher, other = make_researcher(username="owner1"), make_researcher(username="owner2")
    _run("import_taxonomy", "--builtin", "llp")
    path = tmp_path / "AVVP_val_mine.csv"
    path.write_text("filename\tevent_labels\na_0_10\tDog\n")
    args = ["import_clips", "--dataset", "llp", "--taxonomy", "llp", "--file", str(path), "--format", "llp"]

    _run(*args, "--owner", "owner1")

    dataset = Dataset.objects.get(name="llp")
    assert dataset.owner == researcher
    assert list(selectors.datasets_for_researcher(user=other)) == []
    with pytest.raises(CommandError, match="belongs to owner1"):
        _run(*args, "--owner", "owner2")
    with pytest.raises(CommandError, match="not a researcher"):
        _run(*args, "--owner", make_rater(username="rater9").username)
    assert "--owner USERNAME" in _help("import_clips")


def _help(command: str) -> str:
    from django.core.management import load_command_class

    return load_command_class("annotator", command).create_parser("manage.py", command).format_help()


def test_dataset_share_command_names_the_owner_and_shares(db):
    dataset = DatasetFactory(name="legacy")  # from before datasets had owners: admins only
    owner, colleague = make_researcher(username="first"), make_researcher(username="second")

    output = _run("dataset_share", "--dataset", "legacy", "--owner", "first", "--with", "second")

    dataset.refresh_from_db()
    assert dataset.owner == owner and list(dataset.shared_with.all()) == [colleague]
    assert "owner first, shared with second" in output
    with pytest.raises(CommandError, match="does not exist"):
        _run("dataset_share", "--dataset", "nope", "--with", "second")


def test_an_import_does_not_take_over_a_dataset_someone_else_owns(db):
    owner = make_researcher()
    dataset = DatasetFactory(owner=owner)

    with pytest.raises(ConflictError):
        services.dataset_owner_set(dataset=dataset, owner=make_researcher())
    assert services.dataset_claim(name="no such dataset", owner=owner) is None
    ProposalSetFactory(dataset=dataset)
    assert selectors.proposal_sets_for_researcher(user=owner).count() == 1
