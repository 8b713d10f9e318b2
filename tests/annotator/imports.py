"""What the import tests share: uploaded files, a researcher's dataset over a small taxonomy,
and the job run the way the worker runs it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile

from annotator import services
from annotator.models import Dataset, ImportJob, Taxonomy
from tests.factories import CategoryFactory, TaxonomyFactory, make_researcher

NAMES = ["dog barking", "cat meowing", "car engine"]
CLIPS_CSV = (
    "clip_id,labels,split\n"
    "c0,dog barking,test\n"
    "c1,cat meowing,test\n"
    "c2,car engine;dog barking,test\n"
    "c3,unicorn,test\n"  # line 5: not in the taxonomy
)
PROPOSALS_CSV = "clip_id,label,score,heads\nc0,dog barking,0.9,audio\nc1,cat meowing,0.8,visual\nc2,car engine,0.7,\n"


def upload(name: str, content: str | bytes, content_type: str = "text/csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode() if isinstance(content, str) else content, content_type)


@dataclass
class ImportWorld:
    researcher: object
    taxonomy: Taxonomy
    dataset: Dataset


def build_import_world(*, username: str | None = None) -> ImportWorld:
    """A researcher's empty dataset over a three-class taxonomy."""
    researcher = make_researcher(username=username)
    taxonomy = TaxonomyFactory(name=f"sounds-{uuid.uuid4().hex[:6]}")
    for index, name in enumerate(NAMES):
        CategoryFactory(taxonomy=taxonomy, name=name, index=index)
    dataset = services.dataset_create(owner=researcher, name=f"ds-{uuid.uuid4().hex[:6]}", taxonomy=taxonomy)
    return ImportWorld(researcher=researcher, taxonomy=taxonomy, dataset=dataset)


def run_job(job: ImportJob, *, task_id: str | None = None) -> ImportJob:
    """The task's body, as a worker runs it for a message."""
    result = services.import_job_run(job_id=job.pk, task_id=task_id or f"task-{uuid.uuid4()}")
    job.refresh_from_db()
    assert result is None or result.pk == job.pk
    return job


def matrix_import_job(*, dataset: Dataset, owner) -> ImportJob:
    """A finished clip-list import with one row error, as the authorization matrix needs it."""
    return ImportJob.objects.create(
        owner=owner,
        dataset=dataset,
        kind=ImportJob.Kind.CLIPS,
        status=ImportJob.Status.DONE,
        options={"format": "generic", "split": ""},
        file_name="matrix-clips.csv",
        message="3 created, 0 updated, 0 unchanged, 1 row errors",
        result={"created": 3, "updated": 0, "unchanged": 0},
        errors=[[5, "unknown label 'unicorn'"]],
        error_count=1,
    )
