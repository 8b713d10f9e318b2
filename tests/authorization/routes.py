"""Every route of the URL conf, walked from the root resolver, named as the matrix names it.

A named route is its namespaced name (``annotator-api:study-detail``). The admin site's
routes come in families (each ModelAdmin adds the same five, plus the site's own views): they
are named by family, ``admin:model-change`` for ``admin:annotator_dataset_change`` and every
other model's, so the matrix checks each family once on a representative model and a new
ModelAdmin needs no row of its own. An unnamed route outside the admin is named by its pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

ADMIN_MODEL_ACTIONS = ("changelist", "add", "history", "delete", "change")
ADMIN_MODEL_ROUTE = re.compile(rf"^admin:[a-z0-9]+_[a-z0-9]+_({'|'.join(ADMIN_MODEL_ACTIONS)})$")


@dataclass(frozen=True)
class Route:
    key: str  # what the matrix's table names it by
    pattern: str  # the full pattern, for messages


def _walk(patterns, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str | None]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}" if entry.name else None


def route_key(pattern: str, name: str | None) -> str:
    if pattern.startswith("admin/"):
        if name and (match := ADMIN_MODEL_ROUTE.match(name)):
            return f"admin:model-{match.group(1)}"
        if name == "admin:auth_user_password_change":
            return "admin:user-password"
        if name is None:
            return "admin:model-object" if pattern.endswith("<path:object_id>/") else "admin:catch-all"
    return name or pattern


def url_conf_routes() -> list[Route]:
    """Every route, deduplicated by key (the admin families collapse)."""
    routes: dict[str, Route] = {}
    for pattern, name in _walk(get_resolver().url_patterns):
        key = route_key(pattern, name)
        routes.setdefault(key, Route(key, pattern))
    return list(routes.values())
