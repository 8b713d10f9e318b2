"""Shared by the train and predict commands: follow a run with a tqdm bar."""

import time
import uuid

from tqdm import tqdm

from modelzoo import selectors, services
from modelzoo.models import ModelRun
from modelzoo.nn.events import PredictProgress, TrainEvent

POLL_SECONDS = 1.0
BAR_UNITS = 1000


def inline_task_id() -> str:
    """A task id for a run executed in this process (claims need one)."""
    return f"inline-{uuid.uuid4()}"


class FractionBar:
    """A tqdm bar fed with 0..1 fractions (events from nn.train / nn.infer)."""

    def __init__(self, desc: str) -> None:
        self.bar = tqdm(total=BAR_UNITS, desc=desc, bar_format="{l_bar}{bar}| {elapsed}<{remaining}{postfix}")

    def __call__(self, event: TrainEvent | PredictProgress) -> None:
        self.bar.update(max(0, round(event.fraction * BAR_UNITS) - self.bar.n))
        if isinstance(event, TrainEvent):
            self.bar.set_postfix(epoch=event.epoch, loss=f"{event.loss:.4f}", refresh=False)

    def close(self) -> None:
        self.bar.close()


def wait_for(run: ModelRun) -> ModelRun:
    """Poll the run until a worker finishes it, showing its progress."""
    bar = tqdm(total=BAR_UNITS, desc=f"run {run.pk}", bar_format="{l_bar}{bar}| {elapsed}{postfix}")
    try:
        while True:
            run = selectors.run_get(run_id=run.pk)
            bar.update(max(0, round(run.progress * BAR_UNITS) - bar.n))
            bar.set_postfix_str(f"{run.status}: {run.progress_message}")
            if run.is_finished:
                return run
            time.sleep(POLL_SECONDS)
    finally:
        bar.close()


def follow_run(run: ModelRun, *, mode: str, execute, stdout) -> ModelRun | None:
    """Run it in this process (``inline``, with a bar), follow a worker (``wait``), or only
    say where to follow it; None when the run was only queued.

    ``execute(run_id=, task_id=, echo=)`` is ``training.model_run_train`` or
    ``inference.model_run_predict_inline``.
    """
    if mode == "inline":
        bar = FractionBar(f"{run.kind} run {run.pk}")
        try:
            return execute(run_id=run.pk, task_id=inline_task_id(), echo=bar)
        except BaseException as exc:
            services.model_run_fail(run_id=run.pk, error=f"{type(exc).__name__}: {exc}")
            raise
        finally:
            bar.close()
    if mode == "wait":
        return wait_for(run)
    stdout.write(f"queued; follow it at /runs/{run.pk}/")
    return None


def run_mode(options: dict) -> str:
    return "inline" if options["inline"] else "wait" if options["wait"] else "queue"
