"""Reading a study's many rows as of one moment, and in parallel.

Evaluation and the dataset export read a study in several statements (clips, ratings,
answers, shown labels, decisions) while raters go on submitting. Under PostgreSQL's default
READ COMMITTED each statement sees the database as of its own start: a rating submitted
between two of them would have its answers read without the rating itself. Inside
`read_snapshot` every statement reads one REPEATABLE READ snapshot, which other connections
can import (`in_snapshot`) to run the big reads side by side, as pg_dump --jobs does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from django.db import connection, transaction

T = TypeVar("T")


@contextmanager
def read_snapshot() -> Iterator[str | None]:
    """Run the block's reads in one read-only REPEATABLE READ transaction on PostgreSQL, and
    yield its exported snapshot's id. Inside a caller's transaction (which decides what it
    reads) or on SQLite (one writer at a time, whose transactions already read one state)
    the block runs as it is and the id is None."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield None
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        yield snapshot


def in_snapshot(snapshot: str | None, reads: list[Callable[[], T]]) -> list[T]:
    """The results of `reads`, in order. With a snapshot each runs in a thread of its own, on
    a connection of its own reading that snapshot (the exporting transaction stays open
    meanwhile: its block is waiting here); without one, one after the other here."""
    if snapshot is None or len(reads) < 2:
        return [read() for read in reads]
    with ThreadPoolExecutor(max_workers=len(reads), thread_name_prefix="snapshot-read") as pool:
        futures = [pool.submit(_read_in_snapshot, snapshot, read) for read in reads]
        return [future.result() for future in futures]


def _read_in_snapshot(snapshot: str, read: Callable[[], T]) -> T:
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:  # before any other statement of the transaction
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
            return read()
    finally:
        connection.close()  # this thread's connection: the pool's threads end with the call
