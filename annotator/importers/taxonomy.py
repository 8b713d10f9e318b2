"""Class lists: the VGGSound `stat.csv` (label,clip_count,category) or one label a line.

A category's index is the position of its row among the file's non-blank rows, bad rows
included, so one bad row never shifts the model's output index of the classes after it.
A taxonomy that already exists may gain classes and have groups and counts refreshed, but
a file that renames or reorders existing classes is refused: the index is what trained
models and stored proposals mean. Classes a file no longer lists are kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from annotator.importers.readers import Record, csv_records, text_read
from annotator.importers.report import ImportInputError, ImportReport, RowError
from annotator.models import Category, Taxonomy

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
NAME_MAX = Category._meta.get_field("name").max_length
GROUP_MAX = Category._meta.get_field("group").max_length
SOURCE_MAX = Taxonomy._meta.get_field("source").max_length


@dataclass(frozen=True)
class CategoryRow:
    line: int
    index: int
    name: str
    group: str = ""
    source_count: int | None = None


@dataclass(frozen=True)
class BuiltinTaxonomy:
    file: str
    file_format: str
    reference: str


BUILTIN_TAXONOMIES = {
    "vggsound": BuiltinTaxonomy("vggsound_stat.csv", "vggsound-stat", "hche11/VGGSound data/stat.csv (CC BY 4.0)"),
    "llp": BuiltinTaxonomy("llp_classes.txt", "lines", "YapengTian/AVVP-ECCV20 class order"),
}


def _check_name(name: str, line: int) -> RowError | None:
    if not name:
        return RowError(line, "empty label")
    if len(name) > NAME_MAX:
        return RowError(line, f"label is longer than {NAME_MAX} characters")
    return None


def category_rows_vggsound_stat(text: str) -> Iterator[CategoryRow | RowError]:
    """Rows of a VGGSound `stat.csv`: `label,clip_count,category`, no header."""
    index = 0
    for record in csv_records(text):
        if not isinstance(record, Record):
            yield RowError(*record)
            index += 1
            continue
        line, fields = record.line, record.fields
        index += 1
        if len(fields) != 3:
            yield RowError(line, f"expected 3 columns (label,clip_count,category), got {len(fields)}")
            continue
        name, raw_count, group = (value.strip() for value in fields)
        if error := _check_name(name, line):
            yield error
            continue
        try:
            count = int(raw_count)
        except ValueError:
            yield RowError(line, f"clip_count {raw_count!r} is not a whole number")
            continue
        if count < 0:
            yield RowError(line, f"clip_count {count} is negative")
            continue
        if len(group) > GROUP_MAX:
            yield RowError(line, f"category is longer than {GROUP_MAX} characters")
            continue
        yield CategoryRow(line=line, index=index - 1, name=name, group=group, source_count=count)


def category_rows_lines(text: str) -> Iterator[CategoryRow | RowError]:
    """One label a line; blank lines are skipped, surrounding spaces dropped."""
    index = 0
    for line, raw in enumerate(text.splitlines(), start=1):
        name = raw.strip()
        if not name:
            continue
        index += 1
        if error := _check_name(name, line):
            yield error
            continue
        yield CategoryRow(line=line, index=index - 1, name=name)


CATEGORY_READERS: dict[str, Callable[[str], Iterator[CategoryRow | RowError]]] = {
    "vggsound-stat": category_rows_vggsound_stat,
    "lines": category_rows_lines,
}


def taxonomy_format_guess(*, path: Path | str) -> str:
    """`vggsound-stat` for a .csv file, else `lines`."""
    return "vggsound-stat" if Path(path).suffix.lower() == ".csv" else "lines"


def taxonomy_import(*, name: str, path: Path | str, file_format: str, source: str = "") -> ImportReport:
    """Import a class-list file as taxonomy `name` (created if missing)."""
    reader = CATEGORY_READERS.get(file_format)
    if reader is None:
        raise ImportInputError(f"unknown taxonomy format {file_format!r}; use one of {', '.join(CATEGORY_READERS)}")
    text = text_read(path=path)
    rows: list[CategoryRow] = []
    errors: list[RowError] = []
    for item in reader(text):
        (errors if isinstance(item, RowError) else rows).append(item)
    return taxonomy_store(name=name, rows=rows, errors=errors, source=source or str(path))


def taxonomy_import_builtin(*, builtin: str, name: str = "") -> ImportReport:
    """Import one of the class lists shipped in annotator/data (see its README)."""
    spec = BUILTIN_TAXONOMIES.get(builtin)
    if spec is None:
        raise ImportInputError(f"unknown built-in taxonomy {builtin!r}; use one of {', '.join(BUILTIN_TAXONOMIES)}")
    return taxonomy_import(
        name=name or builtin, path=DATA_DIR / spec.file, file_format=spec.file_format, source=spec.reference
    )


def taxonomy_store(
    *, name: str, rows: Sequence[CategoryRow], errors: Sequence[RowError] = (), source: str = ""
) -> ImportReport:
    """Create or refresh taxonomy `name` from parsed rows, in one transaction."""
    report = ImportReport(errors=list(errors))
    unique_rows = _drop_duplicate_names(rows, report)
    if not unique_rows:
        raise ImportInputError(f"no usable class in the file ({len(report.errors)} bad rows)")
    with transaction.atomic():
        taxonomy, created = Taxonomy.objects.get_or_create(name=name, defaults={"source": source[:SOURCE_MAX]})
        if not created and source and taxonomy.source != source[:SOURCE_MAX]:
            taxonomy.source = source[:SOURCE_MAX]
            taxonomy.save(update_fields=["source"])
        existing = {category.name: category for category in taxonomy.categories.all()}
        _refuse_conflicts(taxonomy, existing, unique_rows)
        in_file = {row.name for row in unique_rows}
        report.extra["kept_not_in_file"] = sum(1 for category_name in existing if category_name not in in_file)
        new, changed = [], []
        for row in unique_rows:
            category = existing.get(row.name)
            if category is None:
                new.append(
                    Category(
                        taxonomy=taxonomy,
                        name=row.name,
                        index=row.index,
                        group=row.group,
                        source_count=row.source_count,
                    )
                )
            elif (category.group, category.source_count) != (row.group, row.source_count):
                category.group, category.source_count = row.group, row.source_count
                changed.append(category)
            else:
                report.unchanged += 1
        Category.objects.bulk_create(new)
        Category.objects.bulk_update(changed, ["group", "source_count"])
    report.created, report.updated = len(new), len(changed)
    report.errors.sort(key=lambda error: error.line or 0)
    logger.info("taxonomy %s: %s", name, report.summary())
    return report


def _drop_duplicate_names(rows: Sequence[CategoryRow], report: ImportReport) -> list[CategoryRow]:
    first_line: dict[str, int] = {}
    unique = []
    for row in rows:
        if row.name in first_line:
            report.add_error(row.line, f"duplicate label {row.name!r} (first on line {first_line[row.name]})")
            continue
        first_line[row.name] = row.line
        unique.append(row)
    return unique


def _refuse_conflicts(taxonomy: Taxonomy, existing: dict[str, Category], rows: list[CategoryRow]) -> None:
    """A class may not change its index and an index may not change its class; classes the
    file no longer lists are kept (clips and proposals point at them)."""
    by_index = {category.index: category for category in existing.values()}
    problems = []
    for row in rows:
        category = existing.get(row.name)
        if category is not None and category.index != row.index:
            problems.append(f"{row.name!r} moves from index {category.index} to {row.index}")
        elif category is None and row.index in by_index:
            problems.append(f"index {row.index} is {by_index[row.index].name!r}, the file has {row.name!r}")
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise ImportInputError(
            f"taxonomy {taxonomy.name!r} already has a different class list ({shown}); "
            "import the file under a new taxonomy name"
        )
