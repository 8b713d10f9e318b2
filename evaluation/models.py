"""A stored evaluation: the tables of a study or of a set of model runs, and their files.

Long evaluations run as the Celery task ``evaluation.compute``; this row is where the
task reports progress and leaves its result. Writes go through ``evaluation.services``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class EvaluationReport(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    FINISHED_STATUSES = (Status.SUCCEEDED, Status.FAILED)

    study = models.ForeignKey(
        "annotator.Study", on_delete=models.CASCADE, null=True, blank=True, related_name="evaluation_reports"
    )
    runs = models.ManyToManyField("modelzoo.ModelRun", blank=True, related_name="evaluation_reports")
    n_boot = models.PositiveIntegerField(default=1000, help_text="Bootstrap resamples for the 95% intervals.")
    seed = models.IntegerField(default=0)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0, help_text="0..1")
    progress_message = models.CharField(max_length=300, blank=True)
    result = models.JSONField(default=dict, blank=True, help_text="Tables as JSON, keyed by table key.")
    artifacts = models.JSONField(
        default=dict, blank=True, help_text="File name -> path relative to the report's artefact folder."
    )
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="evaluation_reports"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__gte=0) & Q(progress__lte=1), name="evalreport_progress_0_1"),
        ]

    def __str__(self) -> str:
        target = f"study {self.study_id}" if self.study_id else "model runs"
        return f"evaluation {self.pk} of {target} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED_STATUSES
