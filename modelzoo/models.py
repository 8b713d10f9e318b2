"""Model runs (training or inference, run by Celery workers), the chunks a prediction run
fans out into, and the predictions they store.

A run is the record of one job: what it trains or predicts, its status and live progress,
metrics per epoch, checkpoint and timings. Writes go through ``modelzoo.services``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ModelRun(models.Model):
    class Kind(models.TextChoices):
        TRAIN = "train", "training"
        PREDICT = "predict", "inference"

    class ModelKind(models.TextChoices):
        EVENT_HEADS = "event_heads", "event heads (ours)"
        AUDIO_ONLY = "audio_only", "audio only"
        VISION_ONLY = "vision_only", "vision only"
        NAIVE_AV = "naive_av", "naive audio-visual"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"
        CANCELLED = "cancelled", "cancelled"

    FINISHED_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    kind = models.CharField(max_length=10, choices=Kind.choices)
    model_kind = models.CharField(max_length=20, choices=ModelKind.choices)
    recipe = models.BooleanField(
        default=False, help_text="Event heads trained with the three-stage recipe (audio, vision, then heads)."
    )
    config_name = models.CharField(max_length=20, help_text="Model config: 'tiny' or 'paper'.")
    dataset = models.ForeignKey("annotator.Dataset", on_delete=models.PROTECT, related_name="model_runs")
    split = models.CharField(max_length=20, blank=True, help_text="Split trained on, or predicted ('' = all).")
    clip_ids = models.JSONField(default=list, blank=True, help_text="Predict only these clip ids (empty = split).")

    # Training parameters.
    epochs = models.PositiveIntegerField(default=0)
    batch_size = models.PositiveIntegerField(default=8)
    learning_rate = models.FloatField(default=1e-3)
    val_split = models.CharField(max_length=20, blank=True, help_text="Split evaluated after each epoch.")
    vision_weights = models.CharField(max_length=500, blank=True, help_text="Local MC3-18 weights file (recipe).")

    # Inference parameters.
    source_run = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="prediction_runs"
    )
    chunk_size = models.PositiveIntegerField(default=64, help_text="Clips per inference task.")
    with_heatmaps = models.BooleanField(default=True)
    make_proposals = models.BooleanField(default=False)
    proposal_set_name = models.CharField(max_length=200, blank=True)
    proposal_set = models.ForeignKey(
        "annotator.ProposalSet", on_delete=models.SET_NULL, null=True, blank=True, related_name="model_runs"
    )

    # State.
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0, help_text="0..1")
    progress_message = models.CharField(max_length=300, blank=True)
    metrics = models.JSONField(default=list, blank=True, help_text="One object per finished epoch.")
    num_classes = models.PositiveIntegerField(null=True, blank=True)
    items_total = models.PositiveIntegerField(default=0, help_text="Clips to train on or to predict.")
    checkpoint_path = models.CharField(max_length=500, blank=True)
    device = models.CharField(max_length=20, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    task_id = models.CharField(max_length=64, blank=True, help_text="Celery task that holds the run.")
    finalizer_task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Times a worker took the run (resumes count).")
    # Beaten every AVLABEL_RUN_HEARTBEAT_SECONDS by the task holding the run (training, planning
    # or finalising); null while a prediction run's chunks hold the work (they beat their rows).
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life from the worker holding the run."
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="model_runs"
    )
    shared_with = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="shared_runs", help_text="Researchers who may use it."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status"], name="modelrun_status"),
            models.Index(fields=["dataset", "-created_at"], name="modelrun_dataset_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(progress__gte=0) & Q(progress__lte=1), name="modelrun_progress_0_1"),
            models.CheckConstraint(
                condition=Q(kind="train") | Q(source_run__isnull=False), name="modelrun_predict_has_source"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} run {self.pk} ({self.model_kind}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED_STATUSES


class PredictionChunk(models.Model):
    """A slice of a prediction run's clips: the unit one GPU worker claims, beats and finishes.

    A running chunk whose heartbeat went stale lost its worker and is queued again; a chunk
    only waiting in the broker is never touched (its message is still there).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"

    run = models.ForeignKey(ModelRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    clip_pks = models.JSONField(default=list, help_text="Primary keys of the clips, in plan order.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    task_id = models.CharField(max_length=64, blank=True, help_text="Celery task that holds the chunk.")
    attempts = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="predictionchunk_unique_run_index")]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="predictionchunk_status_beat")]

    def __str__(self) -> str:
        return f"chunk {self.index} of run {self.run_id} ({self.status})"


class Prediction(models.Model):
    """What a predict run found in one clip (an unreadable clip keeps only ``error``)."""

    run = models.ForeignKey(ModelRun, on_delete=models.CASCADE, related_name="predictions")
    clip = models.ForeignKey("annotator.Clip", on_delete=models.CASCADE, related_name="predictions")
    heads = models.JSONField(
        default=dict, blank=True, help_text='{head: {"top5": [[category_index, prob], ...], "label_prob": p|null}}'
    )
    vote_index = models.IntegerField(null=True, blank=True)
    union_indices = models.JSONField(default=list, blank=True)
    event_type = models.CharField(max_length=20, blank=True, help_text="Dominant head for the clip's label.")
    instant_steps = models.JSONField(default=list, blank=True)
    onset_steps = models.JSONField(default=list, blank=True)
    modality_confidence = models.JSONField(default=dict, blank=True)
    heatmap_path = models.CharField(max_length=500, blank=True, help_text="Relative to MEDIA_ROOT.")
    flags = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["run", "clip"], name="prediction_unique_run_clip")]
        indexes = [
            models.Index(fields=["run", "vote_index"], name="prediction_run_vote"),
            models.Index(fields=["run", "event_type"], name="prediction_run_event_type"),
        ]

    def __str__(self) -> str:
        return f"prediction of run {self.run_id} for clip {self.clip_id}"
