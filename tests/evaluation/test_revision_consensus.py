"""The evaluation reads revised ratings: the consensus, the votes, the dataset export and the
study tables use each rater's latest answers, and a revised rating still counts its rater
once (issue 11, point 3)."""

import pytest

from annotator import selectors as annotator_selectors
from annotator import services as annotator_services
from annotator.models import Judgment, RatingVersion
from evaluation import exporters, metrics, selectors, services
from tests.builders import build_world, make_study, rate

pytestmark = pytest.mark.django_db


@pytest.fixture
def revised_world():
    """One clip rated by three raters, every label present; then two of them revise its
    first label to absent."""
    world = build_world(clips_per_class=(1,), raters=3)
    study = make_study(world, sample_size=1, raters_per_clip=3, decoys_per_clip=0)
    ratings = [rate(annotator_services.clip_next_for_rater(study=study, rater=rater), rater) for rater in world.raters]
    labels = list(
        Judgment.objects.filter(rating=ratings[0]).order_by("category__index").values_list("category_id", flat=True)
    )
    return world, study, ratings, labels


def _votes(study) -> dict[str, dict]:
    """Label name -> its export record (votes, confirmed) on the study's one clip."""
    (record,) = exporters.study_dataset_records(selectors.study_data(study=study), include_rejected=True)
    return {label["label"]: label for label in record["labels"]}


def test_the_consensus_uses_the_latest_version_of_each_rating(revised_world):
    world, study, ratings, labels = revised_world
    first = world.categories[[c.pk for c in world.categories].index(labels[0])].name
    before = _votes(study)
    assert before[first]["votes"] == {"present": 3, "absent": 0, "unsure": 0} and before[first]["confirmed"]

    for rater, rating in zip(world.raters[:2], ratings[:2], strict=True):
        answers = {pk: "absent" if pk == labels[0] else "present" for pk in labels}
        annotator_services.rating_revise(rating_id=rating.pk, rater=rater, answers=answers)

    after = _votes(study)
    assert after[first]["votes"] == {"present": 1, "absent": 2, "unsure": 0}
    assert not after[first]["confirmed"], "the majority now says absent"
    assert all(after[name]["confirmed"] for name in after if name != first)
    data = selectors.study_data(study=study)
    assert data.completed.tolist() == [3] and data.n_raters == 3 and len(data.rating_rater) == 3
    assert metrics.majority_confirmed(data.items.counts).sum() == len(labels) - 1
    assert RatingVersion.objects.filter(rating__in=ratings).count() == 2  # the replaced answers, kept


def test_the_study_tables_and_judgment_rows_follow_a_revision(revised_world):
    world, study, ratings, labels = revised_world
    confirmed = services.study_evaluate(study=study, n_boot=20, seed=1).tables["human_study"]
    rows = {row[0]: row for row in confirmed.rows}
    assert rows["Proposals confirmed (%)"][1] == pytest.approx(100.0)

    for rater, rating in zip(world.raters, ratings, strict=True):
        annotator_services.rating_revise(rating_id=rating.pk, rater=rater, answers=dict.fromkeys(labels, "absent"))

    rows = {row[0]: row for row in services.study_evaluate(study=study, n_boot=20, seed=1).tables["human_study"].rows}
    assert rows["Proposals confirmed (%)"][1] == pytest.approx(0.0)
    assert rows["Clips rated"][1] == 1 and rows["Raters"][1] == 3
    judgments = annotator_selectors.study_judgments(study=study)
    assert len(judgments) == 3 * len(labels)
    assert {row["answer"] for row in judgments} == {"absent"}
