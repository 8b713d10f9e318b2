"""The matrix's rows for the routes of qualification, pausing, removing and reopening, the audit trail."""

from __future__ import annotations

from tests.authorization.cells import LOGIN, STUDY, Rule, researcher_api, row, url

RATER_IN = lambda w: w.users["rater_in"].pk  # noqa: E731


def _rater_action(name: str, **expect) -> Rule:
    """A researcher's action on rater_in in the owner's study."""
    body = (lambda w, role: {"exclude_ratings": False}) if name == "study-rater-remove" else None
    return Rule(f"annotator-api:{name}", url(f"annotator-api:{name}", STUDY, RATER_IN), researcher_api(**expect),
                method="post", body=body)  # fmt: skip


CONTROL_RULES: list[Rule] = [
    # --- the researcher steers the study ------------------------------------------------
    Rule("annotator-api:study-pause", url("annotator-api:study-pause", STUDY), researcher_api(), method="post"),
    # Active already: resuming and reopening change nothing and answer the study.
    Rule("annotator-api:study-resume", url("annotator-api:study-resume", STUDY), researcher_api(), method="post"),
    Rule("annotator-api:study-reopen", url("annotator-api:study-reopen", STUDY), researcher_api(), method="post"),
    Rule("annotator-api:study-events", url("annotator-api:study-events", STUDY), researcher_api()),
    Rule("annotator-api:study-rater-standings", url("annotator-api:study-rater-standings", STUDY), researcher_api()),
    _rater_action("study-rater-pause"),
    _rater_action("study-rater-resume"),
    _rater_action("study-rater-remove"),
    # rater_in has not failed a qualification: nothing to retry.
    _rater_action("qualification-retry", owner=409),
    _rater_action("qualification-admit"),
    # --- the rater's qualification --------------------------------------------------------
    # The study asks no qualification: answering is refused (409) to its raters.
    Rule(
        "annotator-api:qualification-status",
        url("annotator-api:qualification-status", STUDY),
        row(anonymous=401, rater_in=200, rater_out=404, other_rater=200, owner=403, other_researcher=403, admin=404),
    ),
    Rule(
        "annotator-api:qualification-answer",
        url("annotator-api:qualification-answer", STUDY),
        row(anonymous=401, rater_in=409, rater_out=404, other_rater=409, owner=403, other_researcher=403, admin=404),
        method="post",
        body=lambda w, role: {"position": 0, "answers": {}},
    ),
    Rule(
        "annotator:qualify",
        url("annotator:qualify", STUDY),
        row(anonymous=LOGIN, rater_in=200, rater_out=404, other_rater=200, owner=403, other_researcher=403, admin=404),
    ),
    Rule(
        "annotator:qualification-media",
        url("annotator:qualification-media", STUDY, 0),
        row(anonymous=LOGIN, rater_in=200, rater_out=404, other_rater=200, owner=200, other_researcher=404, admin=200),
    ),
]
