"""The matrix's rows for annotator's routes: its API (accounts, catalogue, studies, imports, the
rating queue), its pages and clip media."""

from __future__ import annotations

from tests.authorization.cells import (
    CLIP,
    DATASET,
    IMPORT_JOB,
    LOGIN,
    RATERS,
    REDIRECT,
    RESERVED,
    STUDY,
    STUDY_NAME,
    Rule,
    answers_body,
    clips_form_body,
    credentials_body,
    new_dataset_body,
    new_dataset_form_body,
    new_study_body,
    researcher_api,
    researcher_page,
    row,
    share_body,
    study_clip_media,
    url,
    with_query,
)
from tests.authorization.world import ROLES

ANNOTATOR_RULES: list[Rule] = [
    # --- annotator API: accounts, catalogue, studies ------------------------------------
    Rule(
        "annotator-api:auth-token",
        url("annotator-api:auth-token"),
        row(anonymous=400, **dict.fromkeys(ROLES[1:], 200)),
        method="post",
        body=credentials_body,
    ),
    Rule("annotator-api:me", url("annotator-api:me"), row(anonymous=401, **dict.fromkeys(ROLES[1:], 200))),
    Rule(
        "annotator-api:rater-studies",
        url("annotator-api:rater-studies"),
        row(anonymous=401, **dict.fromkeys(RATERS, 200), owner=403, other_researcher=403, admin=200),
        hides=STUDY_NAME,
    ),
    Rule(
        "annotator-api:dataset-list",
        url("annotator-api:dataset-list"),
        researcher_api(other=200),
        hides=lambda w: w.dataset.name,
    ),
    Rule("annotator-api:dataset-detail", url("annotator-api:dataset-detail", DATASET), researcher_api()),
    Rule(
        "annotator-api:dataset-share",
        url("annotator-api:dataset-share", DATASET),
        researcher_api(),
        method="post",
        body=share_body,
    ),
    Rule(
        "annotator-api:clip-list",
        url("annotator-api:clip-list"),
        researcher_api(other=200),
        hides=lambda w: w.reserved.clip.clip_id,
    ),
    Rule("annotator-api:clip-detail", url("annotator-api:clip-detail", CLIP), researcher_api()),
    Rule(
        "annotator-api:proposal-set-list",
        url("annotator-api:proposal-set-list"),
        researcher_api(other=200),
        hides=lambda w: w.study.proposal_set.name,
    ),
    Rule("annotator-api:study-list", url("annotator-api:study-list"), researcher_api(other=200), hides=STUDY_NAME),
    Rule(
        "annotator-api:study-create",
        url("annotator-api:study-create"),
        researcher_api(owner=201, other=400),  # another's dataset is no choice of theirs
        method="post",
        body=new_study_body,
    ),
    Rule("annotator-api:study-detail", url("annotator-api:study-detail", STUDY), researcher_api()),
    Rule("annotator-api:study-close", url("annotator-api:study-close", STUDY), researcher_api(), method="post"),
    Rule(
        "annotator-api:study-raters-add",
        url("annotator-api:study-raters-add", STUDY),
        researcher_api(),
        method="post",
        body=lambda w, role: {"raters": ["matrix-rater-out"]},
    ),
    Rule("annotator-api:study-progress", url("annotator-api:study-progress", STUDY), researcher_api()),
    Rule("annotator-api:study-judgments", url("annotator-api:study-judgments", STUDY), researcher_api()),
    # --- annotator API: imports (researchers; into datasets they own) -----------------------
    Rule("annotator-api:taxonomy-list", url("annotator-api:taxonomy-list"), researcher_api(other=200)),
    Rule(
        "annotator-api:taxonomy-import",
        url("annotator-api:taxonomy-import"),
        researcher_api(202, other=202),  # a new taxonomy is anyone's to import
        method="post",
        body=lambda w, role: {"builtin": "llp"},
        form=True,
    ),
    Rule(
        "annotator-api:dataset-create",
        url("annotator-api:dataset-create"),
        researcher_api(201, other=201),
        method="post",
        body=new_dataset_body,
    ),
    # Without a file: the owner's request is refused on its fields, another's dataset is not found.
    Rule(
        "annotator-api:clips-import",
        url("annotator-api:clips-import", DATASET),
        researcher_api(owner=400),
        method="post",
        body=lambda w, role: {"format": "generic"},
        form=True,
    ),
    Rule(
        "annotator-api:proposals-import",
        url("annotator-api:proposals-import", DATASET),
        researcher_api(owner=400),
        method="post",
        body=lambda w, role: {"name": "matrix file proposals"},
        form=True,
    ),
    Rule(
        "annotator-api:gold-import",
        url("annotator-api:gold-import", DATASET),
        researcher_api(owner=400),
        method="post",
        form=True,
    ),
    Rule(
        "annotator-api:label-studio-import",
        url("annotator-api:label-studio-import", DATASET),
        researcher_api(owner=400),
        method="post",
        form=True,
    ),
    # Nothing uploaded yet and no folder named: 400 for the owner.
    Rule(
        "annotator-api:media-import",
        url("annotator-api:media-import", DATASET),
        researcher_api(owner=400),
        method="post",
    ),
    Rule(
        "annotator-api:media-upload",
        url("annotator-api:media-upload", DATASET),
        researcher_api(owner=400),
        method="post",
        form=True,
    ),
    Rule(
        "annotator-api:media-chunk-upload",
        url("annotator-api:media-chunk-upload", DATASET),
        researcher_api(owner=400),
        method="post",
        body=lambda w, role: {"name": "c0.mp4", "offset": 0, "total_size": 10},
        form=True,
    ),
    Rule(
        "annotator-api:media-chunk-upload",
        with_query(url("annotator-api:media-chunk-upload", DATASET), lambda w: "name=c0.mp4"),
        researcher_api(),
    ),
    Rule(
        "annotator-api:import-job-list",
        url("annotator-api:import-job-list"),
        researcher_api(other=200),
        hides=lambda w: w.import_job.file_name,
    ),
    Rule("annotator-api:import-job-detail", url("annotator-api:import-job-detail", IMPORT_JOB), researcher_api()),
    Rule("annotator-api:import-job-errors", url("annotator-api:import-job-errors", IMPORT_JOB), researcher_api()),
    # --- annotator API: the rating queue ------------------------------------------------
    # Reserving is a POST; a GET changes nothing and is not allowed (405).
    Rule(
        "annotator-api:study-next",
        url("annotator-api:study-next", STUDY),
        row(anonymous=401, rater_in=200, rater_out=404, other_rater=200, owner=403, other_researcher=403, admin=404),
        method="post",
    ),
    Rule(
        "annotator-api:study-next",
        url("annotator-api:study-next", STUDY),
        row(anonymous=401, rater_in=405, rater_out=405, other_rater=405, owner=403, other_researcher=403, admin=405),
    ),
    Rule(
        "annotator-api:rater-progress",
        url("annotator-api:rater-progress", STUDY),
        row(anonymous=401, rater_in=200, rater_out=404, other_rater=200, owner=403, other_researcher=403, admin=404),
    ),
    Rule(
        "annotator-api:study-clip-detail",
        url("annotator-api:study-clip-detail", RESERVED),
        row(anonymous=401, rater_in=200, rater_out=404, other_rater=404, owner=200, other_researcher=404, admin=200),
    ),
    Rule(
        "annotator-api:rating-submit",
        url("annotator-api:rating-submit", RESERVED),
        # A rater of the study without a live reservation (nor a rating) gets the queue's one
        # answer, 409 lapsed; whoever does not rate the study (an admin too) finds nothing.
        row(anonymous=401, rater_in=200, rater_out=404, other_rater=409, owner=403, other_researcher=403, admin=404),
        method="post",
        body=answers_body,
    ),
    Rule(
        "annotator-api:reservation-release",
        url("annotator-api:reservation-release", RESERVED),
        # Releasing what one does not hold is a no-op for any rater of the study.
        row(anonymous=401, rater_in=204, rater_out=404, other_rater=204, owner=403, other_researcher=403, admin=404),
        method="post",
    ),
    # --- annotator pages and clip media ---------------------------------------------------
    Rule(
        "annotator:rater-home",
        url("annotator:rater-home"),
        row(anonymous=LOGIN, **dict.fromkeys(RATERS, 200), owner=403, other_researcher=403, admin=200),
        hides=STUDY_NAME,
    ),
    # GET shows the held clip (rater_in) or the page that asks for one (other_rater), reserving
    # nothing; POST reserves and answers 303 to the GET.
    Rule(
        "annotator:rate",
        url("annotator:rate", STUDY),
        row(anonymous=LOGIN, rater_in=200, rater_out=404, other_rater=200, owner=403, other_researcher=403, admin=404),
    ),
    Rule(
        "annotator:rate",
        url("annotator:rate", STUDY),
        row(anonymous=LOGIN, rater_in=303, rater_out=404, other_rater=303, owner=403, other_researcher=403, admin=404),
        method="post",
        form=True,
    ),
    Rule(
        "annotator:rate-categories",
        with_query(url("annotator:rate-categories", STUDY), lambda w: "q=dog"),
        row(anonymous=LOGIN, rater_in=200, rater_out=404, other_rater=200, owner=403, other_researcher=403, admin=404),
    ),
    Rule("annotator:study-list", url("annotator:study-list"), researcher_page(other=200), hides=STUDY_NAME),
    Rule("annotator:study-create", url("annotator:study-create"), researcher_page(other=200)),
    Rule(
        "annotator:study-create",
        url("annotator:study-create"),
        researcher_page(owner=REDIRECT, other=400),
        method="post",
        body=new_study_body,
        form=True,
    ),
    Rule("annotator:study-detail", url("annotator:study-detail", STUDY), researcher_page()),
    Rule("annotator:dataset-create", url("annotator:dataset-create"), researcher_page(other=200)),
    Rule(
        "annotator:dataset-create",
        url("annotator:dataset-create"),
        researcher_page(owner=REDIRECT, other=REDIRECT),  # any researcher creates datasets of their own
        method="post",
        body=new_dataset_form_body,
        form=True,
    ),
    Rule("annotator:dataset-import", url("annotator:dataset-import", DATASET), researcher_page()),
    Rule(
        "annotator:dataset-import",
        url("annotator:dataset-import", DATASET),
        researcher_page(owner=400),
        method="post",
        body=clips_form_body,
        form=True,
    ),
    Rule("annotator:import-job-detail", url("annotator:import-job-detail", IMPORT_JOB), researcher_page()),
    Rule("annotator:clip-media", url("annotator:clip-media", RESERVED), study_clip_media()),
    Rule("annotator:clip-spectrogram", url("annotator:clip-spectrogram", RESERVED), study_clip_media()),
    Rule("annotator:clip-heatmap", url("annotator:clip-heatmap", RESERVED), study_clip_media()),
]
