from django.core.management.base import BaseCommand, CommandError

from annotator import catalog
from annotator.importers.console import DEFAULT_SHOWN_ERRORS, progress_bar, report_write
from annotator.importers.media import DEFAULT_WORKERS, media_import
from config.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Match a folder of media files to a dataset's clips and probe each file (duration, fps, size, audio), "
        "flagging usable clips (no_audio, short, long, low_resolution; see annotator/importers/probe.py)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True)
        parser.add_argument(
            "--folder", default=None, help="media folder; default: probe again the dataset's recorded media paths"
        )
        parser.add_argument("--reprobe", action="store_true", help="probe files again even if unchanged")
        parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="probing threads")
        parser.add_argument("--show-errors", type=int, default=DEFAULT_SHOWN_ERRORS, metavar="N")

    def handle(self, *args, **options):
        try:
            dataset = catalog.dataset_get(name=options["dataset"])
            with progress_bar("probing", "file") as on_progress:
                report = media_import(
                    dataset=dataset,
                    folder=options["folder"],
                    reprobe=options["reprobe"],
                    workers=options["workers"],
                    on_progress=on_progress,
                )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"media root: {dataset.media_root}")
        report_write(
            self.stdout, self.style, report, what=f"media of {dataset.name}", shown_errors=options["show_errors"]
        )
