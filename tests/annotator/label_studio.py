"""What the Label Studio tests share: the fixture export (tests/data/label_studio, written
from Label Studio's documented format), a check of that documented task structure, and
snapshots of what an import stored, to compare two imports by."""

from __future__ import annotations

from datetime import datetime
from numbers import Real
from pathlib import Path

from annotator.models import Judgment, Proposal, ProposalSet, Rating, Study

FIXTURES = Path(__file__).resolve().parent.parent / "data" / "label_studio"
EXPORT = FIXTURES / "export.json"
CONFIG = FIXTURES / "label_config.xml"


def assert_label_studio_task(task: dict, *, from_name: str, to_name: str, data_key: str) -> None:
    """The structure of a task in Label Studio's documented JSON export (task_format.md):
    data, predictions with model_version / score / result, annotations with completed_by,
    result, was_cancelled, lead_time, created_at; each result a `choices` region."""
    assert isinstance(task["id"], int)
    assert isinstance(task["data"], dict) and isinstance(task["data"][data_key], str)
    for prediction in task.get("predictions", []):
        assert isinstance(prediction["model_version"], str)
        if "score" in prediction:
            assert isinstance(prediction["score"], Real) and 0 <= prediction["score"] <= 1
        _assert_results(prediction["result"], from_name=from_name, to_name=to_name)
    for annotation in task.get("annotations", []):
        completed_by = annotation["completed_by"]
        assert isinstance(completed_by, int) or (isinstance(completed_by, dict) and "email" in completed_by)
        assert isinstance(annotation["was_cancelled"], bool)
        assert isinstance(annotation["lead_time"], Real)
        datetime.fromisoformat(annotation["created_at"].replace("Z", "+00:00"))
        _assert_results(annotation["result"], from_name=from_name, to_name=to_name)


def _assert_results(result: list, *, from_name: str, to_name: str) -> None:
    assert isinstance(result, list)
    for region in result:
        assert isinstance(region["id"], str) and region["id"]
        if region["type"] != "choices":
            continue
        assert (region["from_name"], region["to_name"]) == (from_name, to_name)
        choices = region["value"]["choices"]
        assert isinstance(choices, list) and all(isinstance(name, str) for name in choices)


def proposals_of(proposal_set: ProposalSet) -> set[tuple[str, str, float | None]]:
    return set(
        Proposal.objects.filter(proposal_set=proposal_set).values_list("clip__clip_id", "category__name", "score")
    )


def ratings_of(study: Study) -> set[tuple]:
    """(clip id, rater, seconds, submitted at, {(label, answer, added by the rater)}) per rating."""
    judgments: dict[int, set] = {}
    for rating_pk, name, answer, added in Judgment.objects.filter(rating__study_clip__study=study).values_list(
        "rating_id", "category__name", "answer", "added_by_rater"
    ):
        judgments.setdefault(rating_pk, set()).add((name, answer, added))
    return {
        (clip_id, username, seconds, submitted, frozenset(judgments.get(pk, ())))
        for pk, clip_id, username, seconds, submitted in Rating.objects.filter(study_clip__study=study).values_list(
            "pk", "study_clip__clip__clip_id", "rater__username", "seconds_spent", "submitted_at"
        )
    }
