"""One Label Studio ML backend per trained run: Label Studio is given /ml-backend/<run_id>/
and appends the call's name, with no trailing slash."""

from django.urls import path

import config.converters  # noqa: F401  (registers the <id:...> converter)
from modelzoo.ml_backend import views

app_name = "ml-backend"
urlpatterns = [
    path("<id:run_id>/health", views.MlBackendHealthApi.as_view(), name="health"),
    path("<id:run_id>/setup", views.MlBackendSetupApi.as_view(), name="setup"),
    path("<id:run_id>/predict", views.MlBackendPredictApi.as_view(), name="predict"),
    path("<id:run_id>/webhook", views.MlBackendWebhookApi.as_view(), name="webhook"),
]
