"""REST API of the annotator: one APIView per operation, translating requests into selector
and service calls. Raters reach only their own queue; researchers their own studies."""

from annotator.apis.adjudication import AdjudicationClearApi, ContestedLabelListApi, LabelAdjudicateApi
from annotator.apis.auth import AuthTokenObtainApi, MeApi, QueueApi, QueueTokenAuthentication, QueueTokenScheme
from annotator.apis.catalog import (
    ClipDetailApi,
    ClipListApi,
    DatasetDetailApi,
    DatasetListApi,
    DatasetShareApi,
    ProposalSetListApi,
)
from annotator.apis.control import (
    QualificationAdmitApi,
    QualificationRetryApi,
    StudyEventListApi,
    StudyPauseApi,
    StudyRaterPauseApi,
    StudyRaterRemoveApi,
    StudyRaterResumeApi,
    StudyRaterStandingListApi,
    StudyReopenApi,
    StudyResumeApi,
)
from annotator.apis.imports import (
    ClipsImportApi,
    ClipsImportInputSerializer,
    DatasetCreateApi,
    GoldImportApi,
    GoldImportInputSerializer,
    ImportJobDetailApi,
    ImportJobErrorsApi,
    ImportJobListApi,
    LabelStudioImportApi,
    LabelStudioImportInputSerializer,
    MediaImportApi,
    MediaImportInputSerializer,
    ProposalsImportApi,
    ProposalsImportInputSerializer,
    TaxonomyImportApi,
    TaxonomyListApi,
)
from annotator.apis.media_uploads import MediaChunkUploadApi, MediaUploadApi
from annotator.apis.qualification import QualificationAnswerApi, QualificationStatusApi
from annotator.apis.queue import (
    ClipPayloadSerializer,
    RaterProgressApi,
    RaterStudyListApi,
    RatingSubmitApi,
    ReservationReleaseApi,
    StudyClipDetailApi,
    StudyClipNextApi,
)
from annotator.apis.revisions import RaterHistoryApi, RatingDetailApi, RatingReviseApi, RatingVersionListApi
from annotator.apis.studies import (
    StudyCloseApi,
    StudyCreateApi,
    StudyCreateInputSerializer,
    StudyDetailApi,
    StudyJudgmentListApi,
    StudyListApi,
    StudyOutputSerializer,
    StudyProgressApi,
    StudyRatersAddApi,
)

__all__ = [
    "AdjudicationClearApi", "ContestedLabelListApi", "LabelAdjudicateApi",
    "AuthTokenObtainApi", "ClipDetailApi", "ClipListApi", "ClipPayloadSerializer", "DatasetDetailApi",
    "DatasetListApi", "DatasetShareApi", "MeApi", "ProposalSetListApi", "QueueApi", "QueueTokenAuthentication",
    "QueueTokenScheme",
    "RaterProgressApi", "RaterStudyListApi", "RatingSubmitApi", "ReservationReleaseApi", "StudyClipDetailApi",
    "StudyClipNextApi", "StudyCloseApi", "StudyCreateApi", "StudyCreateInputSerializer", "StudyDetailApi",
    "StudyJudgmentListApi", "StudyListApi", "StudyOutputSerializer", "StudyProgressApi", "StudyRatersAddApi",
    "ClipsImportApi", "ClipsImportInputSerializer", "DatasetCreateApi", "GoldImportApi", "GoldImportInputSerializer",
    "ImportJobDetailApi", "ImportJobErrorsApi", "ImportJobListApi", "MediaChunkUploadApi", "MediaImportApi",
    "MediaImportInputSerializer", "MediaUploadApi", "ProposalsImportApi", "ProposalsImportInputSerializer",
    "TaxonomyImportApi", "TaxonomyListApi", "LabelStudioImportApi", "LabelStudioImportInputSerializer",
    "QualificationAdmitApi", "QualificationAnswerApi", "QualificationRetryApi", "QualificationStatusApi",
    "StudyEventListApi", "StudyPauseApi", "StudyRaterPauseApi", "StudyRaterRemoveApi", "StudyRaterResumeApi",
    "StudyRaterStandingListApi", "StudyReopenApi", "StudyResumeApi",
    "RaterHistoryApi", "RatingDetailApi", "RatingReviseApi", "RatingVersionListApi",
]  # fmt: skip
