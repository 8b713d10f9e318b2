"""Rating studies built on a dataset: their clips, the labels each shows, reservations,
ratings and the answers in them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from annotator.models.catalog import Category, Clip, Dataset, Modality, ProposalSet


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

    # A 200k-clip study writes 600k of these at once (bench/study_scale.py), so each index
    # and foreign-key check counts: study_clip needs no index of its own (shownlabel_unique
    # starts with it), and category has no database constraint. Checking it cost 8 s of a
    # 200k study's creation (PostgreSQL locks the referenced row for every new row, and
    # the 309 rows of a taxonomy are the most locked rows in the database); Django's
    # PROTECT still refuses to delete a category a shown label uses.
    study_clip = models.ForeignKey(StudyClip, on_delete=models.CASCADE, related_name="shown_labels", db_index=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+", db_constraint=False)
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
