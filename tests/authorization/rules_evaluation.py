"""The matrix's rows for evaluation's routes: its API, pages and downloads."""

from __future__ import annotations

from tests.authorization.cells import (
    COMPARE,
    EVAL_STUDY,
    PREDICT_RUN,
    REDIRECT,
    REPORT,
    Rule,
    researcher_api,
    researcher_page,
    url,
    with_query,
)
from tests.authorization.world import REPORT_FILE

EVALUATION_RULES: list[Rule] = [
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
        "evaluation-api:study-label-studio",
        url("evaluation-api:study-label-studio", EVAL_STUDY, "tasks"),
        researcher_api(),
    ),
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
    Rule(
        "evaluation:study-label-studio",
        url("evaluation:study-label-studio", EVAL_STUDY, "config"),
        researcher_page(),
    ),
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
]
