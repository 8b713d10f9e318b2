"""Pages of annotator, mounted at the site root."""

from django.urls import path

import config.converters  # noqa: F401  (registers the <id:...> converter)
from annotator import adjudication_views, control_views, import_views, views

app_name = "annotator"
urlpatterns = [
    path("rate/", views.RaterHomeView.as_view(), name="rater-home"),
    path("rate/<id:study_id>/", views.RatePageView.as_view(), name="rate"),
    path("rate/<id:study_id>/categories", views.CategorySuggestView.as_view(), name="rate-categories"),
    path("rate/<id:study_id>/qualify/", control_views.QualificationPageView.as_view(), name="qualify"),
    path("studies/", views.StudyListView.as_view(), name="study-list"),
    path("studies/new/", views.StudyCreateView.as_view(), name="study-create"),
    path("studies/<id:study_id>/", views.StudyDetailView.as_view(), name="study-detail"),
    path("studies/<id:study_id>/adjudicate/", adjudication_views.AdjudicatePageView.as_view(), name="adjudicate"),
    path("datasets/new/", import_views.DatasetCreateView.as_view(), name="dataset-create"),
    path("datasets/<id:dataset_id>/import/", import_views.DatasetImportView.as_view(), name="dataset-import"),
    path("imports/<id:job_id>/", import_views.ImportJobDetailView.as_view(), name="import-job-detail"),
    path("media/clips/<id:study_clip_id>/", views.ClipMediaView.as_view(), name="clip-media"),
    path(
        "media/clips/<id:study_clip_id>/spectrogram.json", views.ClipSpectrogramView.as_view(), name="clip-spectrogram"
    ),
    path("media/clips/<id:study_clip_id>/heatmap.png", views.ClipHeatmapView.as_view(), name="clip-heatmap"),
    path(
        "media/qualification/<id:study_id>/<id:position>/",
        control_views.QualificationMediaView.as_view(),
        name="qualification-media",
    ),
]
