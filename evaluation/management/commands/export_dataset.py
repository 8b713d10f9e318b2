"""Write the multi-labelled dataset of a study, or a retargeted sub-dataset of a predict run."""

from pathlib import Path
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotator import selectors as annotator_selectors
from config.errors import ApplicationError, NotFoundError
from evaluation import exporters, selectors, services

LABEL_STUDIO_FORMATS = {"label-studio": "tasks", "label-studio-config": "config"}


class Command(BaseCommand):
    help = (
        "Export a study's consensus labels (--study) or the clips of one event type or modality "
        "of an event-head predict run (--run with --target) as CSV or JSON; a study also as Label Studio tasks."
    )

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--study", type=int, help="Study id: the multi-labelled dataset.")
        source.add_argument("--run", type=int, help="Event-head predict run id: a retargeted sub-dataset.")
        parser.add_argument(
            "--target", choices=list(exporters.RETARGET_GROUPS), help="Event type or modality group (with --run)."
        )
        parser.add_argument("--out", required=True, help="File to write.")
        parser.add_argument(
            "--format",
            choices=[*exporters.STUDY_DATASET_FORMATS, *LABEL_STUDIO_FORMATS],
            default="csv",
            help="csv or json; with --study also jsonl, parquet, hf (a zipped Hugging Face folder), "
            "label-studio (tasks JSON) and label-studio-config (its labelling config XML).",
        )
        parser.add_argument(
            "--base-url",
            help="With --format label-studio: the site's address the tasks' media URLs start with, "
            "e.g. https://avlabel.example.org",
        )
        parser.add_argument("--licence", default="unknown", help="Licence id the hf dataset card declares.")
        parser.add_argument("--all", action="store_true", help="List rejected labels too (with --study).")

    def handle(self, *args, **options):
        fmt = options["format"]
        with tqdm(total=2, desc="export", unit="step") as bar:
            try:
                if options["study"] is not None:
                    try:
                        study = annotator_selectors.study_get(study_id=options["study"])
                    except NotFoundError:
                        raise CommandError(f"Study {options['study']} not found.") from None
                    bar.update(1)
                    if fmt in LABEL_STUDIO_FORMATS:
                        body = self._label_studio(study, fmt, options["base_url"])
                    else:
                        body = services.study_dataset_export(
                            study=study, fmt=fmt, include_rejected=options["all"], licence=options["licence"]
                        )
                else:
                    if not options["target"]:
                        raise CommandError("--run needs --target (e.g. audio-visual, visual-only, instant).")
                    (run,) = selectors.runs_by_ids(run_ids=[options["run"]])
                    bar.update(1)
                    if fmt not in exporters.DATASET_FORMATS:
                        raise CommandError(f"--run exports csv or json, not {fmt}.")
                    body = services.run_retarget_export(run=run, target=options["target"], fmt=fmt)
            except ApplicationError as error:
                raise CommandError(error.message) from error
            out = Path(options["out"])
            out.parent.mkdir(parents=True, exist_ok=True)
            data = body.encode("utf-8") if isinstance(body, str) else body
            out.write_bytes(data)
            bar.update(1)
        self.stdout.write(f"wrote {out} ({len(data)} bytes)")

    def _label_studio(self, study, fmt: str, base_url: str | None) -> str:
        part = LABEL_STUDIO_FORMATS[fmt]
        if part == "tasks" and not base_url:
            raise CommandError("--format label-studio needs --base-url (the media URLs are absolute).")
        if part == "tasks" and urlsplit(base_url).scheme not in ("http", "https"):
            raise CommandError(f"--base-url {base_url!r} is not an http(s) address.")
        root = (base_url or "").rstrip("/")

        def media_url(study_clip_id: int) -> str:
            return root + annotator_selectors.study_clip_media_url(study_clip_id=study_clip_id)

        return services.study_label_studio_export(study=study, part=part, media_url=media_url)
