"""What an import did: counts and the rows it could not use."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from config.errors import ApplicationError


class ImportInputError(ApplicationError):
    """The input cannot be imported at all: a missing file, an unknown format, a bad header."""


@dataclass(frozen=True)
class RowError:
    """A row that was skipped. `line` is the 1-based line in the source file, or None when the
    problem is not tied to a line (a media file, a row handed over by code)."""

    line: int | None
    message: str

    def __str__(self) -> str:
        return self.message if self.line is None else f"line {self.line}: {self.message}"


@dataclass
class ImportReport:
    """created / updated / unchanged count the importer's main rows (categories, clips,
    proposals, probed clips); `extra` holds importer-specific counts."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    extra: Counter[str] = field(default_factory=Counter)

    def add_error(self, line: int | None, message: str) -> None:
        self.errors.append(RowError(line, message))

    @property
    def stored(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        parts = [f"{self.created} created", f"{self.updated} updated", f"{self.unchanged} unchanged"]
        parts += [f"{count} {name.replace('_', ' ')}" for name, count in sorted(self.extra.items()) if count]
        parts.append(f"{len(self.errors)} row errors")
        return ", ".join(parts)
