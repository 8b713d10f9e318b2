"""The matrix's vocabulary: outcomes, per-role rows, the Rule record, how paths and bodies
are built from the world."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from tests.authorization.world import NAMES, ROLES, AuthWorld
from tests.factories import PASSWORD

LOGIN, ADMIN_LOGIN, REDIRECT = "login", "admin-login", "redirect"
RATERS = ("rater_in", "rater_out", "other_rater")
#: Roles that must not see the owner's objects even where a list answers them 200.
OUTSIDERS = ("rater_out", "other_researcher")


def row(**cells) -> dict:
    assert set(cells) == set(ROLES), sorted(set(ROLES) ^ set(cells))
    return cells


def everyone(outcome) -> dict:
    return row(**dict.fromkeys(ROLES, outcome))


def researcher_page(owner=200, other=404, raters=403) -> dict:
    """A researcher page: the login for anonymous users, 403 for raters, the owner's object."""
    return row(anonymous=LOGIN, **dict.fromkeys(RATERS, raters), owner=owner, other_researcher=other, admin=owner)


def researcher_api(owner=200, other=404, raters=403) -> dict:
    """A researcher endpoint: 401 for anonymous users, 403 for raters, the owner's object."""
    return row(anonymous=401, **dict.fromkeys(RATERS, raters), owner=owner, other_researcher=other, admin=owner)


def study_clip_media(held=200) -> dict:
    """A file of `rater_in`'s reserved clip: for them, the study's owner and admins only."""
    return row(
        anonymous=LOGIN,
        rater_in=held,
        rater_out=404,
        other_rater=404,
        owner=held,
        other_researcher=404,
        admin=held,
    )


def admin_only(ok=200) -> dict:
    return row(**dict.fromkeys(ROLES[:-1], ADMIN_LOGIN), admin=ok)


@dataclass(frozen=True)
class Rule:
    route: str
    path: Callable[[AuthWorld], str]
    expect: dict
    method: str = "get"
    body: Callable[[AuthWorld, str], dict] | None = None
    form: bool = False  # a page's form post rather than a JSON body
    hides: Callable[[AuthWorld], str] | None = None  # text OUTSIDERS must not get back


def url(name: str, *args) -> Callable[[AuthWorld], str]:
    """The path of route `name` with arguments computed from the world."""
    return lambda w: reverse(name, args=[arg(w) if callable(arg) else arg for arg in args])


def literal(path: str) -> Callable[[AuthWorld], str]:
    return lambda w: path


def with_query(make: Callable[[AuthWorld], str], query: Callable[[AuthWorld], str]) -> Callable[[AuthWorld], str]:
    return lambda w: f"{make(w)}?{query(w)}"


STUDY = lambda w: w.study.pk  # noqa: E731
EVAL_STUDY = lambda w: w.eval_study.pk  # noqa: E731
RESERVED = lambda w: w.reserved.pk  # noqa: E731
DATASET = lambda w: w.dataset.pk  # noqa: E731
CLIP = lambda w: w.reserved.clip_id  # noqa: E731
PREDICT_RUN = lambda w: w.predict_run.pk  # noqa: E731
QUEUED_RUN = lambda w: w.queued_run.pk  # noqa: E731
REPORT = lambda w: w.report.pk  # noqa: E731
COMPARE = lambda w: f"ids={w.compare_ids}"  # noqa: E731
STUDY_NAME = lambda w: w.study.name  # noqa: E731
IMPORT_JOB = lambda w: w.import_job.pk  # noqa: E731
TRAIN_RUN = lambda w: w.train_run.pk  # noqa: E731


def credentials_body(w: AuthWorld, role: str) -> dict:
    user = w.users[role]
    return (
        {"username": "matrix-owner", "password": "wrong"}
        if user is None
        else {"username": user.username, "password": PASSWORD}
    )


def answers_body(w: AuthWorld, role: str) -> dict:
    return {"answers": {str(pk): "present" for pk in w.reserved.shown_labels.values_list("category_id", flat=True)}}


def new_study_body(w: AuthWorld, role: str) -> dict:
    return {
        "name": "Matrix new study",
        "dataset": w.dataset.pk,
        "proposal_set": w.study.proposal_set_id,
        "raters": ["matrix-rater-in"],
        "sample_size": 1,
        "raters_per_clip": 1,
        "decoys_per_clip": 0,
        "seed": 0,
        "gold_rate": 0,
        "reservation_timeout_seconds": 60,
    }


def train_body(w: AuthWorld, role: str) -> dict:
    return {"dataset_id": w.dataset.pk, "model_kind": "naive_av", "split": "test", "val_split": "", "epochs": 1}


def train_form_body(w: AuthWorld, role: str) -> dict:
    fields = {"dataset": w.dataset.pk, "model_kind": "naive_av", "config_name": "tiny", "split": "test"}
    fields |= {"val_split": "", "epochs": 1, "batch_size": 4, "learning_rate": 0.001}
    return {"action": "train", **{f"train-{key}": value for key, value in fields.items()}}


def share_body(w: AuthWorld, role: str) -> dict:
    return {"researchers": ["matrix-other-researcher"]}


def new_dataset_body(w: AuthWorld, role: str) -> dict:
    return {"name": "Matrix new dataset", "taxonomy": w.dataset.taxonomy_id}


def new_dataset_form_body(w: AuthWorld, role: str) -> dict:
    return {"action": "dataset", **new_dataset_body(w, role)}


def clips_form_body(w: AuthWorld, role: str) -> dict:
    """A clip-list form without its file: the owner's is refused (400), another's dataset is not found."""
    return {"action": "clips", "format": "generic"}


ML_BACKEND_CONFIG = (
    '<View><Video name="video" value="$video"/><Choices name="labels" toName="video" choice="multiple">'
    + "".join(f'<Choice value="{name}"/>' for name in NAMES)
    + "</Choices></View>"
)


def ml_backend_setup_body(w: AuthWorld, role: str) -> dict:
    return {"project": "1.1000000000", "schema": ML_BACKEND_CONFIG, "hostname": "http://localhost:8080"}


def ml_backend_predict_body(w: AuthWorld, role: str) -> dict:
    """A task naming no clip of the run's dataset: answered without reading the checkpoint."""
    task = {"id": 1, "data": {"video": "/data/upload/1/0a1b2c3d-not-a-clip.mp4"}}
    return {"tasks": [task], "project": "1.1000000000", "label_config": ML_BACKEND_CONFIG, "params": {}}


def ml_backend_webhook_body(w: AuthWorld, role: str) -> dict:
    return {"action": "ANNOTATION_CREATED", "project": {"id": 1, "label_config": ML_BACKEND_CONFIG}}
