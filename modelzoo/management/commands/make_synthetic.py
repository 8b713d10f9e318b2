"""Generate synthetic event-type clips (real MP4s) and optionally import them as a dataset."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotator import selectors as annotator_selectors
from config.errors import ApplicationError
from modelzoo import services, synthetic


class Command(BaseCommand):
    help = (
        "Write N synthetic clips of K classes (continuous, instant, rhythmic, visual-only, audio-only and "
        "multi-source event types) with a manifest, a class list and a generic clips CSV; --import-as imports "
        "them (taxonomy, clips, probed media) as a dataset, owned by --owner (without one, for admins only)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", required=True, help="Folder to write into (created if missing).")
        parser.add_argument("--clips", type=int, default=100)
        parser.add_argument("--classes", type=int, default=10)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--multi-fraction", type=float, default=0.2, help="Share of two-class clips.")
        parser.add_argument("--size", type=int, default=96, help="Frame width and height in pixels (even).")
        parser.add_argument("--workers", type=int, default=None, help="Encoding processes (default: CPU count).")
        parser.add_argument("--import-as", default="", metavar="DATASET", help="Import as this dataset.")
        parser.add_argument("--taxonomy", default="", help="Taxonomy name for --import-as (default: the dataset's).")
        parser.add_argument(
            "--owner",
            default="",
            metavar="USERNAME",
            help="Researcher who owns the imported dataset; only they, researchers it is shared with "
            "(manage.py dataset_share) and admins may use it.",
        )

    def handle(self, *args, **options) -> None:
        try:
            owner = annotator_selectors.researcher_get(username=options["owner"]) if options["owner"] else None
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        try:
            config = synthetic.SyntheticConfig(
                num_clips=options["clips"],
                num_classes=options["classes"],
                seed=options["seed"],
                multi_fraction=options["multi_fraction"],
                size=options["size"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        with tqdm(total=config.num_clips, desc="clips", unit="clip") as bar:
            result = synthetic.generate_dataset(
                options["out"], config, workers=options["workers"], on_progress=lambda done, total: bar.update(1)
            )
        self.stdout.write(f"wrote {len(result.clips)} clips, manifest {result.manifest_json}")
        if not options["import_as"]:
            return
        with tqdm(total=len(result.clips), desc="probe media", unit="file") as bar:
            try:
                dataset, reports = services.synthetic_dataset_import(
                    root=result.root,
                    dataset_name=options["import_as"],
                    taxonomy_name=options["taxonomy"],
                    owner=owner,
                    on_progress=lambda done, total: bar.update(done - bar.n),
                )
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc
        for what, report in reports.items():
            self.stdout.write(f"{what}: {report.summary()}")
            for error in report.errors[:10]:
                self.stderr.write(f"  {error}")
        self.stdout.write(self.style.SUCCESS(f"dataset {dataset.name} (id {dataset.pk}) ready"))
