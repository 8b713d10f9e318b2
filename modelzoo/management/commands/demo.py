"""Build the demo (synthetic clips, a tiny model trained by a Celery worker, proposals, a
study, demo accounts) and serve the site, with the worker running beside the web server."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from tqdm import tqdm

from modelzoo import demo
from modelzoo.management.commands._runs import wait_for
from modelzoo.models import ModelRun

STOP_GRACE_SECONDS = 10


class Command(BaseCommand):
    help = "Build the demo on the embedded default and serve it (Ctrl-C stops the server and the worker)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="Build the demo, then stop the worker and exit.")
        parser.add_argument("--clips", type=int, default=demo.DemoPlan.clips)
        parser.add_argument("--epochs", type=int, default=demo.DemoPlan.epochs)

    def handle(self, *args, **options) -> None:
        # Ctrl-C and a plain kill both stop the children first (SIGINT may arrive ignored
        # when the command was started in the background).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _raise_interrupt)
        self.started = time.monotonic()
        self.children: list[subprocess.Popen] = []
        try:
            self._build(options)
            if not options["no_serve"]:
                self._serve(options["host"], options["port"])
        except KeyboardInterrupt:
            self.stdout.write("\nstopping…")
        finally:
            for process in reversed(self.children):
                _stop(process)

    def _build(self, options) -> None:
        plan = demo.DemoPlan(clips=options["clips"], epochs=options["epochs"])
        call_command("migrate", verbosity=0)
        self.accounts = demo.demo_accounts_ensure()
        owner = get_user_model().objects.get(username=self.accounts[0].username)
        self.children.append(self._start_worker())  # it boots (imports torch) while clips are written

        with tqdm(desc="synthetic clips", unit="clip") as bar:

            def on_progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            dataset = demo.demo_dataset_ensure(
                root=settings.DATA_DIR / "demo" / "synthetic", plan=plan, owner=owner, on_progress=on_progress
            )
        self.stdout.write(f"dataset {dataset.name}: {dataset.clips.count()} clips")

        training = demo.demo_training_run(dataset=dataset, plan=plan, owner=owner)
        training = self._follow(training, "training the tiny event-head model")
        self._report_validation(training)
        prediction = demo.demo_prediction_run(source_run=training, owner=owner)
        prediction = self._follow(prediction, "proposing labels")
        if prediction.proposal_set is None:
            raise CommandError(f"run {prediction.pk} stored no proposals: {prediction.progress_message}")
        study = demo.demo_study_ensure(dataset=dataset, proposal_set=prediction.proposal_set, plan=plan)
        self.stdout.write(f"study '{study.name}': {study.study_clips.count()} clips")

        # The baselines queue behind each other on the worker; each then predicts the held-out split.
        baselines = [
            demo.demo_training_run(dataset=dataset, plan=plan, owner=owner, model_kind=kind)
            for kind in demo.BASELINE_KINDS
        ]
        held_out = []
        for run in [training, *baselines]:
            run = self._follow(run, f"training the {run.get_model_kind_display()} baseline")
            if run.pk != training.pk:
                self._report_validation(run)
            held_out.append(demo.demo_prediction_run(source_run=run, owner=owner, split=demo.HELD_OUT_SPLIT))
        held_out = [self._follow(run, f"predicting the {demo.HELD_OUT_SPLIT} split") for run in held_out]
        self.dashboard_path = reverse("evaluation:run", kwargs={"run_id": held_out[0].pk})

    def _report_validation(self, run: ModelRun) -> None:
        accuracy = demo.validation_vote_accuracy(run)
        if accuracy is not None:
            self.stdout.write(f"{run.get_model_kind_display()}: validation vote accuracy {accuracy:.2f}")

    def _serve(self, host: str, port: int) -> None:
        command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"{host}:{port}"]
        # Threads rather than processes: SQLite and two cores. The long timeout covers the
        # first spectrogram, while librosa compiles.
        command += ["--workers", "1", "--threads", "8", "--timeout", "180", "--log-level", "warning"]
        self.children.append(_spawn(command))
        seconds = time.monotonic() - self.started
        self.stdout.write(self.style.SUCCESS(f"\navlabel is serving at http://{host}:{port}/ ({seconds:.0f} s)"))
        for account in self.accounts:
            self.stdout.write(f"  {account.role:<10} {account.username:<11} password {account.password}")
        self.stdout.write(f"Tables 1 and 2 (held-out clips): http://{host}:{port}{self.dashboard_path}")
        self.stdout.write("Press Ctrl-C to stop the server and the worker.")
        while all(process.poll() is None for process in self.children):
            time.sleep(0.5)
        dead = [process.args[2] for process in self.children if process.poll() is not None]
        raise CommandError(f"{', '.join(dead)} stopped unexpectedly")

    def _follow(self, run: ModelRun, what: str) -> ModelRun:
        if run.status != ModelRun.Status.SUCCEEDED:
            self.stdout.write(f"{what} (run {run.pk}, on the Celery worker)")
            run = wait_for(run)
        if run.status != ModelRun.Status.SUCCEEDED:
            raise CommandError(f"run {run.pk} {run.status}: {run.error or run.progress_message}")
        return run

    def _start_worker(self) -> subprocess.Popen:
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default,gpu"]
        command += ["--pool", "solo", "--loglevel", "WARNING", "--hostname", f"demo-{os.getpid()}@%h"]
        return _spawn(command)


def _spawn(command: list[str]) -> subprocess.Popen:
    # A session of its own: Ctrl-C reaches only this command, which then stops the children
    # in order instead of racing them.
    return subprocess.Popen(command, cwd=settings.BASE_DIR, start_new_session=True)


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
