"""Writes over model runs: start, claim, report progress, finish, cancel; store predictions and
turn them into proposals. The heavy work (training, inference) lives in ``modelzoo.training``
and ``modelzoo.inference``; Celery tasks in ``modelzoo.tasks`` only call these functions.

runs (starting runs, devices and folders) -> lifecycle (claim, beat, progress, finish, cancel,
reap lost runs) -> predictions (chunks, stored predictions, proposals); heartbeat (the thread
that beats a claimed row); datasets (the synthetic dataset's import); sharing (a run shared
with named researchers).
Callers use the names exported here (``services.model_run_claim``), never the modules.
"""

from modelzoo.services.datasets import synthetic_dataset_import
from modelzoo.services.heartbeat import Heartbeat
from modelzoo.services.lifecycle import (
    MESSAGE_MAX,
    ReapReport,
    RunClaim,
    json_safe,
    model_run_cancel,
    model_run_claim,
    model_run_epoch_record,
    model_run_fail,
    model_run_finalize_claim,
    model_run_heartbeat,
    model_run_items_lost,
    model_run_mark_cancelled,
    model_run_prepare,
    model_run_progress,
    model_run_release,
    model_run_succeed,
    model_run_timing_add,
    model_runs_reap,
)
from modelzoo.services.predictions import (
    PREDICTION_FIELDS,
    prediction_chunk_claim,
    prediction_chunk_done,
    prediction_chunk_heartbeat,
    prediction_chunks_plan,
    predictions_store,
    proposals_from_predictions,
)
from modelzoo.services.runs import (
    device_choose,
    feature_cache_directory,
    model_run_start_prediction,
    model_run_start_training,
    run_directory,
)
from modelzoo.services.sharing import model_run_share

__all__ = [
    "MESSAGE_MAX",
    "PREDICTION_FIELDS",
    "Heartbeat",
    "ReapReport",
    "RunClaim",
    "device_choose",
    "feature_cache_directory",
    "json_safe",
    "model_run_cancel",
    "model_run_claim",
    "model_run_epoch_record",
    "model_run_fail",
    "model_run_finalize_claim",
    "model_run_heartbeat",
    "model_run_items_lost",
    "model_run_mark_cancelled",
    "model_run_prepare",
    "model_run_progress",
    "model_run_release",
    "model_run_share",
    "model_run_start_prediction",
    "model_run_start_training",
    "model_run_succeed",
    "model_run_timing_add",
    "model_runs_reap",
    "prediction_chunk_claim",
    "prediction_chunk_done",
    "prediction_chunk_heartbeat",
    "prediction_chunks_plan",
    "predictions_store",
    "proposals_from_predictions",
    "run_directory",
    "synthetic_dataset_import",
]
