"""Start a prediction run with a trained run's model: queued for GPU workers, or --inline."""

from django.core.management.base import BaseCommand, CommandError

from annotator import selectors as annotator_selectors
from config.errors import ApplicationError, NotFoundError
from modelzoo import inference, selectors, services
from modelzoo.management.commands._runs import follow_run, run_mode
from modelzoo.models import ModelRun


class Command(BaseCommand):
    help = (
        "Predict labels for a dataset's clips with the model of a finished training run; --proposals NAME "
        "stores the union labels as a proposal set. Queued for Celery GPU workers (fanned out in chunks) "
        "unless --inline. The run belongs to --owner (who must be allowed to use the training run and the "
        "dataset); without one, to admins only."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--run", type=int, required=True, help="Id of the finished training run.")
        parser.add_argument("--dataset", default="", help="Dataset name (default: the run's).")
        parser.add_argument("--split", default="", help="Only this split (default: all).")
        parser.add_argument("--clip", action="append", default=[], help="Only these clip ids (repeatable).")
        parser.add_argument("--proposals", default="", metavar="NAME", help="Store proposals as this set.")
        parser.add_argument("--chunk-size", type=int, default=64)
        parser.add_argument("--no-heatmaps", action="store_true")
        parser.add_argument("--owner", default="", metavar="USERNAME", help="Researcher the run belongs to.")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--inline", action="store_true", help="Predict in this process (no worker).")
        mode.add_argument("--wait", action="store_true", help="Queue, then follow the run until it ends.")

    def handle(self, *args, **options) -> None:
        try:
            dataset = annotator_selectors.dataset_get_by_name(name=options["dataset"]) if options["dataset"] else None
        except NotFoundError:
            raise CommandError(f"no dataset named {options['dataset']!r}") from None
        try:
            source_run = selectors.run_get(run_id=options["run"])
            owner = annotator_selectors.researcher_get(username=options["owner"]) if options["owner"] else None
            run = services.model_run_start_prediction(
                source_run=source_run,
                dataset=dataset,
                split=options["split"],
                clip_ids=options["clip"],
                chunk_size=options["chunk_size"],
                make_proposals=bool(options["proposals"]),
                proposal_set_name=options["proposals"],
                with_heatmaps=not options["no_heatmaps"],
                created_by=owner,
                enqueue=not options["inline"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"run {run.pk}: {run.items_total} clips to predict")
        run = follow_run(run, mode=run_mode(options), execute=inference.model_run_predict_inline, stdout=self.stdout)
        if run is None:
            return
        style = self.style.SUCCESS if run.status == ModelRun.Status.SUCCEEDED else self.style.ERROR
        self.stdout.write(style(f"run {run.pk} {run.status}: {run.progress_message} {run.error}".strip()))
        if run.status != ModelRun.Status.SUCCEEDED:
            raise CommandError(f"run {run.pk} {run.status}")
