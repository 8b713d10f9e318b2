from django.urls import path

from evaluation import apis

app_name = "evaluation-api"

urlpatterns = [
    path("studies/", apis.StudyListApi.as_view(), name="study-list"),
    path("studies/<int:study_id>/", apis.StudyEvaluationApi.as_view(), name="study-detail"),
    path("studies/<int:study_id>/tables/<slug:key>.<slug:fmt>", apis.StudyTableApi.as_view(), name="study-table"),
    path("studies/<int:study_id>/plots/<slug:key>.<slug:fmt>", apis.StudyPlotApi.as_view(), name="study-plot"),
    path("studies/<int:study_id>/dataset.<slug:fmt>", apis.StudyDatasetApi.as_view(), name="study-dataset"),
    path("runs/", apis.RunListApi.as_view(), name="run-list"),
    path("runs/compare/", apis.RunsCompareApi.as_view(), name="run-compare"),
    path("runs/<int:run_id>/", apis.RunEvaluationApi.as_view(), name="run-detail"),
    path("runs/<int:run_id>/tables/<slug:key>.<slug:fmt>", apis.RunTableApi.as_view(), name="run-table"),
    path("runs/<int:run_id>/plots/<slug:key>.<slug:fmt>", apis.RunPlotApi.as_view(), name="run-plot"),
    path(
        "runs/<int:run_id>/retarget/<slug:target_name>.<slug:fmt>",
        apis.RunRetargetApi.as_view(),
        name="run-retarget",
    ),
    path("reports/", apis.ReportListCreateApi.as_view(), name="report-list"),
    path("reports/<int:report_id>/", apis.ReportDetailApi.as_view(), name="report-detail"),
    path("reports/<int:report_id>/files/<str:name>", apis.ReportFileApi.as_view(), name="report-file"),
]
