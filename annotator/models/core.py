"""Datasets, clips, proposals and the rating studies built on them.

Proposals are plain data here: annotator never imports the model code. A proposal set
comes from an imported file or from a model run (modelzoo writes it through services).
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


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

    clip = models.ForeignKey(Clip, on_delete=models.CASCADE, related_name="clip_labels")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="clip_labels")

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


class Study(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "active"
        PAUSED = "paused", "paused"
        CLOSED = "closed", "closed"

    class Serving(models.TextChoices):
        FIXED = "fixed", "fixed overlap"
        SETTLED = "settled", "until settled"

    name = models.CharField(max_length=200)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="studies")
    proposal_set = models.ForeignKey(ProposalSet, on_delete=models.PROTECT, related_name="studies")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_studies")
    raters = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="rater_studies", blank=True)
    instructions = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)

    sample_size = models.PositiveIntegerField()
    seed = models.IntegerField(default=0)
    stratified = models.BooleanField(default=True, help_text="Sample evenly across the clips' original labels.")
    split = models.CharField(max_length=20, blank=True, help_text="Sample only clips of this split.")
    raters_per_clip = models.PositiveIntegerField(
        default=3, help_text="The fixed overlap; with serving 'settled', the most raters a clip gets."
    )
    serving = models.CharField(max_length=10, choices=Serving.choices, default=Serving.FIXED)
    min_raters = models.PositiveIntegerField(default=3, help_text="With serving 'settled': the fewest raters.")
    settle_error = models.FloatField(
        default=0.02, help_text="With serving 'settled': the error a label's sequential decision may have."
    )
    quiet_raters = models.PositiveIntegerField(
        default=8,
        help_text="With serving 'settled': raters in a row who added nothing before a clip's label set is complete.",
    )
    ask_modality = models.BooleanField(
        default=True, help_text="Raters say whether a present label is heard, seen or both."
    )
    max_labels_shown = models.PositiveIntegerField(default=10, help_text="Labels shown per clip, added ones included.")
    decoys_per_clip = models.PositiveIntegerField(default=1)
    gold_rate = models.FloatField(default=0.0, help_text="Share of extra clips with known labels, 0..1.")
    show_evidence = models.BooleanField(default=False)
    reservation_timeout_seconds = models.PositiveIntegerField(default=600)
    exclude_media_flags = models.JSONField(
        default=list, blank=True, help_text="Clips with any of these media flags were left out of the sample."
    )
    qualification_clips = models.PositiveIntegerField(
        default=0, help_text="Gold clips a rater must rate before the main queue; 0: no qualification."
    )
    qualification_pass_mark = models.FloatField(
        default=0.8, help_text="Share of the qualification's labels a rater must answer as the truth says, 0..1."
    )
    gold_feedback = models.BooleanField(
        default=False, help_text="After a gold clip, show the rater which answers disagreed with the truth."
    )
    pause_below_gold_accuracy = models.FloatField(
        null=True, blank=True, help_text="Pause a rater whose running gold accuracy falls below this, 0..1."
    )
    pause_above_decoy_acceptance = models.FloatField(
        null=True, blank=True, help_text="Pause a rater who accepts more than this share of decoys, 0..1."
    )
    auto_pause_min_answers = models.PositiveIntegerField(
        default=10, help_text="Gold or decoy answers a rater gives before automatic pausing judges them."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "studies"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(gold_rate__gte=0) & Q(gold_rate__lte=1), name="study_gold_rate_0_1"),
            models.CheckConstraint(
                condition=Q(qualification_pass_mark__gte=0) & Q(qualification_pass_mark__lte=1),
                name="study_pass_mark_0_1",
            ),
            models.CheckConstraint(condition=Q(raters_per_clip__gte=1), name="study_raters_per_clip_min_1"),
            models.CheckConstraint(
                condition=Q(min_raters__gte=1) & Q(min_raters__lte=models.F("raters_per_clip")),
                name="study_min_raters_1_to_max",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StudyClip(models.Model):
    """A clip sampled into a study; `position` is the seeded serving order.

    `completed_count` mirrors the clip's ratings that were not skipped. rating_submit sets
    it from the ratings table while holding the clip's row lock; the queue only ranks
    candidates by it (through `studyclip_queue_order`) and re-counts the real ratings
    under the lock before reserving, so a stale value can cost a retry, never an over-serve.
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="study_clips")
    clip = models.ForeignKey(Clip, on_delete=models.PROTECT, related_name="study_clips")
    position = models.PositiveIntegerField()
    is_gold = models.BooleanField(default=False)
    completed_count = models.PositiveIntegerField(default=0, editable=False)
    settled = models.BooleanField(
        default=False, editable=False, help_text="Serving 'settled': its label set is decided; it is served no more."
    )
    quiet_ratings = models.PositiveIntegerField(
        default=0, editable=False, help_text="Completed ratings in a row, up to the latest, that added no label."
    )

    class Meta:
        ordering = ["study", "position"]
        constraints = [
            models.UniqueConstraint(fields=["study", "clip"], name="studyclip_unique_clip"),
            models.UniqueConstraint(fields=["study", "position"], name="studyclip_unique_position"),
        ]
        indexes = [
            # The queue's serving order among clips still served: most completed first, then by position.
            models.Index(fields=["study", "settled", "-completed_count", "position"], name="studyclip_queue_order"),
        ]


class StudyClipLabel(models.Model):
    """A label shown to raters for a study clip: a proposal or a decoy (in shuffled order,
    fixed when the study is created), or a label a rater added, shown to the clip's later
    raters from `created_at` on (blind: nothing tells them it was added) until `hidden_at`."""

    class Source(models.TextChoices):
        PROPOSAL = "proposal", "model proposal"
        DECOY = "decoy", "decoy"
        ADDED = "added", "added by a rater"

    study_clip = models.ForeignKey(StudyClip, on_delete=models.CASCADE, related_name="shown_labels")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    is_decoy = models.BooleanField(default=False)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PROPOSAL)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    position = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    hidden_at = models.DateTimeField(null=True, blank=True, help_text="When it stopped being shown.")
    hidden_reason = models.CharField(
        max_length=10,
        blank=True,
        help_text="rejected: added once and rejected by the next raters; present / absent: decided "
        "(serving 'settled'); cap: added when the clip already showed max_labels_shown labels.",
    )

    class Meta:
        ordering = ["study_clip", "position"]
        constraints = [models.UniqueConstraint(fields=["study_clip", "category"], name="shownlabel_unique")]


class RaterGoldTally(models.Model):
    """A rater's decisive answers on a study's gold labels, by truth: what the settled queue
    weighs their votes with (their sensitivity and specificity), and what automatic pausing
    judges them by, with their answers on decoys. Written by rating_submit."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="gold_tallies")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    true_present = models.PositiveIntegerField(default=0, help_text="Present on a label known present.")
    false_absent = models.PositiveIntegerField(default=0, help_text="Absent on a label known present.")
    true_absent = models.PositiveIntegerField(default=0, help_text="Absent on a label known absent.")
    false_present = models.PositiveIntegerField(default=0, help_text="Present on a label known absent.")
    # Kept only in studies that pause raters on decoy acceptance (Study.pause_above_decoy_acceptance).
    decoys_answered = models.PositiveIntegerField(default=0, help_text="Decisive answers on decoys.")
    decoys_accepted = models.PositiveIntegerField(default=0, help_text="Decoys answered present.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "rater"], name="ratergoldtally_unique")]


class Reservation(models.Model):
    """A clip handed to a rater and not yet submitted; it lapses at `expires_at`."""

    study_clip = models.ForeignKey(StudyClip, on_delete=models.CASCADE, related_name="reservations")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reservations")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    # Held ahead: reserved while the rater works on another clip, so the page can preload it.
    # It counts in the clip's load like any reservation; its clock starts again, once, when
    # the rater moves on to it (services.prefetch). A database default: the queue inserts raw.
    ahead = models.BooleanField(default=False, db_default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study_clip", "rater"], name="reservation_unique")]


class Rating(models.Model):
    """One rater's answer for one study clip; at most one per pair (submits are idempotent).
    A revision replaces its judgments in place and keeps the replaced ones as a
    RatingVersion, so a clip counts a rater once and the consensus reads the latest."""

    study_clip = models.ForeignKey(StudyClip, on_delete=models.CASCADE, related_name="ratings")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ratings")
    skipped = models.BooleanField(default=False)
    seconds_spent = models.FloatField(null=True, blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)
    # A database default: the submit hot path inserts raw.
    version = models.PositiveIntegerField(default=1, db_default=1, editable=False)
    revised_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["study_clip", "submitted_at"]
        constraints = [models.UniqueConstraint(fields=["study_clip", "rater"], name="rating_unique")]


class Judgment(models.Model):
    """Present / absent / unsure for one label of a rating; added labels are rater-proposed."""

    class Answer(models.TextChoices):
        PRESENT = "present", "present"
        ABSENT = "absent", "absent"
        UNSURE = "unsure", "unsure"

    rating = models.ForeignKey(Rating, on_delete=models.CASCADE, related_name="judgments")
    # The rating's study, copied: evaluation reads a study's millions of answers by this
    # index instead of joining them to ratings and study clips (bench/README.md, study_scale).
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+", editable=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    answer = models.CharField(max_length=10, choices=Answer.choices)
    modality = models.CharField(max_length=2, choices=Modality.choices, blank=True, default="")
    added_by_rater = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rating", "category"], name="judgment_unique")]
