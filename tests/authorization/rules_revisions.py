"""The matrix's rows for the routes of raters revising their recent ratings: a rater reaches
their own ratings only (anyone else's, an admin's look included, is not found); the versions
of a rating are the study owner's."""

from __future__ import annotations

from annotator.models import Rating
from tests.authorization.cells import STUDY, Rule, researcher_api, row, url
from tests.authorization.world import AuthWorld


def _rating(w: AuthWorld) -> int:
    """rater_in's rating of the world's rated clip."""
    return Rating.objects.get(study_clip=w.rated, rater=w.users["rater_in"]).pk


def _revise_body(w: AuthWorld, role: str) -> dict:
    """Every label of rater_in's rating answered absent (it answered them present)."""
    rating = Rating.objects.get(pk=_rating(w))
    labels = rating.judgments.filter(added_by_rater=False).values_list("category_id", flat=True)
    return {"answers": {str(pk): "absent" for pk in labels}}


OWN_RATING = row(
    anonymous=401, rater_in=200, rater_out=404, other_rater=404, owner=403, other_researcher=403, admin=404
)

REVISION_RULES: list[Rule] = [
    Rule(
        "annotator-api:rater-history",
        url("annotator-api:rater-history", STUDY),
        # Any rater of the study sees their own list (other_rater's is empty); an admin rates nothing.
        row(anonymous=401, rater_in=200, rater_out=404, other_rater=200, owner=403, other_researcher=403, admin=404),
    ),
    Rule("annotator-api:rating-detail", url("annotator-api:rating-detail", _rating), OWN_RATING),
    Rule(
        "annotator-api:rating-revise",
        url("annotator-api:rating-revise", _rating),
        OWN_RATING,
        method="post",
        body=_revise_body,
    ),
    Rule(
        "annotator-api:study-rating-versions",
        url("annotator-api:study-rating-versions", STUDY, _rating),
        researcher_api(),
    ),
]
