"""The matrix's rows for the routes of adjudicating contested labels: the owner's study only
(admins: any); raters never, whatever study they rate; another researcher finds nothing."""

from __future__ import annotations

from tests.authorization.cells import STUDY, Rule, researcher_api, researcher_page, url, with_query
from tests.authorization.world import AuthWorld

RATED = lambda w: w.rated.pk  # noqa: E731  (rater_in's rated clip: its labels have a vote each)


def _rated_category(w: AuthWorld) -> int:
    return w.rated.shown_labels.order_by("position").values_list("category_id", flat=True)[0]


def adjudicate_body(w: AuthWorld, role: str) -> dict:
    return {"study_clip": w.rated.pk, "category": _rated_category(w), "decision": "present", "modality": "A"}


ADJUDICATION_RULES: list[Rule] = [
    Rule("annotator-api:study-contested", url("annotator-api:study-contested", STUDY), researcher_api()),
    Rule(
        "annotator-api:study-contested",
        with_query(url("annotator-api:study-contested", STUDY), lambda w: "state=all"),
        researcher_api(),
    ),
    Rule(
        "annotator-api:label-adjudicate",
        url("annotator-api:label-adjudicate", STUDY),
        researcher_api(),
        method="post",
        body=adjudicate_body,
    ),
    # Clearing is idempotent: 204 for the owner whether or not the label was decided.
    Rule(
        "annotator-api:adjudication-clear",
        url("annotator-api:adjudication-clear", STUDY, RATED, _rated_category),
        researcher_api(204),
        method="delete",
    ),
    Rule("annotator:adjudicate", url("annotator:adjudicate", STUDY), researcher_page()),
]
