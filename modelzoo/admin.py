from django.contrib import admin

from modelzoo.models import ModelRun, Prediction


@admin.register(ModelRun)
class ModelRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "model_kind",
        "config_name",
        "dataset",
        "status",
        "progress",
        "created_by",
        "created_at",
    ]
    list_filter = ["kind", "model_kind", "status", "config_name"]
    search_fields = ["dataset__name", "progress_message", "error"]
    raw_id_fields = ["dataset", "source_run", "proposal_set", "created_by"]
    readonly_fields = ["created_at", "started_at", "finished_at", "task_id", "finalizer_task_id", "attempts"]


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ["id", "run", "clip", "vote_index", "event_type", "error"]
    list_filter = ["event_type"]
    search_fields = ["clip__clip_id"]
    raw_id_fields = ["run", "clip"]
