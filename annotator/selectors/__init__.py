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
- adjudication: a study's contested labels (votes grouped in SQL, a page at a time) and
  the decisions on them
- label_studio: a study's clips, proposals and ratings as a Label Studio export needs them
- qualification: a rater's place in a study's qualification, every rater's results
- standing: one rater of a study by id, the study's audit trail
- history: a rater's recent ratings as they revise them, and the rule of which they may;
  a rating's versions for the study's owner; feedback: a rater's disagreements with the
  truth on a gold clip (the study option gold_feedback)
"""

from annotator.catalog import dataset_get as dataset_get_by_name
from annotator.catalog import proposal_set_get
from annotator.selectors.adjudication import (
    ContestedLabel,
    ContestedLabels,
    RaterAnswer,
    adjudication_target,
    study_adjudication_rows,
    study_contested_labels,
)
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
from annotator.selectors.feedback import GoldTruth, RatedAnswer, gold_disagreements, gold_truths, rating_feedback
from annotator.selectors.history import (
    REVISABLE_RATINGS,
    Refusal,
    rater_history,
    rater_recent_rating_ids,
    rating_answers,
    rating_detail,
    rating_for_rater,
    rating_for_study_owner,
    rating_versions,
    revision_refusal,
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
from annotator.selectors.qualification import (
    QualificationStatus,
    qualification_clip_for_member,
    qualification_results,
    qualification_status,
)
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
from annotator.selectors.standing import study_events, study_rater_get
from annotator.selectors.studies import (
    rater_studies,
    studies_for_researcher,
    study_for_member,
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
    "GoldTruth",
    "RatedAnswer",
    "gold_disagreements",
    "gold_truths",
    "rating_feedback",
    "REVISABLE_RATINGS",
    "Refusal",
    "rater_history",
    "rater_recent_rating_ids",
    "rating_answers",
    "rating_detail",
    "rating_for_rater",
    "rating_for_study_owner",
    "rating_versions",
    "revision_refusal",
    "ContestedLabel",
    "ContestedLabels",
    "RaterAnswer",
    "adjudication_target",
    "study_adjudication_rows",
    "study_contested_labels",
    "QualificationStatus",
    "qualification_clip_for_member",
    "qualification_results",
    "qualification_status",
    "study_events",
    "study_rater_get",
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
    "study_for_member",
    "study_for_rater",
    "study_for_researcher",
    "study_get",
    "study_gold_truth",
    "study_judgments",
    "study_progress",
    "taxonomy_num_classes",
    "user_for_token",
]
