from django.core.management.base import BaseCommand, CommandError

from annotator import catalog
from annotator.importers.console import DEFAULT_SHOWN_ERRORS, report_write
from annotator.importers.proposal_files import PROPOSAL_FORMATS, proposals_import
from config.errors import ApplicationError


class Command(BaseCommand):
    help = "Import proposed labels (CSV or JSON, see docs/generic_csv.md) as a proposal set; a rerun replaces it."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True)
        parser.add_argument("--name", required=True, help="proposal set name")
        parser.add_argument("--file", required=True)
        parser.add_argument("--format", choices=PROPOSAL_FORMATS, default="", help="default: by the file's suffix")
        parser.add_argument("--show-errors", type=int, default=DEFAULT_SHOWN_ERRORS, metavar="N")

    def handle(self, *args, **options):
        try:
            dataset = catalog.dataset_get(name=options["dataset"])
            report = proposals_import(
                dataset=dataset, name=options["name"], path=options["file"], file_format=options["format"]
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        report_write(
            self.stdout,
            self.style,
            report,
            what=f"proposal set {options['name']} of {dataset.name}",
            shown_errors=options["show_errors"],
        )
