"""Reading a Label Studio export (the JSON list "Export -> JSON" writes) of a Choices
labelling project over videos: each task's clip, its predictions and its annotations.

The shapes follow Label Studio's documented task format (docs/source/includes/task_format.md
and guide/predictions.md of HumanSignal/label-studio):

    {"id": 1, "data": {"video": "/data/upload/3/a1b2c3d4-<clip>.mp4"},
     "predictions": [{"model_version": "m1", "score": 0.8,
                      "result": [{"type": "choices", "score": 0.9, "value": {"choices": ["dog"]}}]}],
     "annotations": [{"completed_by": 10 | {"id": 10, "email": "a@b.org"}, "was_cancelled": false,
                      "lead_time": 4.2, "created_at": "2021-03-09T22:16:08Z",
                      "result": [{"type": "choices", "value": {"choices": ["dog", "cat"]}}]}]}

A result item's own `score` is its labels' score; without one, the prediction's `score`
(which "applies to the entire prediction") is. Nothing here touches the database: label
names are checked against the taxonomy by the importer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from numbers import Real
from pathlib import PurePosixPath
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from annotator.importers.clip_formats import LIMITS, media_suffix_strip, vggsound_id_parts
from annotator.importers.proposal_files import json_list_items
from annotator.importers.report import RowError

DEFAULT_DATA_KEY = "video"
#: Label Studio names an uploaded file `<8 hex digits>-<original name>` under /data/upload/.
UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{8}-")
_OBJECT_TAG = re.compile(r"<(?:Video|Audio|AudioPlus)\b[^>]*?\bvalue\s*=\s*[\"']\$([A-Za-z_][A-Za-z0-9_]*)[\"']")
_CHOICES_TAG = re.compile(r"<Choices\b[^>]*?\bname\s*=\s*[\"']([^\"'<>]+)[\"']")
MAX_CONFIG_CHARS = 200_000
MAX_EMAIL = 150  # the email becomes the username of a rater created for it
MAX_MODEL_VERSION = 200
# As services.answers.MAX_ANSWERS and services.ratings.MAX_SECONDS_SPENT (importers do not
# import the services package, which imports them).
MAX_ANSWERS = 200
MAX_SECONDS_SPENT = 24 * 3600.0


RATER_USERNAME = re.compile(r"^label-studio-([0-9]{1,19})$")


def rater_username(ls_id: int) -> str:
    """The username of a rater created for a Label Studio user id the export gives no email for."""
    return f"label-studio-{ls_id}"


def rater_ls_id(*, username: str, pk: int) -> int:
    """The Label Studio user id an export names a rater by: the one an import created them
    for (rater_username), else their own id."""
    match = RATER_USERNAME.match(username)
    return int(match.group(1)) if match else pk


@dataclass(frozen=True)
class LabelConfig:
    """What the importer needs of a labelling config: the task.data key of the media, and the
    Choices tags whose results are labels (empty: every `choices` result)."""

    data_key: str = DEFAULT_DATA_KEY
    choices_names: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LsRater:
    """Who completed an annotation: Label Studio's user id, and the email where the export
    gives it (`completed_by` as an object)."""

    ls_id: int | None
    email: str

    @property
    def key(self) -> str:
        return self.email or f"id:{self.ls_id}"


@dataclass(frozen=True)
class LsPrediction:
    model_version: str
    scores: dict[str, float | None]  # label -> score, in the order given


@dataclass(frozen=True)
class LsAnnotation:
    rater: LsRater
    labels: tuple[str, ...]
    seconds: float | None
    created_at: datetime | None


@dataclass(frozen=True)
class LsTask:
    line: int
    clip_id: str
    youtube_id: str
    start_seconds: float | None
    predictions: tuple[LsPrediction, ...]
    annotations: tuple[LsAnnotation, ...]
    cancelled: int


def label_config_parse(text: str) -> LabelConfig:
    """The media key of the config's <Video value="$key"/> (or Audio) and its Choices names;
    the defaults for an empty config. Read with patterns, not an XML parser: only two
    attributes matter, and no entity of an uploaded document is ever expanded."""
    text = (text or "")[:MAX_CONFIG_CHARS]
    media = _OBJECT_TAG.search(text)
    return LabelConfig(
        data_key=media.group(1) if media else DEFAULT_DATA_KEY,
        choices_names=frozenset(_CHOICES_TAG.findall(text)),
    )


def label_studio_tasks(text: str, *, config: LabelConfig) -> tuple[list[LsTask], list[RowError]]:
    """The tasks of an export, and the errors of what could not be read (a task without a
    usable media reference is skipped; a bad prediction or annotation is, the rest of its
    task kept). Invalid JSON or a top level that is no list: ImportInputError."""
    tasks: list[LsTask] = []
    errors: list[RowError] = []
    for line, item in json_list_items(text, what="a Label Studio JSON export"):
        task = _task(line, item, config, errors)
        if task is not None:
            tasks.append(task)
    return tasks, errors


def _task(line: int, item: object, config: LabelConfig, errors: list[RowError]) -> LsTask | None:
    if not isinstance(item, dict) or not isinstance(item.get("data"), dict):
        errors.append(RowError(line, 'a task must be an object with a "data" object'))
        return None
    data = item["data"]
    clip = _clip_fields(data, config.data_key)
    if isinstance(clip, str):
        errors.append(RowError(line, f"task {_task_ref(item)}: {clip}"))
        return None
    clip_id, youtube_id, start = clip
    where = f"task {_task_ref(item)} (clip {clip_id!r})"
    predictions = []
    for position, raw in enumerate(_list(item, "predictions", where, line, errors), start=1):
        prediction = _prediction(raw, config)
        if isinstance(prediction, str):
            errors.append(RowError(line, f"{where}, prediction {position}: {prediction}"))
        else:
            predictions.append(prediction)
    annotations, cancelled = [], 0
    for position, raw in enumerate(_list(item, "annotations", where, line, errors), start=1):
        if isinstance(raw, dict) and raw.get("was_cancelled") is True:
            cancelled += 1
            continue
        annotation = _annotation(raw, config)
        if isinstance(annotation, str):
            errors.append(RowError(line, f"{where}, annotation {position}: {annotation}"))
        else:
            annotations.append(annotation)
    return LsTask(line, clip_id, youtube_id, start, tuple(predictions), tuple(annotations), cancelled)


def _task_ref(item: dict) -> str:
    task_id = item.get("id")
    return str(task_id) if isinstance(task_id, int) and not isinstance(task_id, bool) else "without id"


def _list(item: dict, key: str, where: str, line: int, errors: list[RowError]) -> list:
    value = item.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(RowError(line, f"{where}: {key} must be a list"))
        return []
    return value


def clip_id_from_media(reference: str) -> str:
    """The clip id a media reference names: its file name without the media suffix, and
    without the `<8 hex>-` prefix Label Studio gives uploads. A local-storage URL
    (`/data/local-files/?d=folder/clip.mp4`) names the file in its `d` parameter."""
    parts = urlsplit(reference.strip())
    path = unquote(parts.path)
    local = parse_qs(parts.query).get("d")
    if local:
        path = local[0]
    name = PurePosixPath(path.replace("\\", "/")).name
    if "/data/upload/" in parts.path:
        name = UPLOAD_PREFIX.sub("", name, count=1)
    return media_suffix_strip(name)


def _clip_fields(data: dict, data_key: str) -> tuple[str, str, float | None] | str:
    """(clip_id, youtube_id, start) of a task's data, or an error message. An explicit
    `clip_id` (avlabel's own export carries one beside the media URL) wins over the file name."""
    reference = data.get(data_key)
    if not isinstance(reference, str) or not reference.strip():
        return f"data.{data_key[:50]} must be the video's URL or path"
    explicit = data.get("clip_id")
    clip_id = explicit.strip() if isinstance(explicit, str) and explicit.strip() else clip_id_from_media(reference)
    if not clip_id:
        return f"no clip id in data.{data_key} {reference[:100]!r}"
    if len(clip_id) > LIMITS["clip_id"]:
        return f"clip id is longer than {LIMITS['clip_id']} characters"
    youtube_id, start = data.get("youtube_id"), data.get("start_seconds")
    if isinstance(youtube_id, str) and youtube_id and len(youtube_id) <= LIMITS["youtube_id"]:
        if isinstance(start, Real) and not isinstance(start, bool) and math.isfinite(start) and 0 <= start <= 1e9:
            return clip_id, youtube_id, float(start)
        return clip_id, youtube_id, None
    parts = vggsound_id_parts(clip_id)
    if parts is None or len(parts[0]) > LIMITS["youtube_id"]:
        return clip_id, "", None
    return clip_id, parts[0], float(parts[1])


def _choice_results(raw: object, config: LabelConfig) -> list[tuple[list[str], object, dict]] | str:
    """[(labels, result score, per-label scores)] of the `choices` results of a prediction or
    annotation; the per-label scores are those of the region's `meta.scores` (avlabel's export
    and ML backend), {} where it has none."""
    if not isinstance(raw, dict):
        return "must be an object"
    result = raw.get("result", [])
    if not isinstance(result, list):
        return "result must be a list"
    found = []
    for entry in result:
        if not isinstance(entry, dict) or entry.get("type") != "choices":
            continue  # other controls of the config (a TextArea, a Rating) carry no labels
        if config.choices_names and entry.get("from_name") not in config.choices_names:
            continue
        value = entry.get("value")
        choices = value.get("choices") if isinstance(value, dict) else None
        if not isinstance(choices, list) or not all(isinstance(name, str) and name.strip() for name in choices):
            return "value.choices of a choices result must be a list of label names"
        if any(len(name) > LIMITS["label"] for name in choices):
            return f"a label is longer than {LIMITS['label']} characters"
        found.append(([name.strip() for name in choices], entry.get("score"), _label_scores(entry)))
    if sum(len(labels) for labels, _, _ in found) > MAX_ANSWERS:
        return f"more than {MAX_ANSWERS} labels"
    return found


def _prediction(raw: object, config: LabelConfig) -> LsPrediction | str:
    found = _choice_results(raw, config)
    if isinstance(found, str):
        return found
    model_version = raw.get("model_version") or ""
    if not isinstance(model_version, str | int) or isinstance(model_version, bool):
        return "model_version must be a string"
    model_version = str(model_version).strip()
    if len(model_version) > MAX_MODEL_VERSION:
        return f"model_version is longer than {MAX_MODEL_VERSION} characters"
    overall = raw.get("score")
    scores: dict[str, float | None] = {}
    for labels, region_score, label_scores in found:
        for name in labels:
            score = label_scores.get(name, overall if region_score is None else region_score)
            if score is not None and not _is_score(score):
                return f"score {str(score)[:40]} is not a number between 0 and 1"
            scores[name] = None if score is None else float(score)
    return LsPrediction(model_version, scores)


def _label_scores(entry: dict) -> dict:
    """A region's `meta.scores` ({label: score}); {} when it has none or it is not a mapping
    (a bad score in it is refused with the others)."""
    meta = entry.get("meta")
    scores = meta.get("scores") if isinstance(meta, dict) else None
    if not isinstance(scores, dict):
        return {}
    return {name.strip(): score for name, score in scores.items() if isinstance(name, str)}


def _is_score(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value) and 0 <= value <= 1


def _annotation(raw: object, config: LabelConfig) -> LsAnnotation | str:
    found = _choice_results(raw, config)
    if isinstance(found, str):
        return found
    rater = _rater(raw.get("completed_by"))
    if isinstance(rater, str):
        return rater
    seconds = raw.get("lead_time")
    if seconds is not None:
        if not (isinstance(seconds, Real) and not isinstance(seconds, bool) and math.isfinite(seconds)):
            return "lead_time must be a number of seconds"
        # Label Studio adds up every visit to the task: an annotation reopened days later
        # carries a lead time no single rating took, so it is kept only when plausible.
        seconds = float(seconds) if 0 <= seconds <= MAX_SECONDS_SPENT else None
    created_at = raw.get("created_at")
    moment = None
    if created_at is not None:
        try:
            moment = parse_datetime(created_at) if isinstance(created_at, str) else None
        except ValueError:
            moment = None
        if moment is None:
            return f"created_at {str(created_at)[:40]!r} is not an ISO 8601 date and time"
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, UTC)
    labels = tuple(dict.fromkeys(name for labels, _, _ in found for name in labels))
    return LsAnnotation(rater, labels, seconds, moment)


def _rater(value: object) -> LsRater | str:
    """completed_by: Label Studio's user id, or an object with `id` and `email`."""
    if isinstance(value, bool):
        return "completed_by must be a user id or an object with an email"
    if isinstance(value, int):
        return LsRater(value, "") if 0 <= value < 2**63 else "completed_by is not a user id"
    if not isinstance(value, dict):
        return "completed_by must be a user id or an object with an email"
    ls_id = value.get("id")
    ls_id = ls_id if isinstance(ls_id, int) and not isinstance(ls_id, bool) and 0 <= ls_id < 2**63 else None
    email = value.get("email")
    if isinstance(email, str) and email.strip():
        email = email.strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            return f"completed_by.email {email[:60]!r} is not an email address"
        if len(email) > MAX_EMAIL:
            return f"completed_by.email is longer than {MAX_EMAIL} characters"
        return LsRater(ls_id, email)
    if ls_id is None:
        return "completed_by has neither an email nor a user id"
    return LsRater(ls_id, "")
