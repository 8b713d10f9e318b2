from django.core.management.base import BaseCommand, CommandError

from annotator.importers.console import DEFAULT_SHOWN_ERRORS, report_write
from annotator.importers.report import ImportInputError
from annotator.importers.taxonomy import (
    BUILTIN_TAXONOMIES,
    CATEGORY_READERS,
    taxonomy_format_guess,
    taxonomy_import,
    taxonomy_import_builtin,
)


class Command(BaseCommand):
    help = "Import a class list (VGGSound stat.csv or one label a line) as a taxonomy, or a built-in one."

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--file", help="class-list file")
        source.add_argument("--builtin", choices=sorted(BUILTIN_TAXONOMIES), help="a class list shipped with avlabel")
        parser.add_argument("--name", default="", help="taxonomy name (default: the built-in's name)")
        parser.add_argument(
            "--format",
            choices=sorted(CATEGORY_READERS),
            help="vggsound-stat (label,clip_count,category) or lines; default: by the file's suffix",
        )
        parser.add_argument("--show-errors", type=int, default=DEFAULT_SHOWN_ERRORS, metavar="N")

    def handle(self, *args, **options):
        try:
            if options["builtin"]:
                name = options["name"] or options["builtin"]
                report = taxonomy_import_builtin(builtin=options["builtin"], name=name)
            else:
                if not options["name"]:
                    raise CommandError("--name is required with --file")
                name = options["name"]
                file_format = options["format"] or taxonomy_format_guess(path=options["file"])
                report = taxonomy_import(name=name, path=options["file"], file_format=file_format)
        except ImportInputError as exc:
            raise CommandError(exc.message) from exc
        report_write(self.stdout, self.style, report, what=f"taxonomy {name}", shown_errors=options["show_errors"])
