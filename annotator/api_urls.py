"""Routes of the annotator API, mounted at /api/."""

from django.urls import path

import config.converters  # noqa: F401  (registers the <id:...> converter)
from annotator import apis

app_name = "annotator-api"

urlpatterns = [
    path("auth/token/", apis.AuthTokenObtainApi.as_view(), name="auth-token"),
    path("me/", apis.MeApi.as_view(), name="me"),
    path("me/studies/", apis.RaterStudyListApi.as_view(), name="rater-studies"),
    path("datasets/", apis.DatasetListApi.as_view(), name="dataset-list"),
    path("datasets/<id:dataset_id>/", apis.DatasetDetailApi.as_view(), name="dataset-detail"),
    path("datasets/<id:dataset_id>/share/", apis.DatasetShareApi.as_view(), name="dataset-share"),
    path("datasets/create/", apis.DatasetCreateApi.as_view(), name="dataset-create"),
    path("datasets/<id:dataset_id>/imports/clips/", apis.ClipsImportApi.as_view(), name="clips-import"),
    path("datasets/<id:dataset_id>/imports/media/", apis.MediaImportApi.as_view(), name="media-import"),
    path("datasets/<id:dataset_id>/imports/proposals/", apis.ProposalsImportApi.as_view(), name="proposals-import"),
    path("datasets/<id:dataset_id>/imports/gold/", apis.GoldImportApi.as_view(), name="gold-import"),
    path(
        "datasets/<id:dataset_id>/imports/label-studio/",
        apis.LabelStudioImportApi.as_view(),
        name="label-studio-import",
    ),
    path("datasets/<id:dataset_id>/media/", apis.MediaUploadApi.as_view(), name="media-upload"),
    path("datasets/<id:dataset_id>/media/chunks/", apis.MediaChunkUploadApi.as_view(), name="media-chunk-upload"),
    path("taxonomies/", apis.TaxonomyListApi.as_view(), name="taxonomy-list"),
    path("taxonomies/import/", apis.TaxonomyImportApi.as_view(), name="taxonomy-import"),
    path("imports/", apis.ImportJobListApi.as_view(), name="import-job-list"),
    path("imports/<id:job_id>/", apis.ImportJobDetailApi.as_view(), name="import-job-detail"),
    path("imports/<id:job_id>/errors.csv", apis.ImportJobErrorsApi.as_view(), name="import-job-errors"),
    path("clips/", apis.ClipListApi.as_view(), name="clip-list"),
    path("clips/<id:clip_id>/", apis.ClipDetailApi.as_view(), name="clip-detail"),
    path("proposal-sets/", apis.ProposalSetListApi.as_view(), name="proposal-set-list"),
    path("studies/", apis.StudyListApi.as_view(), name="study-list"),
    path("studies/create/", apis.StudyCreateApi.as_view(), name="study-create"),
    path("studies/<id:study_id>/", apis.StudyDetailApi.as_view(), name="study-detail"),
    path("studies/<id:study_id>/close/", apis.StudyCloseApi.as_view(), name="study-close"),
    path("studies/<id:study_id>/pause/", apis.StudyPauseApi.as_view(), name="study-pause"),
    path("studies/<id:study_id>/resume/", apis.StudyResumeApi.as_view(), name="study-resume"),
    path("studies/<id:study_id>/reopen/", apis.StudyReopenApi.as_view(), name="study-reopen"),
    path("studies/<id:study_id>/events/", apis.StudyEventListApi.as_view(), name="study-events"),
    path(
        "studies/<id:study_id>/rater-standings/", apis.StudyRaterStandingListApi.as_view(), name="study-rater-standings"
    ),
    path(
        "studies/<id:study_id>/raters/<id:rater_id>/pause/", apis.StudyRaterPauseApi.as_view(), name="study-rater-pause"
    ),
    path(
        "studies/<id:study_id>/raters/<id:rater_id>/resume/",
        apis.StudyRaterResumeApi.as_view(),
        name="study-rater-resume",
    ),
    path(
        "studies/<id:study_id>/raters/<id:rater_id>/remove/",
        apis.StudyRaterRemoveApi.as_view(),
        name="study-rater-remove",
    ),
    path(
        "studies/<id:study_id>/raters/<id:rater_id>/qualification-retry/",
        apis.QualificationRetryApi.as_view(),
        name="qualification-retry",
    ),
    path(
        "studies/<id:study_id>/raters/<id:rater_id>/qualification-admit/",
        apis.QualificationAdmitApi.as_view(),
        name="qualification-admit",
    ),
    path("studies/<id:study_id>/qualification/", apis.QualificationStatusApi.as_view(), name="qualification-status"),
    path(
        "studies/<id:study_id>/qualification/answer/",
        apis.QualificationAnswerApi.as_view(),
        name="qualification-answer",
    ),
    path("studies/<id:study_id>/raters/", apis.StudyRatersAddApi.as_view(), name="study-raters-add"),
    path("studies/<id:study_id>/progress/", apis.StudyProgressApi.as_view(), name="study-progress"),
    path("studies/<id:study_id>/judgments/", apis.StudyJudgmentListApi.as_view(), name="study-judgments"),
    path("studies/<id:study_id>/contested/", apis.ContestedLabelListApi.as_view(), name="study-contested"),
    path("studies/<id:study_id>/adjudications/", apis.LabelAdjudicateApi.as_view(), name="label-adjudicate"),
    path(
        "studies/<id:study_id>/adjudications/<id:study_clip_id>/<id:category_id>/",
        apis.AdjudicationClearApi.as_view(),
        name="adjudication-clear",
    ),
    path("studies/<id:study_id>/next/", apis.StudyClipNextApi.as_view(), name="study-next"),
    path("studies/<id:study_id>/my-progress/", apis.RaterProgressApi.as_view(), name="rater-progress"),
    path("studies/<id:study_id>/history/", apis.RaterHistoryApi.as_view(), name="rater-history"),
    path(
        "studies/<id:study_id>/ratings/<id:rating_id>/versions/",
        apis.RatingVersionListApi.as_view(),
        name="study-rating-versions",
    ),
    path("ratings/<id:rating_id>/", apis.RatingDetailApi.as_view(), name="rating-detail"),
    path("ratings/<id:rating_id>/revise/", apis.RatingReviseApi.as_view(), name="rating-revise"),
    path("study-clips/<id:study_clip_id>/", apis.StudyClipDetailApi.as_view(), name="study-clip-detail"),
    path("study-clips/<id:study_clip_id>/submit/", apis.RatingSubmitApi.as_view(), name="rating-submit"),
    path("study-clips/<id:study_clip_id>/release/", apis.ReservationReleaseApi.as_view(), name="reservation-release"),
]
