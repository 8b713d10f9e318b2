"""Import jobs as researchers see them: their own (every job for an admin), and taxonomies."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from annotator import roles
from annotator.models import ImportJob, Taxonomy
from annotator.selectors.catalog import datasets_for_researcher
from config.errors import NotFoundError


def import_jobs_for_researcher(*, user) -> QuerySet[ImportJob]:
    """The jobs a user started (all for an admin; none for anyone who is not a researcher),
    newest first, without their row errors (read them with `import_job_errors`)."""
    jobs = ImportJob.objects.select_related("dataset", "owner").defer("errors").order_by("-created_at", "-pk")
    if roles.user_is_admin(user):
        return jobs
    if not roles.user_is_researcher(user):
        return jobs.none()
    return jobs.filter(owner=user)


def import_job_for_researcher(*, user, job_id: int) -> ImportJob:
    job = import_jobs_for_researcher(user=user).filter(pk=job_id).first()
    if job is None:
        raise NotFoundError(f"Import {job_id} does not exist or is not yours.")
    return job


def import_job_errors(*, job: ImportJob, limit: int | None = None) -> list[tuple[int | None, str]]:
    """The job's row errors as (line or None, message), in file order; the first `limit`."""
    errors = ImportJob.objects.filter(pk=job.pk).values_list("errors", flat=True).first() or []
    return [(line, message) for line, message in errors[:limit]]


def taxonomy_list() -> QuerySet[Taxonomy]:
    """Every taxonomy (class lists are shared by all researchers), by name, with its size."""
    return Taxonomy.objects.annotate(category_count=Count("categories")).order_by("name")


def datasets_owned(*, user):
    """The datasets a user may import into: those they own (every dataset for an admin)."""
    datasets = datasets_for_researcher(user=user)
    return datasets if roles.user_is_admin(user) else datasets.filter(owner=user)
