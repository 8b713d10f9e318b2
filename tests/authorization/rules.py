"""The matrix's table: for every route of the URL conf, how to call it and the outcome each
role must get (see test_matrix.py for the roles and outcomes)."""

from __future__ import annotations

from tests.authorization.cells import (
    CLIP,
    COMPARE,
    DATASET,
    EVAL_STUDY,
    LOGIN,
    PREDICT_RUN,
    QUEUED_RUN,
    RATERS,
    REDIRECT,
    REPORT,
    RESERVED,
    STUDY,
    STUDY_NAME,
    Rule,
    admin_only,
    answers_body,
    credentials_body,
    everyone,
    literal,
    new_study_body,
    researcher_api,
    researcher_page,
    row,
    share_body,
    study_clip_media,
    train_body,
    train_form_body,
    url,
    with_query,
)
from tests.authorization.world import REPORT_FILE, ROLES

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
        body=credentials_body,
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
        body=share_body,
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
        body=new_study_body,
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
    # Reserving is a POST; a GET changes nothing and is not allowed (405).
    Rule(
        "annotator-api:study-next",
        url("annotator-api:study-next", STUDY),
        row(anonymous=401, rater_in=200, rater_out=404, other_rater=200, owner=403, other_researcher=403, admin=404),
        method="post",
    ),
    Rule(
        "annotator-api:study-next",
        url("annotator-api:study-next", STUDY),
        row(anonymous=401, rater_in=405, rater_out=405, other_rater=405, owner=403, other_researcher=403, admin=405),
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
        # A rater of the study without a live reservation (nor a rating) gets the queue's one
        # answer, 409 lapsed; whoever does not rate the study (an admin too) finds nothing.
        row(anonymous=401, rater_in=200, rater_out=404, other_rater=409, owner=403, other_researcher=403, admin=404),
        method="post",
        body=answers_body,
    ),
    Rule(
        "annotator-api:reservation-release",
        url("annotator-api:reservation-release", RESERVED),
        # Releasing what one does not hold is a no-op for any rater of the study.
        row(anonymous=401, rater_in=204, rater_out=404, other_rater=204, owner=403, other_researcher=403, admin=404),
        method="post",
    ),
    # --- modelzoo API ---------------------------------------------------------------------
    Rule(
        "modelzoo-api:run-list",
        url("modelzoo-api:run-list"),
        researcher_api(other=200),
        hides=lambda w: f'"id":{w.predict_run.pk},',
    ),
    Rule("modelzoo-api:run-train", url("modelzoo-api:run-train"), researcher_api(201), method="post", body=train_body),
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
        body=share_body,
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
    # GET shows the held clip (rater_in) or the page that asks for one (other_rater), reserving
    # nothing; POST reserves and answers 303 to the GET.
    Rule(
        "annotator:rate",
        url("annotator:rate", STUDY),
        row(anonymous=LOGIN, rater_in=200, rater_out=404, other_rater=200, owner=403, other_researcher=403, admin=404),
    ),
    Rule(
        "annotator:rate",
        url("annotator:rate", STUDY),
        row(anonymous=LOGIN, rater_in=303, rater_out=404, other_rater=303, owner=403, other_researcher=403, admin=404),
        method="post",
        form=True,
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
        body=new_study_body,
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
        body=train_form_body,
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
