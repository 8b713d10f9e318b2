"""Shared output of the import_* management commands: a tqdm bar and the report."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.management.base import CommandError, OutputWrapper
from django.core.management.color import Style
from tqdm import tqdm

from annotator.importers.report import ImportReport

DEFAULT_SHOWN_ERRORS = 20


@contextmanager
def progress_bar(description: str, unit: str) -> Iterator[Callable[[int, int], None]]:
    """A progress callback `(done, total)` drawing a tqdm bar on stderr."""
    bar = tqdm(desc=description, unit=unit, total=0, dynamic_ncols=True, leave=False)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        bar.close()


def report_write(stdout: OutputWrapper, style: Style, report: ImportReport, *, what: str, shown_errors: int) -> None:
    """Print the summary and the first `shown_errors` row errors; a run that stored nothing
    and only found errors is unusable input (CommandError, exit status 1)."""
    stdout.write(f"{what}: {report.summary()}")
    for error in report.errors[:shown_errors]:
        stdout.write(style.WARNING(f"  {error}"))
    if len(report.errors) > shown_errors:
        stdout.write(style.WARNING(f"  ... and {len(report.errors) - shown_errors} more"))
    if report.errors and report.stored == 0:
        raise CommandError(f"nothing imported: every row of the input was rejected ({len(report.errors)} errors)")
