from django.urls import path

import config.converters  # noqa: F401  (registers the <id:...> converter)
from modelzoo import views

app_name = "modelzoo"
urlpatterns = [
    path("", views.RunListView.as_view(), name="run-list"),
    path("new/", views.RunCreateView.as_view(), name="run-create"),
    path("<id:run_id>/", views.RunDetailView.as_view(), name="run-detail"),
    path("<id:run_id>/cancel/", views.RunCancelView.as_view(), name="run-cancel"),
]
