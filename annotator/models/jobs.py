"""Background jobs started from the pages and the API: imports and a study's spectrograms."""

from django.conf import settings
from django.db import models

from annotator.models.catalog import Dataset
from annotator.models.studies import Study


class ImportJob(models.Model):
    """An import started from a page or the API: a taxonomy, clip list, proposal, gold or
    Label Studio file (stored under AVLABEL_IMPORT_DIR), or a dataset's media (uploaded, or a server folder),
    run by the `annotator.import_run` task through the importers the commands use."""

    class Kind(models.TextChoices):
        TAXONOMY = "taxonomy", "taxonomy"
        CLIPS = "clips", "clip list"
        MEDIA = "media", "media"
        PROPOSALS = "proposals", "proposals"
        GOLD = "gold", "gold labels"
        LABEL_STUDIO = "label_studio", "Label Studio export"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    FINISHED_STATUSES = (Status.DONE, Status.FAILED)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs")
    dataset = models.ForeignKey(
        Dataset,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="import_jobs",
        help_text="None: a taxonomy.",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    options = models.JSONField(default=dict, blank=True, help_text="What the importer is given: format, split, name...")
    file_name = models.CharField(max_length=255, blank=True, help_text="The uploaded file's name.")
    file_path = models.CharField(max_length=500, blank=True, help_text="Where it is kept, under AVLABEL_IMPORT_DIR.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True, help_text="The outcome, or why it failed.")
    result = models.JSONField(default=dict, blank=True, help_text="Counts: created, updated, unchanged, ...")
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="Row errors: [line or null, message] pairs.")
    task_id = models.CharField(max_length=64, blank=True, help_text="Celery task that holds the job.")
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="importjob_owner_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED_STATUSES

    @property
    def progress(self) -> float:
        """0..1; a finished job is 1."""
        if self.status == self.Status.DONE:
            return 1.0
        return min(1.0, self.progress_done / self.progress_total) if self.progress_total else 0.0


class SpectrogramJob(models.Model):
    """Precomputing the spectrogram strips of a study's clips when it is created, run by the
    `annotator.spectrograms_prepare` task. The study is usable meanwhile: a clip not done yet
    is analysed when its rater asks, as before."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    study = models.OneToOneField(Study, on_delete=models.CASCADE, related_name="spectrogram_job")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveIntegerField(default=0, help_text="Clips analysed or found in the cache.")
    progress_total = models.PositiveIntegerField(default=0)
    unreadable = models.PositiveIntegerField(default=0, help_text="Clips whose media could not be analysed.")
    message = models.TextField(blank=True, help_text="The outcome, or why it failed.")
    task_id = models.CharField(max_length=64, blank=True, help_text="Celery task that holds the job.")
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"spectrograms of study {self.study_id} ({self.status})"

    @property
    def percent(self) -> float:
        if self.status == self.Status.DONE:
            return 100.0
        return round(100 * min(1.0, self.progress_done / self.progress_total), 1) if self.progress_total else 0.0
