"""The researcher's control of a running study: each rater's standing (paused, removed,
qualified), the qualification set and attempts, rating versions kept on revision,
adjudicated labels, and the audit trail of researcher actions."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotator.models.catalog import Category, Clip, Modality
from annotator.models.studies import Judgment, Rating, Study, StudyClip


class StudyRater(models.Model):
    """A rater's standing in a study. No row: active and not yet qualified. Membership
    itself stays Study.raters (what access checks read); a removed rater leaves it."""

    class State(models.TextChoices):
        ACTIVE = "active", "active"
        PAUSED = "paused", "paused"
        REMOVED = "removed", "removed"

    class Qualification(models.TextChoices):
        NONE = "", "not taken"
        PASSED = "passed", "passed"
        FAILED = "failed", "failed"
        ADMITTED = "admitted", "admitted by the researcher"

    QUALIFIED = (Qualification.PASSED, Qualification.ADMITTED)

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="rater_standings")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_standings")
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    reason = models.TextField(blank=True, help_text="Why they were paused or removed (an automatic pause says so).")
    ratings_excluded = models.BooleanField(
        default=False, help_text="Removed with their ratings left out of the consensus, tables and exports."
    )
    qualification = models.CharField(max_length=10, choices=Qualification.choices, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "rater"], name="studyrater_unique")]


class QualificationClip(models.Model):
    """A gold clip of the study's qualification set (chosen when the study is created, seeded,
    never one of the study's own clips); raters are shown its gold-labelled categories."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="qualification_set")
    clip = models.ForeignKey(Clip, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["study", "position"]
        constraints = [
            models.UniqueConstraint(fields=["study", "clip"], name="qualificationclip_unique_clip"),
            models.UniqueConstraint(fields=["study", "position"], name="qualificationclip_unique_position"),
        ]


class QualificationAttempt(models.Model):
    """One pass of a rater through the qualification set; its answers never enter the
    study's consensus. `passed` is None until every clip is answered."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="qualification_attempts")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField(help_text="1 for the first attempt, 2 after a retry the researcher allowed...")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    correct = models.PositiveIntegerField(default=0, help_text="Labels answered as the truth says.")
    total = models.PositiveIntegerField(default=0, help_text="Labels answered.")
    passed = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["study", "rater", "number"]
        constraints = [models.UniqueConstraint(fields=["study", "rater", "number"], name="qualattempt_unique")]

    @property
    def score(self) -> float | None:
        return self.correct / self.total if self.total else None


class QualificationAnswer(models.Model):
    """A rater's answer on one gold label of a qualification clip, and whether it agreed."""

    attempt = models.ForeignKey(QualificationAttempt, on_delete=models.CASCADE, related_name="answers")
    clip = models.ForeignKey(Clip, on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    answer = models.CharField(max_length=10, choices=Judgment.Answer.choices)
    modality = models.CharField(max_length=2, choices=Modality.choices, blank=True, default="")
    correct = models.BooleanField()
    seconds_spent = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attempt", "clip", "category"], name="qualanswer_unique")]


class RatingVersion(models.Model):
    """A rating as it stood before a revision: its answers, kept for the audit trail."""

    rating = models.ForeignKey(Rating, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    skipped = models.BooleanField(default=False)
    seconds_spent = models.FloatField(null=True, blank=True)
    submitted_at = models.DateTimeField(help_text="When this version was submitted.")
    replaced_at = models.DateTimeField(auto_now_add=True)
    answers = models.JSONField(
        default=list, help_text="[{category, answer, modality, added_by_rater}] as the version stood."
    )

    class Meta:
        ordering = ["rating", "version"]
        constraints = [models.UniqueConstraint(fields=["rating", "version"], name="ratingversion_unique")]


class Adjudication(models.Model):
    """The researcher's decision on a contested label of a study clip: it overrides the
    raters' vote in the consensus, and the dataset export marks it."""

    class Decision(models.TextChoices):
        PRESENT = "present", "present"
        ABSENT = "absent", "absent"

    study_clip = models.ForeignKey(StudyClip, on_delete=models.CASCADE, related_name="adjudications")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    modality = models.CharField(max_length=2, choices=Modality.choices, blank=True, default="")
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study_clip", "category"], name="adjudication_unique"),
            models.CheckConstraint(
                condition=Q(decision="present") | Q(modality=""), name="adjudication_modality_if_present"
            ),
        ]


class StudyEvent(models.Model):
    """One researcher action on a study (or an automatic one, actor None): the audit trail."""

    class Action(models.TextChoices):
        STUDY_PAUSED = "study_paused", "paused the study"
        STUDY_RESUMED = "study_resumed", "resumed the study"
        STUDY_CLOSED = "study_closed", "closed the study"
        STUDY_REOPENED = "study_reopened", "reopened the study"
        RATERS_ADDED = "raters_added", "added raters"
        RATER_PAUSED = "rater_paused", "paused a rater"
        RATER_AUTO_PAUSED = "rater_auto_paused", "paused a rater automatically"
        RATER_RESUMED = "rater_resumed", "resumed a rater"
        RATER_REMOVED = "rater_removed", "removed a rater"
        QUALIFICATION_RETRY = "qualification_retry", "let a rater retry the qualification"
        QUALIFICATION_ADMITTED = "qualification_admitted", "admitted a rater without qualification"
        LABEL_ADJUDICATED = "label_adjudicated", "adjudicated a label"
        ADJUDICATION_CLEARED = "adjudication_cleared", "cleared an adjudication"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=30, choices=Action.choices)
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The rater the action was about, if any.",
    )
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["study", "-created_at"], name="studyevent_study_created")]
