"""A study as a Label Studio project: its tasks in the JSON "Export -> JSON" writes (and
"Import" reads back), and the labelling config they fit. The shapes are Label Studio's
documented task format (docs/source/includes/task_format.md of HumanSignal/label-studio):

- data.video: the clip's media route, absolute; data.clip_id / youtube_id / start_seconds
  say which clip it is (the route's id is opaque, as raters must not learn the clip id);
- predictions: the study's proposal set, model_version its name, one `choices` result with
  every proposed label (its `meta.scores` each label's score, as the ML backend answers),
  the result's and the prediction's score the best;
- annotations: one per completed rating, completed_by the rater ({"id", "email"} when the
  rater has an email), one `choices` result with the labels the rater marked present.

Pure functions over the rows of annotator.selectors.study_label_studio_rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from xml.sax.saxutils import quoteattr

from annotator.selectors.label_studio import LabelStudioClip, LabelStudioRating

FROM_NAME, TO_NAME = "labels", "video"
FORMATS = {"json": "application/json", "xml": "application/xml"}


def label_studio_config(names: Sequence[str]) -> str:
    """<View> with the video and a multiple-choice Choices tag of every label."""
    choices = "\n".join(f"    <Choice value={quoteattr(name)}/>" for name in names)
    return (
        "<View>\n"
        f'  <Video name="{TO_NAME}" value="${TO_NAME}"/>\n'
        f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="multiple" showInLine="true">\n'
        f"{choices}\n"
        "  </Choices>\n"
        "</View>\n"
    )


def label_studio_tasks(
    clips: Sequence[LabelStudioClip], *, model_version: str, media_url: Callable[[int], str]
) -> list[dict]:
    """One task per study clip, its id the study clip's; `media_url(study_clip_id)` is the
    absolute URL of its video."""
    return [_task(clip, model_version=model_version, media_url=media_url) for clip in clips]


def label_studio_json(tasks: list[dict]) -> str:
    return json.dumps(tasks, ensure_ascii=False, allow_nan=False, indent=1) + "\n"


def _choices(region_id: str, labels: Sequence[str]) -> dict:
    return {
        "id": region_id,
        "from_name": FROM_NAME,
        "to_name": TO_NAME,
        "type": "choices",
        "value": {"choices": list(labels)},
    }


def _task(clip: LabelStudioClip, *, model_version: str, media_url: Callable[[int], str]) -> dict:
    data: dict = {TO_NAME: media_url(clip.study_clip_id), "clip_id": clip.clip_id}
    if clip.youtube_id:
        data["youtube_id"] = clip.youtube_id
    if clip.start_seconds is not None:
        data["start_seconds"] = clip.start_seconds
    task: dict = {"id": clip.study_clip_id, "data": data, "predictions": [], "annotations": []}
    if clip.proposals:
        # One region holding every proposed label, as Label Studio itself stores a multiple
        # Choices answer; each label's score travels in the region's meta, as the ML backend's.
        region = _choices(f"p{clip.study_clip_id}", [label for label, _ in clip.proposals])
        prediction: dict = {"model_version": model_version, "result": [region]}
        scores = {label: score for label, score in clip.proposals if score is not None}
        if scores:
            region["score"] = prediction["score"] = max(scores.values())
            region["meta"] = {"scores": scores}
        task["predictions"].append(prediction)
    for position, rating in enumerate(clip.ratings, start=1):
        task["annotations"].append(_annotation(clip, rating, position))
    return task


def _annotation(clip: LabelStudioClip, rating: LabelStudioRating, position: int) -> dict:
    moment = rating.submitted_at.isoformat().replace("+00:00", "Z")
    annotation = {
        "id": clip.study_clip_id * 1000 + position,
        "completed_by": {"id": rating.rater_id, "email": rating.email} if rating.email else rating.rater_id,
        "result": [_choices(f"a{clip.study_clip_id}-{position}", rating.present)] if rating.present else [],
        "was_cancelled": False,
        "ground_truth": False,
        "created_at": moment,
        "updated_at": moment,
        "task": clip.study_clip_id,
    }
    if rating.seconds is not None:
        annotation["lead_time"] = rating.seconds
    return annotation
