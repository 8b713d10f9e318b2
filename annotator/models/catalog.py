"""Datasets, their clips and class lists, proposals and gold labels.

Proposals are plain data here: annotator never imports the model code. A proposal set
comes from an imported file or from a model run (modelzoo writes it through services).
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models


class Taxonomy(models.Model):
    """A class list: VGGSound (309), LLP (25), AVE (28) or any class-list file."""

    name = models.CharField(max_length=100, unique=True)
    source = models.CharField(max_length=300, blank=True, help_text="File or reference it came from.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "taxonomies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    taxonomy = models.ForeignKey(Taxonomy, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(max_length=200)
    index = models.PositiveIntegerField(help_text="Position in the class list; the model's output index.")
    group = models.CharField(max_length=100, blank=True, help_text="Super-category, e.g. 'animals'.")
    source_count = models.PositiveIntegerField(null=True, blank=True, help_text="Clip count in the source list.")

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["taxonomy", "index"]
        constraints = [
            models.UniqueConstraint(fields=["taxonomy", "name"], name="category_unique_name"),
            models.UniqueConstraint(fields=["taxonomy", "index"], name="category_unique_index"),
        ]

    def __str__(self) -> str:
        return self.name


class Dataset(models.Model):
    name = models.CharField(max_length=100, unique=True)
    taxonomy = models.ForeignKey(Taxonomy, on_delete=models.PROTECT, related_name="datasets")
    description = models.TextField(blank=True)
    media_root = models.CharField(
        max_length=500, blank=True, help_text="Folder the clips' media paths are relative to."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="datasets",
        help_text="The researcher it belongs to; none: admins only.",
    )
    shared_with = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="shared_datasets", help_text="Researchers who may use it."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Clip(models.Model):
    """One 10-second clip of a dataset, its original labels and what probing its media found."""

    class MediaStatus(models.TextChoices):
        MISSING = "missing", "no media file"
        OK = "ok", "readable"
        UNUSABLE = "unusable", "unreadable"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="clips")
    clip_id = models.CharField(max_length=200, help_text="e.g. '---g-f_I2yQ_000001' or an LLP filename.")
    youtube_id = models.CharField(max_length=64, blank=True)
    start_seconds = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0)],
        help_text="Start in the source video, seconds (LLP clips may start at a tenth of a second).",
    )
    split = models.CharField(max_length=20, blank=True, db_index=True)
    labels = models.ManyToManyField(Category, through="ClipLabel", related_name="clips")

    media_path = models.CharField(max_length=500, blank=True)
    media_status = models.CharField(max_length=10, choices=MediaStatus.choices, default=MediaStatus.MISSING)
    media_error = models.TextField(blank=True, help_text="Why the file is unusable.")
    duration_seconds = models.FloatField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    has_audio = models.BooleanField(null=True, blank=True)
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    media_probed_at = models.DateTimeField(null=True, blank=True)
    media_flags = models.JSONField(
        default=list, blank=True, help_text="What probing found worth knowing, e.g. no_audio, short, long."
    )

    class Meta:
        ordering = ["dataset", "clip_id"]
        constraints = [models.UniqueConstraint(fields=["dataset", "clip_id"], name="clip_unique_id")]

    def __str__(self) -> str:
        return self.clip_id


class ClipLabel(models.Model):
    """An original (reference) label of a clip, as the source annotation gives it."""

    # Written 200k at a time by a VGGSound import: clip needs no index of its own
    # (cliplabel_unique starts with it) and category no database constraint (see
    # StudyClipLabel.category: checking it locks one of a taxonomy's rows per new label).
    clip = models.ForeignKey(Clip, on_delete=models.CASCADE, related_name="clip_labels", db_index=False)
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="clip_labels", db_constraint=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clip", "category"], name="cliplabel_unique")]


class ProposalSet(models.Model):
    """Labels proposed for a dataset's clips, from a file or from a model run."""

    class Source(models.TextChoices):
        FILE = "file", "imported file"
        MODEL = "model", "model run"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="proposal_sets")
    name = models.CharField(max_length=200)
    source = models.CharField(max_length=10, choices=Source.choices)
    source_ref = models.CharField(max_length=300, blank=True, help_text="File path, or 'model-run:<id>'.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["dataset", "name"], name="proposalset_unique_name")]

    def __str__(self) -> str:
        return self.name


class Proposal(models.Model):
    proposal_set = models.ForeignKey(ProposalSet, on_delete=models.CASCADE, related_name="proposals")
    clip = models.ForeignKey(Clip, on_delete=models.CASCADE, related_name="proposals")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="proposals")
    score = models.FloatField(null=True, blank=True)
    heads = models.JSONField(default=list, blank=True, help_text="Names of the heads that proposed it.")

    class Meta:
        ordering = ["clip", "-score"]
        constraints = [
            models.UniqueConstraint(fields=["proposal_set", "clip", "category"], name="proposal_unique"),
        ]


class ClipEvidence(models.Model):
    """What the model saw in a clip: instant and onset moments, event type, a heatmap image."""

    proposal_set = models.ForeignKey(ProposalSet, on_delete=models.CASCADE, related_name="evidence")
    clip = models.ForeignKey(Clip, on_delete=models.CASCADE, related_name="evidence")
    event_type = models.CharField(max_length=20, blank=True)
    instant_seconds = models.JSONField(default=list, blank=True)
    onset_seconds = models.JSONField(default=list, blank=True)
    heatmap_path = models.CharField(max_length=500, blank=True, help_text="Relative to MEDIA_ROOT.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal_set", "clip"], name="evidence_unique")]


class Modality(models.TextChoices):
    """Where a present label is: heard only, seen only, or both; blank when not given."""

    NONE = "", "not given"
    AUDIO = "A", "heard only"
    VISUAL = "V", "seen only"
    BOTH = "AV", "heard and seen"


class GoldLabel(models.Model):
    """Known truth for one label of a clip: present (with its modality, when known) or absent.
    Loaded from a gold file or promoted from an earlier study's consensus; rater scoring
    counts only labels with a row here."""

    clip = models.ForeignKey(Clip, on_delete=models.CASCADE, related_name="gold_labels")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    present = models.BooleanField()
    modality = models.CharField(max_length=2, choices=Modality.choices, blank=True, default="")
    source = models.CharField(max_length=300, blank=True, help_text="Gold file, or 'study:<id>'.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clip", "category"], name="goldlabel_unique")]
