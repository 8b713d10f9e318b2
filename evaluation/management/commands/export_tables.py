"""Write the evaluation tables (and plots) of a study or of predict runs to a folder."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotator import selectors as annotator_selectors
from config.errors import ApplicationError, NotFoundError
from evaluation import exporters, plots, selectors, services


def _formats(raw: str, known: dict, what: str) -> list[str]:
    formats = [part.strip() for part in raw.split(",") if part.strip()]
    unknown = [fmt for fmt in formats if fmt not in known]
    if unknown:
        raise CommandError(f"Unknown {what} formats: {', '.join(unknown)} (use {', '.join(known)}).")
    return formats


class Command(BaseCommand):
    help = "Export evaluation tables as CSV/JSON/Markdown/LaTeX (and plots as PNG/SVG)."

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--study", type=int, help="Study id.")
        target.add_argument("--runs", type=int, nargs="+", help="Predict run ids (paper Tables 1-4).")
        parser.add_argument("--out", required=True, help="Folder to write into (created if missing).")
        parser.add_argument("--formats", default="csv,json,md,tex", help="Table formats, comma-separated.")
        parser.add_argument("--plots", default="png,svg", help="Plot formats, comma-separated ('' for none).")
        parser.add_argument("--boot", type=int, default=services.DEFAULT_BOOT, help="Bootstrap resamples.")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, **options):
        formats = _formats(options["formats"], exporters.TABLE_FORMATS, "table")
        plot_formats = _formats(options["plots"], plots.PLOT_FORMATS, "plot")
        with tqdm(total=100, desc="evaluation", unit="%") as bar:

            def progress(fraction: float, message: str) -> None:
                bar.set_postfix_str(message)
                bar.update(max(0, round(fraction * 100) - bar.n))

            try:
                evaluation = self._evaluate(options, progress)
                written = services.evaluation_files_write(
                    evaluation=evaluation, folder=Path(options["out"]), formats=formats, plot_formats=plot_formats
                )
            except ApplicationError as error:
                raise CommandError(error.message) from error
            progress(1.0, "done")
        self.stdout.write(f"{evaluation.title}: wrote {len(written)} files to {options['out']}")
        for name in sorted(written):
            self.stdout.write(f"  {name}")

    def _evaluate(self, options, progress) -> services.Evaluation:
        if options["study"] is not None:
            try:
                study = annotator_selectors.study_get(study_id=options["study"])
            except NotFoundError:
                raise CommandError(f"Study {options['study']} not found.") from None
            return services.study_evaluate(
                study=study, n_boot=options["boot"], seed=options["seed"], on_progress=progress
            )
        try:
            runs = selectors.runs_by_ids(run_ids=list(dict.fromkeys(options["runs"])))
        except ApplicationError as error:
            raise CommandError(error.message) from error
        if len(runs) == 1:
            return services.run_evaluate(run=runs[0], on_progress=progress)
        return services.runs_evaluate(runs=runs, on_progress=progress)
