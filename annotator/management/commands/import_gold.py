from django.core.management.base import BaseCommand, CommandError

from annotator import catalog
from annotator.importers.console import DEFAULT_SHOWN_ERRORS, report_write
from annotator.importers.gold import gold_labels_import, gold_promote_from_study
from annotator.models import Study
from config.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Load gold truth per label (docs/gold_labels.md) for a dataset's clips from a CSV file, or "
        "promote an earlier study's clear consensus (--from-study); a rerun updates the rows it names."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", help="dataset name (with --file)")
        parser.add_argument("--file", help="gold CSV: clip_id,label,truth[,modality]")
        parser.add_argument("--from-study", type=int, metavar="ID", help="promote this study's consensus")
        parser.add_argument("--show-errors", type=int, default=DEFAULT_SHOWN_ERRORS, metavar="N")

    def handle(self, *args, **options):
        if bool(options["file"]) == bool(options["from_study"]):
            raise CommandError("Give either --dataset with --file, or --from-study.")
        try:
            if options["file"]:
                if not options["dataset"]:
                    raise CommandError("--file needs --dataset.")
                dataset = catalog.dataset_get(name=options["dataset"])
                report = gold_labels_import(dataset=dataset, path=options["file"])
                what = f"gold labels of {dataset.name}"
            else:
                study = Study.objects.filter(pk=options["from_study"]).select_related("dataset").first()
                if study is None:
                    raise CommandError(f"Study {options['from_study']} does not exist.")
                report = gold_promote_from_study(study=study)
                what = f"gold labels from study {study.pk}"
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        report_write(self.stdout, self.style, report, what=what, shown_errors=options["show_errors"])
