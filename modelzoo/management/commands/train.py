"""Start a training run: queued for a GPU worker, or --inline in this process."""

from django.core.management.base import BaseCommand, CommandError

from annotator import selectors as annotator_selectors
from config.errors import ApplicationError, NotFoundError
from modelzoo import services, training
from modelzoo.management.commands._runs import follow_run, run_mode
from modelzoo.models import ModelRun

RECIPE = "recipe"


class Command(BaseCommand):
    help = (
        "Train a model on a dataset. By default the run is queued for a Celery worker on the gpu queue "
        "(--wait follows it); --inline trains in this process instead, with no worker needed. The run belongs to "
        "--owner (who must be allowed to use the dataset); without one, to admins only."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dataset", required=True, help="Dataset name.")
        parser.add_argument(
            "--kind", default=ModelRun.ModelKind.EVENT_HEADS, choices=[*ModelRun.ModelKind.values, RECIPE]
        )
        parser.add_argument("--config", default="tiny", help="Model config: tiny or paper.")
        parser.add_argument("--epochs", type=int, default=10)
        parser.add_argument("--batch-size", type=int, default=8)
        parser.add_argument("--lr", type=float, default=1e-3)
        parser.add_argument("--split", default="train")
        parser.add_argument("--val-split", default="val", help="'' for no validation.")
        parser.add_argument("--vision-weights", default="", help="Local MC3-18 weights file (recipe).")
        parser.add_argument("--owner", default="", metavar="USERNAME", help="Researcher the run belongs to.")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--inline", action="store_true", help="Train in this process (no worker).")
        mode.add_argument("--wait", action="store_true", help="Queue, then follow the run until it ends.")

    def handle(self, *args, **options) -> None:
        try:
            dataset = annotator_selectors.dataset_get_by_name(name=options["dataset"])
        except NotFoundError:
            raise CommandError(f"no dataset named {options['dataset']!r}") from None
        recipe = options["kind"] == RECIPE
        try:
            owner = annotator_selectors.researcher_get(username=options["owner"]) if options["owner"] else None
            run = services.model_run_start_training(
                dataset=dataset,
                model_kind=ModelRun.ModelKind.EVENT_HEADS if recipe else options["kind"],
                recipe=recipe,
                config_name=options["config"],
                split=options["split"],
                val_split=options["val_split"],
                epochs=options["epochs"],
                batch_size=options["batch_size"],
                learning_rate=options["lr"],
                vision_weights=options["vision_weights"],
                created_by=owner,
                enqueue=not options["inline"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"run {run.pk}: {run.items_total} training clips, {run.num_classes} classes")
        run = follow_run(run, mode=run_mode(options), execute=training.model_run_train, stdout=self.stdout)
        if run is None:
            return
        self._report(run)

    def _report(self, run: ModelRun) -> None:
        for row in run.metrics:
            val = row.get("val") or {}
            stage = f"{row['stage']} " if row.get("stage") else ""
            self.stdout.write(
                f"{stage}epoch {row['epoch']}: train loss {row.get('train_loss')}, val vote accuracy "
                f"{val.get('vote_accuracy')}"
            )
        style = self.style.SUCCESS if run.status == ModelRun.Status.SUCCEEDED else self.style.ERROR
        self.stdout.write(style(f"run {run.pk} {run.status}: {run.checkpoint_path or run.error}"))
        if run.status != ModelRun.Status.SUCCEEDED:
            raise CommandError(f"run {run.pk} {run.status}")
