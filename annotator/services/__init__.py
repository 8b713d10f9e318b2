"""Write paths of the annotator: creating studies, serving the rating queue, storing ratings.

One module per concern; every service is re-exported here, so callers write
`services.<name>(...)`:
- studies: creation (sampling, gold clips, the qualification set, shown labels), raters
- standing: steering a running study: pausing, resuming, removing raters (and automatic
  pausing on gold accuracy or decoy acceptance); pausing, resuming, closing, reopening it
- qualification: a rater's pass through the study's qualification set; retry, admit
- queue: next clip (reserve), release, purging lapsed reservations, the completed_count
  ordering hint; its docstring states the queue's concurrency and expiry rules
- ratings: submit; revisions: a rater revising one of their recent ratings (versioned);
  answers: checking a rating's answers against the labels shown;
  clip_labels: what a rating changes about its clip's labels; settling: the rules of the
  'settled' queue (when a label and a clip's label set are decided)
- gold: known truth per label (a gold file, or an earlier study's consensus)
- adjudication: the researcher's decision on a contested label, over the raters' vote
- audit: the trail of researcher actions on a study (study_event_record)
- sharing: a dataset's owner and the researchers it is shared with
- imports: creating datasets and the import jobs the pages and the API start, Label Studio
  exports among them (run by the
  `annotator.import_run` task); media_uploads: uploaded media files, whole or in chunks

`next` and `submit` run on every rater click: their statements are few and none grows with
the study's size.
"""

from annotator.importers.gold import gold_labels_import, gold_promote_from_study
from annotator.services.adjudication import ADJUDICATED_MODALITIES, MAX_NOTE, adjudication_clear, label_adjudicate
from annotator.services.answers import ANSWERS, MAX_ADDED, MAX_ANSWERS, MODALITIES
from annotator.services.audit import study_event_record
from annotator.services.imports import (
    clips_import_start,
    dataset_create,
    gold_import_start,
    import_job_fail,
    import_job_run,
    label_studio_import_start,
    media_folder_resolve,
    media_import_start,
    proposals_import_start,
    taxonomy_import_start,
)
from annotator.services.media_uploads import (
    MediaFileResult,
    media_chunk_received,
    media_chunk_store,
    media_files_store,
    media_upload_folder,
)
from annotator.services.prefetch import clip_ahead_for_rater
from annotator.services.queue import (
    CANDIDATES_PER_PASS,
    QUEUE_PASSES,
    clip_next_for_rater,
    require_active,
    require_standing,
    reservation_release,
    reservations_purge,
    study_clip_counts_refresh,
)
from annotator.services.ratings import MAX_SECONDS_SPENT, rating_submit
from annotator.services.revisions import REVISABLE_RATINGS, rating_revise
from annotator.services.sharing import dataset_claim, dataset_owner_set, dataset_share
from annotator.services.spectrogram_jobs import spectrogram_job_fail, spectrogram_job_run, spectrogram_job_start
from annotator.services.standing import (
    rater_auto_pause_check,
    rater_pause,
    rater_remove,
    rater_resume,
    study_close,
    study_pause,
    study_reopen,
    study_resume,
)
from annotator.services.studies import study_add_raters, study_create

__all__ = [
    "ADJUDICATED_MODALITIES",
    "MAX_NOTE",
    "adjudication_clear",
    "label_adjudicate",
    "MediaFileResult",
    "clips_import_start",
    "dataset_create",
    "gold_import_start",
    "import_job_fail",
    "import_job_run",
    "label_studio_import_start",
    "media_chunk_received",
    "media_chunk_store",
    "media_files_store",
    "media_folder_resolve",
    "media_import_start",
    "media_upload_folder",
    "proposals_import_start",
    "taxonomy_import_start",
    "ANSWERS",
    "CANDIDATES_PER_PASS",
    "MAX_ADDED",
    "MAX_ANSWERS",
    "MAX_SECONDS_SPENT",
    "MODALITIES",
    "QUEUE_PASSES",
    "clip_ahead_for_rater",
    "clip_next_for_rater",
    "dataset_claim",
    "dataset_owner_set",
    "dataset_share",
    "gold_labels_import",
    "gold_promote_from_study",
    "rating_submit",
    "REVISABLE_RATINGS",
    "rating_revise",
    "reservation_release",
    "require_active",
    "require_standing",
    "reservations_purge",
    "spectrogram_job_fail",
    "spectrogram_job_run",
    "spectrogram_job_start",
    "study_add_raters",
    "study_clip_counts_refresh",
    "study_close",
    "study_create",
    "rater_auto_pause_check",
    "rater_pause",
    "rater_remove",
    "rater_resume",
    "study_pause",
    "study_reopen",
    "study_resume",
    "study_event_record",
]
