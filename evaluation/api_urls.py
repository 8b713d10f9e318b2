from django.urls import path

import config.converters  # noqa: F401  (registers the <id:...> converter)
from evaluation.apis import reports, runs, studies

app_name = "evaluation-api"

urlpatterns = [
    path("studies/", studies.StudyListApi.as_view(), name="study-list"),
    path("studies/<id:study_id>/", studies.StudyEvaluationApi.as_view(), name="study-detail"),
    path("studies/<id:study_id>/tables/<slug:key>.<slug:fmt>", studies.StudyTableApi.as_view(), name="study-table"),
    path("studies/<id:study_id>/plots/<slug:key>.<slug:fmt>", studies.StudyPlotApi.as_view(), name="study-plot"),
    path("studies/<id:study_id>/dataset.<slug:fmt>", studies.StudyDatasetApi.as_view(), name="study-dataset"),
    path(
        "studies/<id:study_id>/label-studio/<slug:part>",
        studies.StudyLabelStudioApi.as_view(),
        name="study-label-studio",
    ),
    path("runs/", runs.RunListApi.as_view(), name="run-list"),
    path("runs/compare/", runs.RunsCompareApi.as_view(), name="run-compare"),
    path("runs/<id:run_id>/", runs.RunEvaluationApi.as_view(), name="run-detail"),
    path("runs/<id:run_id>/tables/<slug:key>.<slug:fmt>", runs.RunTableApi.as_view(), name="run-table"),
    path("runs/<id:run_id>/plots/<slug:key>.<slug:fmt>", runs.RunPlotApi.as_view(), name="run-plot"),
    path(
        "runs/<id:run_id>/retarget/<slug:target_name>.<slug:fmt>",
        runs.RunRetargetApi.as_view(),
        name="run-retarget",
    ),
    path("reports/", reports.ReportListCreateApi.as_view(), name="report-list"),
    path("reports/<id:report_id>/", reports.ReportDetailApi.as_view(), name="report-detail"),
    path("reports/<id:report_id>/files/<str:name>", reports.ReportFileApi.as_view(), name="report-file"),
]
