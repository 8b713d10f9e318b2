"""Celery tasks of annotator: thin, each calls a service."""

from celery import shared_task

from annotator import services


@shared_task(name="annotator.reservations_purge")
def reservations_purge() -> int:
    """Delete the reservations that have lapsed (sent by the beat scheduler); returns how many."""
    return services.reservations_purge()
