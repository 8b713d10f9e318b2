from django.core.management.base import BaseCommand, CommandError

from annotator.importers.clip_formats import CLIP_READERS
from annotator.importers.clips import clips_import
from annotator.importers.console import DEFAULT_SHOWN_ERRORS, progress_bar, report_write
from annotator.importers.report import ImportInputError


class Command(BaseCommand):
    help = "Import a clip list (VGGSound, LLP/AVVP or generic CSV) into a dataset, creating it if needed."

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

    def handle(self, *args, **options):
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
        report_write(
            self.stdout, self.style, report, what=f"clips of {options['dataset']}", shown_errors=options["show_errors"]
        )
