from django.urls import path

import config.converters  # noqa: F401  (registers the <id:...> converter)
from modelzoo import apis

app_name = "modelzoo-api"
urlpatterns = [
    path("runs/", apis.ModelRunListApi.as_view(), name="run-list"),
    path("runs/train/", apis.ModelRunTrainApi.as_view(), name="run-train"),
    path("runs/predict/", apis.ModelRunPredictApi.as_view(), name="run-predict"),
    path("runs/<id:run_id>/", apis.ModelRunDetailApi.as_view(), name="run-detail"),
    path("runs/<id:run_id>/cancel/", apis.ModelRunCancelApi.as_view(), name="run-cancel"),
    path("runs/<id:run_id>/share/", apis.ModelRunShareApi.as_view(), name="run-share"),
    path("runs/<id:run_id>/predictions/", apis.ModelRunPredictionsApi.as_view(), name="run-predictions"),
]
