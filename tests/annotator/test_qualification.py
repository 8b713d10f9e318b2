"""A study's qualification: its set of gold clips outside the study, the rater's attempt
scored against the truth, the queue closed until they pass, retry and admit by the
researcher, and answers that never reach the study's ratings."""

import pytest

from annotator import selectors, services
from annotator.models import GoldLabel, Judgment, QualificationAnswer, QualificationClip, Rating, StudyEvent
from annotator.services.qualification import qualification_admit, qualification_answer, qualification_retry
from config.errors import ApplicationError, ConflictError
from tests.builders import make_study, reserve

QUALIFICATION_CLIPS = 2


@pytest.fixture
def qualified_world(world):
    """Six of the twelve clips sampled; gold truth on the other six (the original label
    present, the second proposal absent), two of them the qualification set, pass mark 0.75."""
    world.study = make_study(
        world,
        sample_size=6,
        qualification_clips=0,
    )
    sampled = set(world.study.study_clips.values_list("clip_id", flat=True))
    world.study.delete()
    for clip in world.clips:
        if clip.pk in sampled:
            continue
        label = clip.clip_labels.get().category
        GoldLabel.objects.create(clip=clip, category=label, present=True)
        other = clip.proposals.exclude(category=label).first().category
        GoldLabel.objects.create(clip=clip, category=other, present=False)
    world.study = make_study(
        world, sample_size=6, qualification_clips=QUALIFICATION_CLIPS, qualification_pass_mark=0.75
    )
    return world


def _truthful(study, rater, *, wrong: int = 0) -> dict[int, str]:
    """Answers to the clip due next: the truth, except the first `wrong` labels flipped."""
    status = selectors.qualification_status(study=study, rater=rater)
    answers = {}
    for index, label in enumerate(status.labels):
        right = label.present if index >= wrong else not label.present
        answers[label.category_id] = "present" if right else "absent"
    return answers


def _attempt(study, rater, *, wrong_first: int = 0):
    outcome = None
    for position in range(QUALIFICATION_CLIPS):
        outcome = qualification_answer(
            study=study,
            rater=rater,
            position=position,
            answers=_truthful(study, rater, wrong=wrong_first if position == 0 else 0),
        )
    return outcome


def test_the_qualification_set_is_gold_clips_outside_the_study(qualified_world):
    study = qualified_world.study
    chosen = set(QualificationClip.objects.filter(study=study).values_list("clip_id", flat=True))
    assert len(chosen) == QUALIFICATION_CLIPS
    assert not chosen & set(study.study_clips.values_list("clip_id", flat=True))
    assert chosen <= set(GoldLabel.objects.values_list("clip_id", flat=True))


def test_too_few_gold_clips_is_a_clear_error(world):
    with pytest.raises(ApplicationError, match="qualification_clips is 3 but only 0"):
        make_study(world, sample_size=6, qualification_clips=3)


def test_the_queue_is_closed_until_the_rater_passes(qualified_world):
    study, rater = qualified_world.study, qualified_world.raters[0]
    with pytest.raises(ConflictError) as refused:
        reserve(qualified_world, rater=rater)
    assert refused.value.extra == {"qualification": "required"}
    outcome = _attempt(study, rater)
    assert (outcome.finished, outcome.passed, outcome.score) == (True, True, 1.0)
    assert reserve(qualified_world, rater=rater) is not None


def test_a_rater_who_fails_sees_why_and_stays_out_until_the_researcher_lets_them_retry(qualified_world):
    study, rater, owner = qualified_world.study, qualified_world.raters[0], qualified_world.owner
    # Given two wrong of four labels (0.5 < 0.75)
    outcome = _attempt(study, rater, wrong_first=2)
    assert (outcome.passed, outcome.score) == (False, 0.5)
    with pytest.raises(ConflictError) as refused:
        reserve(qualified_world, rater=rater)
    assert refused.value.extra == {"qualification": "failed"}
    with pytest.raises(ConflictError, match="did not pass"):
        qualification_answer(study=study, rater=rater, position=0, answers=_truthful(study, rater))
    # The researcher sees the result
    row = next(row for row in selectors.qualification_results(study=study) if row["rater_id"] == rater.pk)
    assert (row["qualification"], row["correct"], row["total"], row["attempts"]) == ("failed", 2, 4, 1)
    # When they allow a retry, a second attempt starts and can pass
    qualification_retry(study=study, rater=rater, actor=owner)
    assert selectors.qualification_status(study=study, rater=rater).position == 0
    assert _attempt(study, rater).passed is True
    row = next(row for row in selectors.qualification_results(study=study) if row["rater_id"] == rater.pk)
    assert (row["qualification"], row["attempts"], row["score"]) == ("passed", 2, 1.0)
    assert StudyEvent.objects.filter(study=study, action="qualification_retry", rater=rater).count() == 1


def test_the_researcher_can_admit_a_rater_by_hand(qualified_world):
    study, rater = qualified_world.study, qualified_world.raters[1]
    qualification_admit(study=study, rater=rater, actor=qualified_world.owner)
    assert reserve(qualified_world, rater=rater) is not None
    event = StudyEvent.objects.get(study=study, action="qualification_admitted")
    assert event.details == {"qualification before": "not taken"}


def test_clips_are_answered_in_order_and_resending_one_changes_nothing(qualified_world):
    study, rater = qualified_world.study, qualified_world.raters[0]
    with pytest.raises(ConflictError, match="clip 1 first"):
        qualification_answer(study=study, rater=rater, position=1, answers={})
    answers = _truthful(study, rater)
    qualification_answer(study=study, rater=rater, position=0, answers=answers)
    again = qualification_answer(study=study, rater=rater, position=0, answers=answers)
    assert (again.answered, again.finished) == (1, False)
    assert QualificationAnswer.objects.count() == len(answers)


def test_every_label_must_be_answered_with_a_known_answer(qualified_world):
    study, rater = qualified_world.study, qualified_world.raters[0]
    answers = _truthful(study, rater)
    first = next(iter(answers))
    with pytest.raises(ApplicationError, match="not answered"):
        qualification_answer(study=study, rater=rater, position=0, answers={first: "present"})
    with pytest.raises(ApplicationError, match="not shown"):
        qualification_answer(study=study, rater=rater, position=0, answers={**answers, 999999: "present"})
    with pytest.raises(ApplicationError, match="not one of"):
        qualification_answer(study=study, rater=rater, position=0, answers={**answers, first: "maybe"})
    with pytest.raises(ApplicationError, match="Modality"):
        qualification_answer(study=study, rater=rater, position=0, answers=answers, modalities={first: "X"})
    assert not QualificationAnswer.objects.exists()


def test_qualification_answers_never_become_ratings(qualified_world):
    _attempt(qualified_world.study, qualified_world.raters[0])
    assert not Rating.objects.exists() and not Judgment.objects.exists()


def test_feedback_names_the_answers_that_disagreed_when_the_study_asks(qualified_world):
    study, rater = qualified_world.study, qualified_world.raters[0]
    status = selectors.qualification_status(study=study, rater=rater)
    answers = _truthful(study, rater, wrong=1)
    silent = qualification_answer(study=study, rater=rater, position=0, answers=answers)
    assert silent.feedback == []  # off by default
    study.gold_feedback = True
    study.save(update_fields=["gold_feedback"])
    answers = _truthful(study, rater, wrong=1)
    status = selectors.qualification_status(study=study, rater=rater)
    told = qualification_answer(study=study, rater=rater, position=1, answers=answers)
    wrong = status.labels[0]
    assert told.feedback == [
        {
            "category_id": wrong.category_id,
            "name": wrong.name,
            "answer": "absent" if wrong.present else "present",
            "truth": "present" if wrong.present else "absent",
        }
    ]


def test_a_paused_rater_cannot_answer_the_qualification(qualified_world):
    study, rater = qualified_world.study, qualified_world.raters[0]
    services.rater_pause(study=study, rater=rater, actor=qualified_world.owner)
    with pytest.raises(ConflictError, match="paused"):
        qualification_answer(study=study, rater=rater, position=0, answers=_truthful(study, rater))
