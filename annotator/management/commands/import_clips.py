from django.core.management.base import BaseCommand, CommandError

from annotator import selectors, services
from annotator.importers.clip_formats import CLIP_READERS
from annotator.importers.clips import clips_import
from annotator.importers.console import DEFAULT_SHOWN_ERRORS, progress_bar, report_write
from annotator.importers.report import ImportInputError
from config.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Import a clip list (VGGSound, LLP/AVVP or generic CSV) into a dataset, creating it if needed. "
        "--owner names the researcher who owns the dataset: only they (and the researchers it is shared "
        "with, see dataset_share) and admins may use it; a dataset without an owner is for admins only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="dataset name")
        parser.add_argument("--taxonomy", default="", help="taxonomy of a new dataset (checked for an existing one)")
        parser.add_argument("--file", required=True)
        parser.add_argument("--format", required=True, choices=sorted(CLIP_READERS))
        parser.add_argument(
            "--split",
            default="",
            help="split of the clips (vggsound-test: default 'test'; llp: default from the file name); "
            "for vggsound, import only the rows of this split",
        )
        parser.add_argument("--show-errors", type=int, default=DEFAULT_SHOWN_ERRORS, metavar="N")
        parser.add_argument(
            "--owner",
            default="",
            metavar="USERNAME",
            help="researcher who owns the dataset (a new one, or one without an owner; "
            "a dataset another researcher owns is refused before importing)",
        )

    def handle(self, *args, **options):
        try:
            owner = selectors.researcher_get(username=options["owner"]) if options["owner"] else None
            if owner is not None:
                services.dataset_claim(name=options["dataset"], owner=owner)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        try:
            with progress_bar("clips", "clip") as on_progress:
                report = clips_import(
                    dataset_name=options["dataset"],
                    taxonomy_name=options["taxonomy"],
                    path=options["file"],
                    file_format=options["format"],
                    split=options["split"],
                    on_progress=on_progress,
                )
        except ImportInputError as exc:
            raise CommandError(exc.message) from exc
        if owner is not None:
            services.dataset_claim(name=options["dataset"], owner=owner)  # the dataset the import created
        report_write(
            self.stdout, self.style, report, what=f"clips of {options['dataset']}", shown_errors=options["show_errors"]
        )
