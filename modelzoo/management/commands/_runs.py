"""Shared by the train and predict commands: follow a run with a tqdm bar."""

import time
import uuid

from tqdm import tqdm

from modelzoo import selectors
from modelzoo.models import ModelRun

POLL_SECONDS = 1.0
BAR_UNITS = 1000


def inline_task_id() -> str:
    """A task id for a run executed in this process (claims need one)."""
    return f"inline-{uuid.uuid4()}"


class FractionBar:
    """A tqdm bar fed with 0..1 fractions (events from nn.train / nn.infer)."""

    def __init__(self, desc: str) -> None:
        self.bar = tqdm(total=BAR_UNITS, desc=desc, bar_format="{l_bar}{bar}| {elapsed}<{remaining}{postfix}")

    def __call__(self, event: dict) -> None:
        fraction = float(event.get("fraction", 0.0))
        self.bar.update(max(0, round(fraction * BAR_UNITS) - self.bar.n))
        if "loss" in event:
            self.bar.set_postfix(epoch=event.get("epoch"), loss=f"{event['loss']:.4f}", refresh=False)

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
