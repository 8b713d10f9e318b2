"""Adjudication: which labels are contested (votes, modality split, excluded raters), and
deciding or clearing a label (stored with who and when, audited, validated)."""

import pytest

from annotator import selectors, services
from annotator.models import Adjudication, Judgment, StudyClip, StudyClipLabel, StudyEvent, StudyRater
from config.errors import ApplicationError, NotFoundError
from tests.evaluation.builders import build_study

pytestmark = pytest.mark.django_db


@pytest.fixture
def built():
    """The known study (tests/evaluation/builders.py): clips A-D, three raters, one skip."""
    return build_study()


def _study_clip(built, key: str) -> StudyClip:
    return StudyClip.objects.select_related("clip").get(study=built.study, clip=built.clips[key])


def _labels(built, state: str = "open"):
    labels = selectors.study_contested_labels(study=built.study, state=state)
    return labels[0 : labels.count() + 1]


def _names(labels) -> list[tuple[str, str]]:
    return [(label.clip_name.removeprefix("clip-"), label.category_name) for label in labels]


def _set_modalities(built, key: str, category: str, by_rater: dict[str, str]) -> None:
    for rater, modality in by_rater.items():
        Judgment.objects.filter(
            rating__study_clip__clip=built.clips[key], rating__rater=built.raters[rater], category__name=category
        ).update(modality=modality)


def _decide(built, key: str, category: str, decision: str = "present", modality: str = "", note: str = ""):
    return services.label_adjudicate(
        study=built.study,
        study_clip=_study_clip(built, key),
        category=built.categories[category],
        decision=decision,
        modality=modality,
        note=note,
        user=built.owner,
    )


# --- which labels are contested -------------------------------------------------------------


def test_contested_labels_are_those_whose_present_and_absent_differ_by_at_most_one(built):
    labels = _labels(built)

    # A c0 3/0 and C c4 2/0 are clear; the added A c5 has its adder's and another's present (2/0)
    assert _names(labels) == [
        ("A", "c1"), ("A", "c3"), ("B", "c2"), ("B", "c4"), ("C", "c0"), ("C", "c3"), ("D", "c1"), ("D", "c2"),
    ]  # fmt: skip
    assert selectors.study_contested_labels(study=built.study).count() == 8


def test_a_contested_label_carries_its_votes_each_raters_answer_and_time(built):
    label = _labels(built)[0]  # A c1: r1 present, r2 absent, r3 unsure

    assert label.votes == {"present": 1, "absent": 1, "unsure": 1}
    assert label.modality_votes == {"A": 0, "V": 0, "AV": 0}
    assert label.source == "proposal" and label.contested and label.adjudication is None
    assert label.study_clip_id == _study_clip(built, "A").pk and label.clip_id == built.clips["A"].pk
    assert label.media_url == f"/media/clips/{label.study_clip_id}/"
    assert [(answer.username.split("-")[-1], answer.answer, answer.seconds_spent) for answer in label.raters] == [
        ("r1", "present", 10.0),
        ("r2", "absent", 20.0),
        ("r3", "unsure", 30.0),
    ]


def test_a_clear_majority_whose_present_votes_split_on_modality_is_contested(built):
    _set_modalities(built, "C", "c4", {"r1": "A", "r2": "V"})  # 2 present / 0 absent, A 1 vs V 1

    contested = _names(_labels(built))

    assert ("C", "c4") in contested
    label = next(label for label in _labels(built) if _names([label]) == [("C", "c4")])
    assert label.modality_votes == {"A": 1, "V": 1, "AV": 0}


def test_two_most_voted_modalities_one_vote_apart_are_contested_two_apart_are_not(built):
    _set_modalities(built, "A", "c0", {"r1": "A", "r2": "A", "r3": "AV"})  # 2 vs 1
    assert ("A", "c0") in _names(_labels(built))

    _set_modalities(built, "A", "c0", {"r3": "A"})  # 3 vs 0
    assert ("A", "c0") not in _names(_labels(built))


def test_a_single_modality_vote_is_no_split(built):
    _set_modalities(built, "C", "c4", {"r1": "V"})

    assert ("C", "c4") not in _names(_labels(built))


def test_raters_removed_with_their_ratings_excluded_are_not_counted(built):
    StudyRater.objects.create(
        study=built.study, rater=built.raters["r3"], state=StudyRater.State.REMOVED, ratings_excluded=True
    )

    labels = _labels(built)

    # B c2 was 2/1 with r3's absent: 2/0 without it; A c1 stays 1/1
    assert ("B", "c2") not in _names(labels)
    a_c1 = labels[0]
    assert _names([a_c1]) == [("A", "c1")] and a_c1.votes == {"present": 1, "absent": 1, "unsure": 0}
    assert all(answer.rater_id != built.raters["r3"].pk for label in labels for answer in label.raters)


def test_the_list_is_read_a_page_at_a_time(built):
    labels = selectors.study_contested_labels(study=built.study)

    assert _names(labels[2:4]) == [("B", "c2"), ("B", "c4")]
    assert labels[8:10] == []


def test_an_unknown_state_is_refused(built):
    with pytest.raises(ValueError):
        selectors.study_contested_labels(study=built.study, state="closed")


def test_decided_labels_leave_the_open_list_and_make_the_adjudicated_one(built):
    _decide(built, "A", "c1", "present", "AV")
    _decide(built, "A", "c0", "absent")  # a clear label may be decided too

    assert ("A", "c1") not in _names(_labels(built, "open"))
    decided = _labels(built, "adjudicated")
    assert _names(decided) == [("A", "c0"), ("A", "c1")]
    assert [label.contested for label in decided] == [False, True]
    assert decided[1].adjudication.decision == "present" and decided[1].adjudication.modality == "AV"
    assert _names(_labels(built, "all")) == [("A", "c0"), ("A", "c1")] + _names(_labels(built, "open"))[0:7]


# --- deciding and clearing ------------------------------------------------------------------


def test_label_adjudicate_stores_the_decision_with_who_and_when_and_audits_it(built):
    adjudication = _decide(built, "A", "c1", "present", "V", note="a bark is heard at 3 s")

    stored = Adjudication.objects.get()
    assert stored.pk == adjudication.pk
    assert (stored.decision, stored.modality, stored.note) == ("present", "V", "a bark is heard at 3 s")
    assert stored.decided_by == built.owner and stored.decided_at is not None
    event = StudyEvent.objects.get(study=built.study)
    assert event.action == StudyEvent.Action.LABEL_ADJUDICATED and event.actor == built.owner
    assert event.details == {
        "study_clip": _study_clip(built, "A").pk,
        "clip": "clip-A",
        "category": built.categories["c1"].pk,
        "category_name": "c1",
        "decision": "present",
        "modality": "V",
        "previous": None,
    }


def test_a_second_decision_replaces_the_first(built):
    first = _decide(built, "A", "c1", "present", "V")
    second = _decide(built, "A", "c1", "absent")

    assert Adjudication.objects.count() == 1 and second.pk == first.pk
    stored = Adjudication.objects.get()
    assert (stored.decision, stored.modality) == ("absent", "")
    assert stored.decided_at >= first.decided_at
    latest = StudyEvent.objects.filter(study=built.study).first()
    assert latest.details["previous"] == {"decision": "present", "modality": "V"}


def test_a_label_the_raters_added_can_be_decided(built):
    assert _decide(built, "A", "c5", "absent").decision == "absent"


@pytest.mark.parametrize(
    "decision, modality",
    [("absent", "A"), ("present", "X"), ("maybe", ""), ("present", "heard")],
    ids=["modality with absent", "unknown modality", "unknown decision", "modality by name"],
)
def test_a_decision_out_of_its_rules_is_refused_and_nothing_is_stored(built, decision, modality):
    with pytest.raises(ApplicationError):
        _decide(built, "A", "c1", decision, modality)

    assert not Adjudication.objects.exists() and not StudyEvent.objects.exists()


def test_a_label_never_shown_on_the_clip_is_refused(built):
    with pytest.raises(ApplicationError, match="neither shown"):
        _decide(built, "B", "c5")


def test_a_shown_label_without_a_counted_vote_is_refused(built):
    StudyClipLabel.objects.create(study_clip=_study_clip(built, "B"), category=built.categories["c1"], position=9)

    with pytest.raises(ApplicationError, match="no counted vote"):
        _decide(built, "B", "c1")


def test_a_clip_of_another_study_is_not_found(built):
    other = build_study(name="another study")
    with pytest.raises(NotFoundError):
        services.label_adjudicate(
            study=built.study,
            study_clip=StudyClip.objects.get(study=other.study, clip=other.clips["A"]),
            category=built.categories["c1"],
            decision="absent",
            user=built.owner,
        )
    with pytest.raises(NotFoundError):
        selectors.adjudication_target(
            study=built.study,
            study_clip_id=StudyClip.objects.get(study=other.study, clip=other.clips["A"]).pk,
            category_id=built.categories["c1"].pk,
        )
    with pytest.raises(NotFoundError):  # a category of another taxonomy
        selectors.adjudication_target(
            study=built.study, study_clip_id=_study_clip(built, "A").pk, category_id=other.categories["c1"].pk
        )


def test_adjudication_clear_removes_the_decision_and_audits_it(built):
    _decide(built, "A", "c1", "present", "A")

    removed = services.adjudication_clear(
        study=built.study, study_clip=_study_clip(built, "A"), category=built.categories["c1"], user=built.owner
    )

    assert removed and not Adjudication.objects.exists()
    event = StudyEvent.objects.filter(study=built.study).first()
    assert event.action == StudyEvent.Action.ADJUDICATION_CLEARED and event.actor == built.owner
    assert (event.details["category_name"], event.details["decision"], event.details["modality"]) == (
        "c1",
        "present",
        "A",
    )
    assert ("A", "c1") in _names(_labels(built))


def test_clearing_an_undecided_label_changes_nothing(built):
    removed = services.adjudication_clear(
        study=built.study, study_clip=_study_clip(built, "A"), category=built.categories["c1"], user=built.owner
    )

    assert removed is False and not StudyEvent.objects.exists()
