"""annotator's models, by module: datasets, clips and proposals (catalog), studies and
ratings (studies), background jobs (jobs), and the researcher's control of a running study
(control)."""

from annotator.models.catalog import (
    Category,
    Clip,
    ClipEvidence,
    ClipLabel,
    Dataset,
    GoldLabel,
    Modality,
    Proposal,
    ProposalSet,
    Taxonomy,
)
from annotator.models.control import (
    Adjudication,
    QualificationAnswer,
    QualificationAttempt,
    QualificationClip,
    RatingVersion,
    StudyEvent,
    StudyRater,
)
from annotator.models.jobs import ImportJob, SpectrogramJob
from annotator.models.studies import (
    Judgment,
    RaterGoldTally,
    Rating,
    Reservation,
    Study,
    StudyClip,
    StudyClipLabel,
)

__all__ = [
    "Adjudication",
    "Category",
    "Clip",
    "ClipEvidence",
    "ClipLabel",
    "Dataset",
    "GoldLabel",
    "ImportJob",
    "Judgment",
    "Modality",
    "Proposal",
    "ProposalSet",
    "QualificationAnswer",
    "QualificationAttempt",
    "QualificationClip",
    "Rating",
    "RaterGoldTally",
    "RatingVersion",
    "Reservation",
    "SpectrogramJob",
    "Study",
    "StudyClip",
    "StudyClipLabel",
    "StudyEvent",
    "StudyRater",
    "Taxonomy",
]
