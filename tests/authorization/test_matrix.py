"""The authorization matrix: every route of the URL conf (pages, API, media, exports, reports,
admin, schema, docs, health, login and logout) x every role, each cell with the outcome it must
have. A route the URL conf has and this table does not FAILS `test_every_route_has_a_rule`, so a
new route cannot ship without its rule.

Roles (tests/authorization/world.py): anonymous; `rater_in`, a rater of the study who holds one
of its clips reserved and has rated another; `rater_out`, a rater not in it; `other_rater`, in
the study too but on `rater_in`'s clips; `owner`, the researcher who owns the datasets, studies,
runs and report; `other_researcher`; `admin`, a superuser.

Outcomes: an HTTP status, or LOGIN / ADMIN_LOGIN (302 to the site's or the admin's login page)
or REDIRECT (302 elsewhere). Whatever is not one's own answers 404, never 403, so ids don't
tell what exists; 403 is for a role that may never use the route. Each cell runs in a savepoint
rolled back afterwards, so state-changing requests (reserve, submit, cancel, share, create)
are checked in their allowed cells too and leave the world as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse

from tests.authorization.routes import url_conf_routes
from tests.authorization.world import REPORT_FILE, ROLES, AuthWorld, build_auth_world
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


def _credentials(w: AuthWorld, role: str) -> dict:
    user = w.users[role]
    return (
        {"username": "matrix-owner", "password": "wrong"}
        if user is None
        else {"username": user.username, "password": PASSWORD}
    )


def _answers(w: AuthWorld, role: str) -> dict:
    return {"answers": {str(pk): "present" for pk in w.reserved.shown_labels.values_list("category_id", flat=True)}}


def _new_study(w: AuthWorld, role: str) -> dict:
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


def _train(w: AuthWorld, role: str) -> dict:
    return {"dataset_id": w.dataset.pk, "model_kind": "naive_av", "split": "test", "val_split": "", "epochs": 1}


def _train_form(w: AuthWorld, role: str) -> dict:
    fields = {"dataset": w.dataset.pk, "model_kind": "naive_av", "config_name": "tiny", "split": "test"}
    fields |= {"val_split": "", "epochs": 1, "batch_size": 4, "learning_rate": 0.001}
    return {"action": "train", **{f"train-{key}": value for key, value in fields.items()}}


def _share(w: AuthWorld, role: str) -> dict:
    return {"researchers": ["matrix-other-researcher"]}


RULES: list[Rule] = [
    # --- the site's own routes ---------------------------------------------------------
    Rule("home", literal("/"), row(anonymous=LOGIN, **dict.fromkeys(ROLES[1:], REDIRECT))),
    Rule("health", literal("/healthz"), everyone(200)),
    Rule("login", literal("/accounts/login/"), everyone(200)),
    Rule("logout", literal("/accounts/logout/"), everyone(LOGIN), method="post"),
    Rule("api-schema", literal("/api/schema/"), everyone(200)),
    Rule("api-docs", literal("/api/docs/"), everyone(200)),
    # --- annotator API: accounts, catalogue, studies ------------------------------------
    Rule(
        "annotator-api:auth-token",
        url("annotator-api:auth-token"),
        row(anonymous=400, **dict.fromkeys(ROLES[1:], 200)),
        method="post",
        body=_credentials,
    ),
    Rule("annotator-api:me", url("annotator-api:me"), row(anonymous=401, **dict.fromkeys(ROLES[1:], 200))),
    Rule(
        "annotator-api:rater-studies",
        url("annotator-api:rater-studies"),
        row(anonymous=401, **dict.fromkeys(RATERS, 200), owner=403, other_researcher=403, admin=200),
        hides=STUDY_NAME,
    ),
    Rule(
        "annotator-api:dataset-list",
        url("annotator-api:dataset-list"),
        researcher_api(other=200),
        hides=lambda w: w.dataset.name,
    ),
    Rule("annotator-api:dataset-detail", url("annotator-api:dataset-detail", DATASET), researcher_api()),
    Rule(
        "annotator-api:dataset-share",
        url("annotator-api:dataset-share", DATASET),
        researcher_api(),
        method="post",
        body=_share,
    ),
    Rule(
        "annotator-api:clip-list",
        url("annotator-api:clip-list"),
        researcher_api(other=200),
        hides=lambda w: w.reserved.clip.clip_id,
    ),
    Rule("annotator-api:clip-detail", url("annotator-api:clip-detail", CLIP), researcher_api()),
    Rule(
        "annotator-api:proposal-set-list",
        url("annotator-api:proposal-set-list"),
        researcher_api(other=200),
        hides=lambda w: w.study.proposal_set.name,
    ),
    Rule("annotator-api:study-list", url("annotator-api:study-list"), researcher_api(other=200), hides=STUDY_NAME),
    Rule(
        "annotator-api:study-create",
        url("annotator-api:study-create"),
        researcher_api(owner=201, other=400),  # another's dataset is no choice of theirs
        method="post",
        body=_new_study,
    ),
    Rule("annotator-api:study-detail", url("annotator-api:study-detail", STUDY), researcher_api()),
    Rule("annotator-api:study-close", url("annotator-api:study-close", STUDY), researcher_api(), method="post"),
    Rule(
        "annotator-api:study-raters-add",
        url("annotator-api:study-raters-add", STUDY),
        researcher_api(),
        method="post",
        body=lambda w, role: {"raters": ["matrix-rater-out"]},
    ),
    Rule("annotator-api:study-progress", url("annotator-api:study-progress", STUDY), researcher_api()),
    Rule("annotator-api:study-judgments", url("annotator-api:study-judgments", STUDY), researcher_api()),
    # --- annotator API: the rating queue ------------------------------------------------
    Rule(
        "annotator-api:study-next",
        url("annotator-api:study-next", STUDY),
        row(anonymous=401, rater_in=200, rater_out=404, other_rater=200, owner=403, other_researcher=403, admin=404),
    ),
    Rule(
        "annotator-api:rater-progress",
        url("annotator-api:rater-progress", STUDY),
        row(anonymous=401, rater_in=200, rater_out=404, other_rater=200, owner=403, other_researcher=403, admin=404),
    ),
    Rule(
        "annotator-api:study-clip-detail",
        url("annotator-api:study-clip-detail", RESERVED),
        row(anonymous=401, rater_in=200, rater_out=404, other_rater=404, owner=200, other_researcher=404, admin=200),
    ),
    Rule(
        "annotator-api:rating-submit",
        url("annotator-api:rating-submit", RESERVED),
        # An admin sees the clip but holds no reservation for it: refused as such.
        row(anonymous=401, rater_in=200, rater_out=404, other_rater=404, owner=403, other_researcher=403, admin=400),
        method="post",
        body=_answers,
    ),
    Rule(
        "annotator-api:reservation-release",
        url("annotator-api:reservation-release", RESERVED),
        # Releasing what one does not hold is a no-op for whoever may see the clip.
        row(anonymous=401, rater_in=204, rater_out=404, other_rater=404, owner=403, other_researcher=403, admin=204),
        method="post",
    ),
    # --- modelzoo API ---------------------------------------------------------------------
    Rule(
        "modelzoo-api:run-list",
        url("modelzoo-api:run-list"),
        researcher_api(other=200),
        hides=lambda w: f'"id":{w.predict_run.pk},',
    ),
    Rule("modelzoo-api:run-train", url("modelzoo-api:run-train"), researcher_api(201), method="post", body=_train),
    Rule(
        "modelzoo-api:run-predict",
        url("modelzoo-api:run-predict"),
        researcher_api(201),
        method="post",
        body=lambda w, role: {"source_run_id": w.train_run.pk, "with_heatmaps": False},
    ),
    Rule("modelzoo-api:run-detail", url("modelzoo-api:run-detail", PREDICT_RUN), researcher_api()),
    Rule("modelzoo-api:run-cancel", url("modelzoo-api:run-cancel", QUEUED_RUN), researcher_api(), method="post"),
    Rule(
        "modelzoo-api:run-share",
        url("modelzoo-api:run-share", PREDICT_RUN),
        researcher_api(),
        method="post",
        body=_share,
    ),
    Rule("modelzoo-api:run-predictions", url("modelzoo-api:run-predictions", PREDICT_RUN), researcher_api()),
    # --- evaluation API -------------------------------------------------------------------
    Rule(
        "evaluation-api:study-list",
        url("evaluation-api:study-list"),
        researcher_api(other=200),
        hides=lambda w: w.eval_study.name,
    ),
    Rule("evaluation-api:study-detail", url("evaluation-api:study-detail", EVAL_STUDY), researcher_api()),
    Rule(
        "evaluation-api:study-table",
        url("evaluation-api:study-table", EVAL_STUDY, "human_study", "csv"),
        researcher_api(),
    ),
    Rule(
        "evaluation-api:study-plot",
        url("evaluation-api:study-plot", EVAL_STUDY, "acceptance_by_class", "png"),
        researcher_api(),
    ),
    Rule("evaluation-api:study-dataset", url("evaluation-api:study-dataset", EVAL_STUDY, "csv"), researcher_api()),
    Rule(
        "evaluation-api:run-list",
        url("evaluation-api:run-list"),
        researcher_api(other=200),
        hides=lambda w: f'"id":{w.predict_run.pk},',
    ),
    Rule(
        "evaluation-api:run-compare",
        with_query(url("evaluation-api:run-compare"), COMPARE),
        researcher_api(),
    ),
    Rule("evaluation-api:run-detail", url("evaluation-api:run-detail", PREDICT_RUN), researcher_api()),
    Rule("evaluation-api:run-table", url("evaluation-api:run-table", PREDICT_RUN, "table1", "csv"), researcher_api()),
    Rule(
        "evaluation-api:run-plot",
        url("evaluation-api:run-plot", PREDICT_RUN, "head_accuracy", "svg"),
        researcher_api(),
    ),
    Rule(
        "evaluation-api:run-retarget",
        url("evaluation-api:run-retarget", PREDICT_RUN, "instant", "csv"),
        researcher_api(),
    ),
    Rule("evaluation-api:report-list", url("evaluation-api:report-list"), researcher_api(other=200)),
    Rule(
        "evaluation-api:report-list",
        url("evaluation-api:report-list"),
        researcher_api(202),
        method="post",
        body=lambda w, role: {"study": w.eval_study.pk, "n_boot": 10},
    ),
    Rule("evaluation-api:report-detail", url("evaluation-api:report-detail", REPORT), researcher_api()),
    Rule("evaluation-api:report-file", url("evaluation-api:report-file", REPORT, REPORT_FILE), researcher_api()),
    # --- annotator pages and clip media ---------------------------------------------------
    Rule(
        "annotator:rater-home",
        url("annotator:rater-home"),
        row(anonymous=LOGIN, **dict.fromkeys(RATERS, 200), owner=403, other_researcher=403, admin=200),
        hides=STUDY_NAME,
    ),
    Rule(
        "annotator:rate",
        url("annotator:rate", STUDY),
        row(anonymous=LOGIN, rater_in=200, rater_out=404, other_rater=200, owner=403, other_researcher=403, admin=404),
    ),
    Rule(
        "annotator:rate-categories",
        with_query(url("annotator:rate-categories", STUDY), lambda w: "q=dog"),
        row(anonymous=LOGIN, rater_in=200, rater_out=404, other_rater=200, owner=403, other_researcher=403, admin=404),
    ),
    Rule("annotator:study-list", url("annotator:study-list"), researcher_page(other=200), hides=STUDY_NAME),
    Rule("annotator:study-create", url("annotator:study-create"), researcher_page(other=200)),
    Rule(
        "annotator:study-create",
        url("annotator:study-create"),
        researcher_page(owner=REDIRECT, other=400),
        method="post",
        body=_new_study,
        form=True,
    ),
    Rule("annotator:study-detail", url("annotator:study-detail", STUDY), researcher_page()),
    Rule("annotator:clip-media", url("annotator:clip-media", RESERVED), study_clip_media()),
    Rule("annotator:clip-spectrogram", url("annotator:clip-spectrogram", RESERVED), study_clip_media()),
    Rule("annotator:clip-heatmap", url("annotator:clip-heatmap", RESERVED), study_clip_media()),
    # --- modelzoo pages -------------------------------------------------------------------
    Rule(
        "modelzoo:run-list",
        url("modelzoo:run-list"),
        researcher_page(other=200),
        hides=lambda w: f"/runs/{w.predict_run.pk}/",
    ),
    Rule("modelzoo:run-create", url("modelzoo:run-create"), researcher_page(other=200)),
    Rule(
        "modelzoo:run-create",
        url("modelzoo:run-create"),
        researcher_page(owner=REDIRECT, other=400),  # another's dataset is no choice of theirs
        method="post",
        body=_train_form,
        form=True,
    ),
    Rule("modelzoo:run-detail", url("modelzoo:run-detail", PREDICT_RUN), researcher_page()),
    Rule("modelzoo:run-cancel", url("modelzoo:run-cancel", QUEUED_RUN), researcher_page(REDIRECT), method="post"),
    # --- evaluation pages and downloads ---------------------------------------------------
    Rule("evaluation:index", url("evaluation:index"), researcher_page(other=200), hides=lambda w: w.eval_study.name),
    Rule("evaluation:study", url("evaluation:study", EVAL_STUDY), researcher_page()),
    Rule("evaluation:study-table", url("evaluation:study-table", EVAL_STUDY, "human_study", "md"), researcher_page()),
    Rule(
        "evaluation:study-plot",
        url("evaluation:study-plot", EVAL_STUDY, "acceptance_by_class", "svg"),
        researcher_page(),
    ),
    Rule(
        "evaluation:study-compute",
        url("evaluation:study-compute", EVAL_STUDY),
        researcher_page(REDIRECT),
        method="post",
    ),
    Rule("evaluation:study-dataset", url("evaluation:study-dataset", EVAL_STUDY, "json"), researcher_page()),
    Rule("evaluation:compare", with_query(url("evaluation:compare"), COMPARE), researcher_page()),
    Rule(
        "evaluation:compare-table",
        with_query(url("evaluation:compare-table", "table2", "csv"), COMPARE),
        researcher_page(),
    ),
    Rule(
        "evaluation:compare-plot",
        with_query(url("evaluation:compare-plot", "event_types", "svg"), COMPARE),
        researcher_page(),
    ),
    Rule(
        "evaluation:compare-compute",
        with_query(url("evaluation:compare-compute"), COMPARE),
        researcher_page(REDIRECT),
        method="post",
    ),
    Rule("evaluation:run", url("evaluation:run", PREDICT_RUN), researcher_page()),
    Rule("evaluation:run-table", url("evaluation:run-table", PREDICT_RUN, "table3", "tex"), researcher_page()),
    Rule("evaluation:run-plot", url("evaluation:run-plot", PREDICT_RUN, "head_accuracy", "png"), researcher_page()),
    Rule(
        "evaluation:run-compute", url("evaluation:run-compute", PREDICT_RUN), researcher_page(REDIRECT), method="post"
    ),
    Rule(
        "evaluation:run-retarget",
        url("evaluation:run-retarget", PREDICT_RUN, "audio-visual", "json"),
        researcher_page(),
    ),
    Rule("evaluation:report", url("evaluation:report", REPORT), researcher_page()),
    Rule("evaluation:report-file", url("evaluation:report-file", REPORT, REPORT_FILE), researcher_page()),
    # --- the admin site: staff only; each family on a representative model ----------------
    Rule("admin:index", literal("/admin/"), admin_only()),
    Rule("admin:login", literal("/admin/login/"), row(**dict.fromkeys(ROLES[:-1], 200), admin=REDIRECT)),
    # Django's admin sends non-staff users to its index, which then asks them to log in.
    Rule(
        "admin:logout",
        literal("/admin/logout/"),
        row(**dict.fromkeys(ROLES[:-1], REDIRECT), admin=LOGIN),
        method="post",
    ),
    Rule("admin:password_change", literal("/admin/password_change/"), admin_only()),
    Rule("admin:password_change_done", literal("/admin/password_change/done/"), admin_only()),
    Rule("admin:autocomplete", literal("/admin/autocomplete/"), admin_only(403)),
    Rule("admin:jsi18n", literal("/admin/jsi18n/"), admin_only()),
    Rule("admin:view_on_site", literal("/admin/r/1/1/"), admin_only(404)),
    Rule("admin:app_list", literal("/admin/annotator/"), admin_only()),
    Rule("admin:model-changelist", literal("/admin/annotator/dataset/"), admin_only()),
    Rule("admin:model-add", literal("/admin/annotator/dataset/add/"), admin_only()),
    Rule("admin:model-change", lambda w: f"/admin/annotator/dataset/{w.dataset.pk}/change/", admin_only()),
    Rule("admin:model-delete", lambda w: f"/admin/annotator/dataset/{w.dataset.pk}/delete/", admin_only()),
    Rule("admin:model-history", lambda w: f"/admin/annotator/dataset/{w.dataset.pk}/history/", admin_only()),
    Rule("admin:model-object", lambda w: f"/admin/annotator/dataset/{w.dataset.pk}/", admin_only(REDIRECT)),
    Rule("admin:user-password", lambda w: f"/admin/auth/user/{w.owner.pk}/password/", admin_only()),
    Rule("admin:catch-all", literal("/admin/no-such-page/"), admin_only(404)),
]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module inside a transaction rolled back at its end; each test's own
    transaction (the `db` fixture) is a savepoint within it."""
    root = tmp_path_factory.mktemp("matrix")
    media, artifacts = root / "media", root / "artifacts"
    media.mkdir()
    artifacts.mkdir()
    fast_hasher = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        override_settings(MEDIA_ROOT=media, ARTIFACTS_DIR=artifacts, PASSWORD_HASHERS=fast_hasher),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        yield build_auth_world(media_root=media, artifacts=artifacts)
        transaction.set_rollback(True)


def _outcome(response):
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(reverse("login")):
            return LOGIN
        return ADMIN_LOGIN if location.startswith(reverse("admin:login")) else REDIRECT
    return response.status_code


def _request(rule: Rule, world: AuthWorld, role: str):
    """One cell: the request as `role` makes it, in a savepoint rolled back afterwards."""
    client = Client(raise_request_exception=False)
    with transaction.atomic():
        if world.users[role] is not None:
            client.force_login(world.users[role])
        path = rule.path(world)
        body = rule.body(world, role) if rule.body else None
        if rule.method == "get":
            response = client.get(path)
        elif rule.form:
            response = client.post(path, body or {})
        else:
            response = client.post(path, json.dumps(body or {}), content_type="application/json")
        # Reading a streamed body to its end closes it the way the test client expects
        # (response.close() itself would close the connection the world lives in).
        content = b"".join(response.streaming_content) if response.streaming else response.content
        transaction.set_rollback(True)
    return response, content


@pytest.mark.parametrize("rule", RULES, ids=[f"{rule.method} {rule.route}" for rule in RULES])
def test_each_role_gets_the_outcome_its_cell_names(db, world, rule):
    wrong = []
    for role in ROLES:
        response, content = _request(rule, world, role)
        got, expected = _outcome(response), rule.expect[role]
        if got != expected:
            wrong.append(f"{role}: expected {expected}, got {got} ({content[:120]!r})")
        elif rule.hides and role in OUTSIDERS and got == 200 and rule.hides(world).encode() in content:
            wrong.append(f"{role}: sees {rule.hides(world)!r}")
    assert not wrong, f"{rule.method.upper()} {rule.path(world)}\n" + "\n".join(wrong)


def test_every_route_has_a_rule():
    """A route without a row fails here with its name: add its rule to RULES."""
    ruled = {rule.route for rule in RULES}
    missing = sorted(f"{route.key}  ({route.pattern})" for route in url_conf_routes() if route.key not in ruled)
    assert not missing, "routes without a rule in the authorization matrix:\n" + "\n".join(missing)


def test_every_rule_names_a_route():
    routes = {route.key for route in url_conf_routes()}
    assert not sorted({rule.route for rule in RULES} - routes)
