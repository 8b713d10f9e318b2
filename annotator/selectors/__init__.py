"""Read paths of the annotator: what raters may see of their queue, what researchers see of
their studies, and the flat judgment rows evaluation works from.

One module per concern; every public name is re-exported here, so callers write
`selectors.<name>(...)`:
- catalog: datasets, clips and proposal sets as researchers browse them; who may use which
  dataset ("own or shared datasets, or all for an admin", written once)
- training_reads: the clip rows and class indices the model code reads (modelzoo)
- studies: who may see which study ("own studies, or all for an admin", written once)
- queue: the rater hot path (token, queue state, open clips, locks, a clip's load)
- payloads: what a rater sees (the allow-list of a clip's and a rating's fields)
- progress: how far a study is, for its rater and its researcher; judgment rows
- imports: the import jobs a researcher started; the taxonomies to build datasets on
- label_studio: a study's clips, proposals and ratings as a Label Studio export needs them
"""

from annotator.catalog import dataset_get as dataset_get_by_name
from annotator.catalog import proposal_set_get
from annotator.selectors.catalog import (
    clip_for_researcher,
    clip_label_names,
    clip_list,
    clips_for_researcher,
    clips_without_media_flags,
    dataset_for_owner,
    dataset_for_researcher,
    dataset_list,
    dataset_summary,
    datasets_for_researcher,
    media_flag_counts,
    proposal_set_list,
    proposal_sets_for_researcher,
    researcher_get,
)
from annotator.selectors.clip_labels import (
    ShownLabel,
    clip_gold_truth,
    gold_tallies,
    study_clip_labels,
    study_clip_votes,
)
from annotator.selectors.imports import (
    datasets_owned,
    import_job_errors,
    import_job_for_researcher,
    import_jobs_for_researcher,
    taxonomy_list,
)
from annotator.selectors.label_studio import LabelStudioClip, LabelStudioRating, study_label_studio_rows
from annotator.selectors.payloads import rating_payload, study_clip_media_url, study_clip_payload
from annotator.selectors.progress import rater_progress, study_gold_truth, study_judgments, study_progress
from annotator.selectors.queue import (
    ClipLoad,
    QueueState,
    rater_queue_state,
    study_clip_for_member,
    study_clip_for_rater,
    study_clip_for_update,
    study_clip_get,
    study_clip_load,
    study_clips_open_for_rater,
    user_for_token,
)
from annotator.selectors.studies import (
    rater_studies,
    studies_for_researcher,
    study_for_rater,
    study_for_researcher,
    study_get,
)
from annotator.selectors.training_reads import (
    ClipRow,
    category_names_by_index,
    clip_label_indices,
    clip_rows_by_pk,
    clips_media_ok,
    dataset_clip_row_count,
    dataset_clip_rows,
    dataset_missing_clip_ids,
    dataset_splits,
    taxonomy_num_classes,
)

__all__ = [
    "LabelStudioClip",
    "LabelStudioRating",
    "study_label_studio_rows",
    "datasets_owned",
    "import_job_errors",
    "import_job_for_researcher",
    "import_jobs_for_researcher",
    "taxonomy_list",
    "ClipLoad",
    "ShownLabel",
    "clip_gold_truth",
    "gold_tallies",
    "study_clip_labels",
    "study_clip_votes",
    "ClipRow",
    "QueueState",
    "category_names_by_index",
    "clip_for_researcher",
    "clip_label_indices",
    "clip_label_names",
    "clip_list",
    "clip_rows_by_pk",
    "clips_for_researcher",
    "clips_media_ok",
    "clips_without_media_flags",
    "dataset_clip_row_count",
    "dataset_clip_rows",
    "dataset_for_owner",
    "dataset_for_researcher",
    "dataset_get_by_name",
    "dataset_list",
    "dataset_missing_clip_ids",
    "dataset_splits",
    "dataset_summary",
    "datasets_for_researcher",
    "media_flag_counts",
    "proposal_set_get",
    "proposal_set_list",
    "proposal_sets_for_researcher",
    "researcher_get",
    "rater_progress",
    "rater_queue_state",
    "rater_studies",
    "rating_payload",
    "studies_for_researcher",
    "study_clip_for_member",
    "study_clip_for_rater",
    "study_clip_for_update",
    "study_clip_get",
    "study_clip_load",
    "study_clip_media_url",
    "study_clip_payload",
    "study_clips_open_for_rater",
    "study_for_rater",
    "study_for_researcher",
    "study_get",
    "study_gold_truth",
    "study_judgments",
    "study_progress",
    "taxonomy_num_classes",
    "user_for_token",
]
