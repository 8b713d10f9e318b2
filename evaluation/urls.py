from django.urls import path

import config.converters  # noqa: F401  (registers the <id:...> converter)
from evaluation import views

app_name = "evaluation"


def _target_routes(prefix: str, name: str, kind: str) -> list:
    return [
        path(f"{prefix}", views.DashboardView.as_view(target_kind=kind), name=name),
        path(
            f"{prefix}tables/<slug:key>.<slug:fmt>",
            views.TableDownloadView.as_view(target_kind=kind),
            name=f"{name}-table",
        ),
        path(f"{prefix}plots/<slug:key>.<slug:fmt>", views.PlotView.as_view(target_kind=kind), name=f"{name}-plot"),
        path(f"{prefix}compute/", views.ComputeView.as_view(target_kind=kind), name=f"{name}-compute"),
    ]


urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    *_target_routes("studies/<id:study_id>/", "study", "study"),
    path("studies/<id:study_id>/dataset.<slug:fmt>", views.StudyDatasetView.as_view(), name="study-dataset"),
    path(
        "studies/<id:study_id>/label-studio/<slug:part>",
        views.StudyLabelStudioView.as_view(),
        name="study-label-studio",
    ),
    *_target_routes("runs/compare/", "compare", "compare"),
    *_target_routes("runs/<id:run_id>/", "run", "run"),
    path(
        "runs/<id:run_id>/retarget/<slug:target_name>.<slug:fmt>",
        views.RunRetargetView.as_view(),
        name="run-retarget",
    ),
    path("reports/<id:report_id>/", views.ReportView.as_view(), name="report"),
    path("reports/<id:report_id>/files/<str:name>", views.ReportFileView.as_view(), name="report-file"),
]
