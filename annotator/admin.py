from django.contrib import admin

from annotator import models


class CategoryInline(admin.TabularInline):
    model = models.Category
    extra = 0


@admin.register(models.Taxonomy)
class TaxonomyAdmin(admin.ModelAdmin):
    list_display = ["name", "source", "created_at"]
    inlines = [CategoryInline]


@admin.register(models.Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "taxonomy", "index", "group"]
    list_filter = ["taxonomy", "group"]
    search_fields = ["name"]


@admin.register(models.Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "taxonomy", "media_root", "created_at"]


class ClipLabelInline(admin.TabularInline):
    model = models.ClipLabel
    extra = 0
    raw_id_fields = ["category"]


@admin.register(models.Clip)
class ClipAdmin(admin.ModelAdmin):
    list_display = ["clip_id", "dataset", "split", "media_status", "duration_seconds", "has_audio"]
    list_filter = ["dataset", "split", "media_status"]
    search_fields = ["clip_id", "youtube_id"]
    inlines = [ClipLabelInline]


@admin.register(models.ProposalSet)
class ProposalSetAdmin(admin.ModelAdmin):
    list_display = ["name", "dataset", "source", "source_ref", "created_at"]


@admin.register(models.Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ["clip", "category", "score", "heads", "proposal_set"]
    list_filter = ["proposal_set"]
    raw_id_fields = ["clip", "category"]


@admin.register(models.ClipEvidence)
class ClipEvidenceAdmin(admin.ModelAdmin):
    list_display = ["clip", "proposal_set", "event_type"]
    raw_id_fields = ["clip"]


class StudyClipInline(admin.TabularInline):
    model = models.StudyClip
    extra = 0
    raw_id_fields = ["clip"]


@admin.register(models.Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["name", "dataset", "owner", "status", "sample_size", "raters_per_clip", "created_at"]
    filter_horizontal = ["raters"]


@admin.register(models.StudyClip)
class StudyClipAdmin(admin.ModelAdmin):
    list_display = ["study", "clip", "position", "is_gold"]
    list_filter = ["study", "is_gold"]
    raw_id_fields = ["clip"]


@admin.register(models.StudyClipLabel)
class StudyClipLabelAdmin(admin.ModelAdmin):
    list_display = ["study_clip", "category", "is_decoy", "position"]
    raw_id_fields = ["study_clip", "category"]


@admin.register(models.Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = ["study_clip", "rater", "created_at", "expires_at"]
    raw_id_fields = ["study_clip"]


class JudgmentInline(admin.TabularInline):
    model = models.Judgment
    extra = 0
    can_delete = False
    raw_id_fields = ["category"]


@admin.register(models.Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ["study_clip", "rater", "skipped", "seconds_spent", "submitted_at"]
    list_filter = ["skipped"]
    raw_id_fields = ["study_clip"]
    inlines = [JudgmentInline]

    # Ratings are the raters' record and feed the queue's completed counts: read-only here.
    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(models.ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "kind", "dataset", "owner", "status", "error_count", "created_at"]
    list_filter = ["kind", "status"]
    readonly_fields = ["errors", "result", "task_id", "attempts", "started_at", "finished_at"]
