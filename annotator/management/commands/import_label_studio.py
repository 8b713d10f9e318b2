from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotator import catalog, selectors
from annotator.importers.console import DEFAULT_SHOWN_ERRORS, report_write
from annotator.importers.label_studio import label_studio_import
from annotator.importers.readers import text_read
from config.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Import a Label Studio project export (Export -> JSON) into a dataset: its videos as clips, "
        "its predictions as proposal sets (one per model_version), its annotations as the ratings of "
        "a closed study; a rerun stores nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="dataset name (it must exist, with its taxonomy)")
        parser.add_argument("--file", required=True, help="the Label Studio JSON export")
        parser.add_argument(
            "--config", help='the labelling config (XML) naming the video key (<Video value="$video"/>)'
        )
        parser.add_argument("--study", default="", help="study name (default: 'Label Studio: <file name>')")
        parser.add_argument("--owner", help="researcher who owns the study (default: the dataset's owner)")
        parser.add_argument("--show-errors", type=int, default=DEFAULT_SHOWN_ERRORS, metavar="N")

    def handle(self, *args, **options):
        try:
            dataset = catalog.dataset_get(name=options["dataset"])
            owner = selectors.researcher_get(username=options["owner"]) if options["owner"] else dataset.owner
            if owner is None:
                raise CommandError(f"Dataset {dataset.name} has no owner: name the study's with --owner.")
            config = text_read(path=options["config"]) if options["config"] else ""
            report = label_studio_import(
                dataset=dataset,
                path=Path(options["file"]),
                owner=owner,
                study_name=options["study"],
                config_text=config,
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        what = f"Label Studio export into {dataset.name}"
        report_write(self.stdout, self.style, report, what=what, shown_errors=options["show_errors"])
