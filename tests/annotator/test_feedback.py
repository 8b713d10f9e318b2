"""Feedback to raters after a gold clip (the study option gold_feedback): which of their
answers disagreed with the truth; nothing in a blind study or on a clip that is not gold."""

import pytest

from annotator import selectors, services
from annotator.models import GoldLabel, StudyClip, StudyClipLabel
from annotator.selectors import GoldTruth, RatedAnswer, gold_disagreements
from tests.annotator.clients import client_for
from tests.builders import make_study


def _answer(category_id: int, answer: str, modality: str = "") -> RatedAnswer:
    return RatedAnswer(category_id, f"label {category_id}", answer, modality, False)


TRUTH = {1: GoldTruth(True, "A"), 2: GoldTruth(False, ""), 3: GoldTruth(True, "")}


@pytest.mark.parametrize(
    ("answer", "ask_modality", "expected"),
    [
        (_answer(1, "absent"), True, ("answer", "present", "A")),
        (_answer(2, "present", "AV"), True, ("answer", "absent", "")),
        (_answer(1, "present", "V"), True, ("modality", "present", "A")),
        (_answer(1, "present", "V"), False, None),  # the study does not ask modality
        (_answer(1, "present", ""), True, None),  # no modality given: nothing to disagree with
        (_answer(3, "present", "V"), True, None),  # the truth's modality is not known
        (_answer(1, "present", "A"), True, None),
        (_answer(2, "absent"), True, None),
        (_answer(1, "unsure"), True, None),  # unsure makes no claim
        (_answer(9, "present"), True, None),  # no gold label
    ],
)
def test_gold_disagreements_by_hand(answer, ask_modality, expected):
    rows = gold_disagreements(answers=[answer], truth=TRUTH, ask_modality=ask_modality)

    if expected is None:
        assert rows == []
    else:
        (row,) = rows
        assert (row["kind"], row["truth"], row["truth_modality"]) == expected
        assert (row["category_id"], row["answer"], row["name"]) == (answer.category_id, answer.answer, answer.name)


@pytest.fixture
def gold_clip(world):
    """A study of the world whose first served clip (to the first rater) is made gold: its
    first label known present (heard only), its second known absent."""
    study = make_study(world, raters_per_clip=2, decoys_per_clip=1)
    rater = world.raters[0]
    study_clip = services.clip_next_for_rater(study=study, rater=rater)
    StudyClip.objects.filter(pk=study_clip.pk).update(is_gold=True)
    first, second = list(
        StudyClipLabel.objects.filter(study_clip=study_clip).order_by("position").values_list("category_id", flat=True)
    )[:2]
    GoldLabel.objects.create(clip=study_clip.clip, category_id=first, present=True, modality="A")
    GoldLabel.objects.create(clip=study_clip.clip, category_id=second, present=False)
    return study, study_clip, first, second


def _submit(client, study_clip, answers: dict, modalities: dict | None = None):
    body = {"answers": {str(k): v for k, v in answers.items()}, "modalities": modalities or {}}
    return client.post(f"/api/study-clips/{study_clip.pk}/submit/", body, format="json")


def _all(study_clip, answer: str) -> dict:
    return dict.fromkeys(study_clip.shown_labels.values_list("category_id", flat=True), answer)


def test_submit_of_a_gold_clip_with_feedback_on_names_the_disagreements(world, gold_clip):
    study, study_clip, first, second = gold_clip
    study.gold_feedback = True
    study.save(update_fields=["gold_feedback"])

    response = _submit(client_for(world.raters[0]), study_clip, _all(study_clip, "present"), {str(first): "V"})

    assert response.status_code == 200, response.content
    feedback = response.json()["feedback"]
    assert [(row["category_id"], row["kind"], row["truth"], row["truth_modality"]) for row in feedback] == [
        (first, "modality", "present", "A"),
        (second, "answer", "absent", ""),
    ]
    assert feedback[1]["name"] == world.categories[[c.pk for c in world.categories].index(second)].name


def test_submit_answers_no_feedback_in_a_blind_study(world, gold_clip):
    _, study_clip, _, _ = gold_clip

    response = _submit(client_for(world.raters[0]), study_clip, _all(study_clip, "absent"))

    assert response.status_code == 200 and response.json()["feedback"] == []


def test_submit_answers_no_feedback_on_a_clip_that_is_not_gold(world, gold_clip):
    study, study_clip, _, _ = gold_clip
    study.gold_feedback = True
    study.save(update_fields=["gold_feedback"])
    StudyClip.objects.filter(pk=study_clip.pk).update(is_gold=False)

    response = _submit(client_for(world.raters[0]), study_clip, _all(study_clip, "absent"))

    assert response.status_code == 200 and response.json()["feedback"] == []


def test_a_gold_clip_answered_as_the_truth_says_gets_empty_feedback_and_stays_revisable(world, gold_clip):
    study, study_clip, first, second = gold_clip
    study.gold_feedback = True
    study.save(update_fields=["gold_feedback"])
    answers = {**_all(study_clip, "unsure"), first: "present", second: "absent"}

    response = _submit(client_for(world.raters[0]), study_clip, answers, {str(first): "A"})

    assert response.json()["feedback"] == []
    (entry,) = selectors.rater_history(study=study, rater=world.raters[0])
    assert entry["revisable"] and entry["refusal"] == ""


def test_rating_feedback_reads_nothing_when_it_does_not_apply(world, gold_clip, django_assert_num_queries):
    study, study_clip, _, _ = gold_clip
    rating = services.rating_submit(study_clip=study_clip, rater=world.raters[0], answers=_all(study_clip, "absent"))

    with django_assert_num_queries(0):  # the submit hot path pays nothing for the option
        assert selectors.rating_feedback(rating_id=rating.pk, skipped=False, study=study, study_clip=study_clip) == []


def test_a_skipped_gold_clip_gets_no_feedback(world, gold_clip):
    study, study_clip, _, _ = gold_clip
    study.gold_feedback = True
    study.save(update_fields=["gold_feedback"])

    response = client_for(world.raters[0]).post(
        f"/api/study-clips/{study_clip.pk}/submit/", {"skipped": True}, format="json"
    )

    assert response.status_code == 200 and response.json()["feedback"] == []
