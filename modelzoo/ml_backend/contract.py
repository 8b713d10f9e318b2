"""The Label Studio ML backend contract: what Label Studio sends, and the bodies it reads back.

Label Studio's connector (label_studio/ml/api_connector.py of HumanSignal/label-studio) sends

    GET  health                                 -> {"status": "UP", "model_class": ...}
    POST setup   {"project": "<id>.<created>", "schema": <label config>, "hostname",
                  "access_token", "model_version", "extra_params"}
                                                -> {"model_version": ...}
    POST predict {"tasks": [{"id", "data": {...}}, ...], "project", "label_config",
                  "model_version", "params": {"login", "password", "context"}}
                                                -> {"results": [<one prediction per task>]}

and a prediction is {"result": [<regions>], "score": <shown and sorted on in the Data
Manager>, "model_version": ...} (label_studio_ml/response.py of label-studio-ml-backend). A
task's labels are one `choices` region over the clip; Label Studio shows the prediction's
score, so each label's own score travels in the region's `meta`.

Pure functions: no database, no model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.parsers import expat

from annotator.importers.label_studio_tasks import clip_id_from_media
from config.errors import ApplicationError

MAX_CONFIG_CHARS = 200_000
MAX_TASKS = 1000
#: Object tags whose value is a clip's media; a Choices tag over one of them labels the clip.
MEDIA_TAGS = frozenset({"Video", "Audio", "AudioPlus"})
HEALTHY = "UP"


class LabelConfigError(ApplicationError):
    """The label config cannot be read, or holds nothing this backend can answer."""


@dataclass(frozen=True)
class ChoicesTag:
    """A whole-clip Choices tag: its name, the media object it labels, the task.data key of
    that object's media, and its choices as (value, what a result names: alias or value)."""

    from_name: str
    to_name: str
    data_key: str
    choices: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ProposedLabel:
    choice: str  # as the result names it
    score: float
    heads: tuple[str, ...]


@dataclass
class _Element:
    tag: str
    attrs: dict[str, str]
    children: list[_Element]


def _parse(text: str) -> _Element:
    """The config as a tree, read by expat with every DTD refused: a label config needs no
    DOCTYPE, and without one no entity can be declared, so nothing is ever expanded or fetched."""
    if len(text) > MAX_CONFIG_CHARS:
        raise LabelConfigError(f"The label config is longer than {MAX_CONFIG_CHARS} characters.")
    root = _Element("", {}, [])
    stack = [root]

    def refuse_dtd(*_args) -> None:
        raise LabelConfigError("The label config declares a DOCTYPE; a Label Studio config has none.")

    def start(tag: str, attrs: dict[str, str]) -> None:
        element = _Element(tag, attrs, [])
        stack[-1].children.append(element)
        stack.append(element)

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.StartElementHandler = start
    parser.EndElementHandler = lambda _tag: stack.pop()
    try:
        parser.Parse(text, True)
    except expat.ExpatError as exc:
        raise LabelConfigError(f"The label config is not well-formed XML: {exc}.") from None
    if not root.children:
        raise LabelConfigError("The label config is empty.")
    return root.children[0]


def _walk(element: _Element):
    """The element and everything under it, in document order (a loop: a config may nest deep)."""
    pending = [element]
    while pending:
        current = pending.pop()
        yield current
        pending.extend(reversed(current.children))


def label_config_choices(text: str) -> list[ChoicesTag]:
    """The config's Choices tags that label a whole Video or Audio object (not its regions),
    in document order. Raises LabelConfigError when the config is not XML."""
    elements = list(_walk(_parse(text)))
    media_keys = {
        element.attrs["name"]: element.attrs["value"][1:]
        for element in elements
        if element.tag in MEDIA_TAGS
        and element.attrs.get("name")
        and element.attrs.get("value", "").startswith("$")
        and len(element.attrs["value"]) > 1
    }
    tags = []
    for element in elements:
        if element.tag != "Choices" or element.attrs.get("perRegion", "").lower() == "true":
            continue
        targets = [name.strip() for name in element.attrs.get("toName", "").split(",")]
        to_name = next((name for name in targets if name in media_keys), None)
        if to_name is None or not element.attrs.get("name"):
            continue
        choices = tuple(
            (child.attrs["value"], child.attrs.get("alias") or child.attrs["value"])
            for child in _walk(element)
            if child.tag == "Choice" and child.attrs.get("value")
        )
        tags.append(ChoicesTag(element.attrs["name"], to_name, media_keys[to_name], choices))
    return tags


def choices_by_category(tag: ChoicesTag, category_names: Mapping[int, str]) -> dict[int, str]:
    """Category index -> what a result names it, for the tag's choices that name a category
    (case and surrounding blanks aside); choices of no category are left out."""
    index_of = {name.strip().casefold(): index for index, name in category_names.items()}
    found: dict[int, str] = {}
    for value, result_value in tag.choices:
        index = index_of.get(value.strip().casefold())
        if index is not None:
            found.setdefault(index, result_value)
    return found


def task_clip_id(task: Mapping, *, data_key: str) -> str:
    """The clip a task names ('' for none): `data.clip_id` when given (avlabel's own export
    carries it beside an opaque media route), else the file name of `data[data_key]` as the
    Label Studio importer reads it. Only a name is taken from the reference: it is never
    fetched nor opened."""
    data = task["data"]
    explicit = data.get("clip_id")
    if isinstance(explicit, str) and explicit.strip():
        return explicit.strip()
    reference = data.get(data_key)
    return clip_id_from_media(reference) if isinstance(reference, str) and reference.strip() else ""


def health_body(*, model_class: str) -> dict:
    return {"status": HEALTHY, "model_class": model_class}


def setup_body(*, model_version: str) -> dict:
    return {"model_version": model_version}


def predict_body(predictions: Sequence[dict]) -> dict:
    return {"results": list(predictions)}


def task_prediction(*, tag: ChoicesTag, labels: Sequence[ProposedLabel], model_version: str) -> dict:
    """One task's prediction: a `choices` region with the proposed labels, most confident
    first; the region's and the prediction's score is the best label's, and `meta` holds
    each label's score and the heads that proposed it. No label: an empty result (the clip
    was not found, did not decode, or the model proposed none of the config's choices)."""
    if not labels:
        return {"result": [], "score": None, "model_version": model_version}
    best = max(label.score for label in labels)
    region = {
        "from_name": tag.from_name,
        "to_name": tag.to_name,
        "type": "choices",
        "value": {"choices": [label.choice for label in labels]},
        "score": best,
        "meta": {
            "scores": {label.choice: label.score for label in labels},
            "heads": {label.choice: list(label.heads) for label in labels},
        },
    }
    return {"result": [region], "score": best, "model_version": model_version}
