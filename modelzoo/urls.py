from django.urls import path

from modelzoo import views

app_name = "modelzoo"
urlpatterns = [
    path("", views.RunListView.as_view(), name="run-list"),
    path("new/", views.RunCreateView.as_view(), name="run-create"),
    path("<int:run_id>/", views.RunDetailView.as_view(), name="run-detail"),
    path("<int:run_id>/cancel/", views.RunCancelView.as_view(), name="run-cancel"),
]
