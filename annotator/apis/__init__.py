"""REST API of the annotator: one APIView per operation, translating requests into selector
and service calls. Raters reach only their own queue; researchers their own studies."""

from annotator.apis.auth import AuthTokenObtainApi, MeApi, QueueApi, QueueTokenAuthentication, QueueTokenScheme
from annotator.apis.catalog import (
    ClipDetailApi,
    ClipListApi,
    DatasetDetailApi,
    DatasetListApi,
    DatasetShareApi,
    ProposalSetListApi,
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
    MediaChunkUploadApi,
    MediaImportApi,
    MediaImportInputSerializer,
    MediaUploadApi,
    ProposalsImportApi,
    ProposalsImportInputSerializer,
    TaxonomyImportApi,
    TaxonomyListApi,
)
from annotator.apis.queue import (
    ClipPayloadSerializer,
    RaterProgressApi,
    RaterStudyListApi,
    RatingSubmitApi,
    ReservationReleaseApi,
    StudyClipDetailApi,
    StudyClipNextApi,
)
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
]  # fmt: skip
