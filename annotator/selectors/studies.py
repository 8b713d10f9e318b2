"""Studies: who may see which. "A researcher's own studies, or every study for an admin" is
written here once; the evaluation app reads studies through these functions too."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from annotator import roles
from annotator.models import Study
from annotator.selectors.rawsql import columns, fetch_one, instance, table
from config.errors import NotFoundError


def studies_for_researcher(*, user) -> QuerySet[Study]:
    """A researcher's own studies; an admin sees every study."""
    studies = Study.objects.select_related("dataset", "proposal_set", "owner").order_by("-created_at", "-pk")
    studies = studies.annotate(clip_count=Count("study_clips"))
    return studies if roles.user_is_admin(user) else studies.filter(owner=user)


def study_for_researcher(*, user, study_id: int) -> Study:
    study = studies_for_researcher(user=user).filter(pk=study_id).first()
    if study is None:
        raise NotFoundError(f"Study {study_id} does not exist or is not yours.")
    return study


def rater_studies(*, rater) -> QuerySet[Study]:
    """Active studies the rater is in."""
    return Study.objects.filter(raters=rater, status=Study.Status.ACTIVE).order_by("-created_at", "-pk")


def study_for_rater(*, rater, study_id: int) -> Study:
    study = rater_studies(rater=rater).filter(pk=study_id).first()
    if study is None:
        raise NotFoundError(f"Study {study_id} does not exist or you are not rating it.")
    return study


def study_for_member(*, rater, study_id: int) -> Study:
    """A study whose pool the rater is in, whatever its status (the service says why it
    serves nothing when paused or closed)."""
    study = Study.objects.filter(raters=rater, pk=study_id).first()
    if study is None:
        raise NotFoundError(f"Study {study_id} does not exist or you are not rating it.")
    return study


def study_get(*, study_id: int) -> Study:
    """A study by id (who may use it is for the caller to decide)."""
    # Raw: +4% round trips/s over its ORM version; kept within next+submit's 10% budget (bench/README.md).
    row = fetch_one(f"SELECT {columns(Study, 'st')} FROM {table(Study)} st WHERE st.id = %s", [study_id])
    if row is None:
        raise NotFoundError(f"Study {study_id} does not exist.")
    return instance(Study, row)
