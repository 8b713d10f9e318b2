"""The matrix's rows for modelzoo's routes: its API, the Label Studio ML backend, its pages."""

from __future__ import annotations

from tests.authorization.cells import (
    PREDICT_RUN,
    QUEUED_RUN,
    REDIRECT,
    TRAIN_RUN,
    Rule,
    ml_backend_predict_body,
    ml_backend_setup_body,
    ml_backend_webhook_body,
    researcher_api,
    researcher_page,
    share_body,
    train_body,
    train_form_body,
    url,
)

MODELZOO_RULES: list[Rule] = [
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
    # --- a trained run as a Label Studio ML backend (modelzoo/ml_backend) ------------------
    Rule("ml-backend:health", url("ml-backend:health", TRAIN_RUN), researcher_api()),
    Rule(
        "ml-backend:setup",
        url("ml-backend:setup", TRAIN_RUN),
        researcher_api(),
        method="post",
        body=ml_backend_setup_body,
    ),
    Rule(
        "ml-backend:predict",
        url("ml-backend:predict", TRAIN_RUN),
        researcher_api(),
        method="post",
        body=ml_backend_predict_body,
    ),
    Rule(
        "ml-backend:webhook",
        url("ml-backend:webhook", TRAIN_RUN),
        researcher_api(),
        method="post",
        body=ml_backend_webhook_body,
    ),
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
]
