"""Downloads the study, run and report APIs share: tables and plots of an evaluation as files."""

from collections.abc import Callable

from django.http import HttpResponse
from rest_framework.negotiation import BaseContentNegotiation

from annotator import selectors as annotator_selectors
from config.api import ResearcherApi
from config.errors import NotFoundError
from evaluation import exporters, plots, services


class _AnyAccept(BaseContentNegotiation):
    """File endpoints answer their own content type whatever the client accepts."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class FileApi(ResearcherApi):
    content_negotiation_class = _AnyAccept


def file_response(body: str | bytes, content_type: str, filename: str, *, attachment: bool = True) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    if attachment:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def media_urls(request) -> Callable[[int], str]:
    """study clip id -> the absolute URL of its media route, as this request reached the site."""
    return lambda study_clip_id: request.build_absolute_uri(
        annotator_selectors.study_clip_media_url(study_clip_id=study_clip_id)
    )


def computed(current: services.Current) -> services.Evaluation:
    """The evaluation's tables, or 404 while they must be computed as a report first."""
    if current.evaluation is None:
        raise NotFoundError(current.error or "Not computed yet: POST /api/evaluation/reports/ to compute it.")
    return current.evaluation


def table_file(evaluation: services.Evaluation, key: str, fmt: str, stem: str) -> HttpResponse:
    if fmt not in exporters.TABLE_FORMATS:
        raise NotFoundError(f"Unknown table format {fmt!r}; use one of {', '.join(exporters.TABLE_FORMATS)}.")
    if key not in evaluation.tables:
        raise NotFoundError(f"No table {key!r}; tables: {', '.join(evaluation.tables)}.")
    body = exporters.table_render(evaluation.tables[key], fmt)
    return file_response(body, f"{exporters.TABLE_FORMATS[fmt]}; charset=utf-8", f"{stem}-{key}.{fmt}")


def plot_file(evaluation: services.Evaluation, key: str, fmt: str, stem: str) -> HttpResponse:
    if fmt not in plots.PLOT_FORMATS:
        raise NotFoundError(f"Unknown plot format {fmt!r}; use png or svg.")
    try:
        body = plots.plot_render(evaluation.tables, key, fmt)
    except KeyError:
        raise NotFoundError(f"No plot {key!r}; plots: {', '.join(evaluation.plot_keys)}.") from None
    return file_response(body, plots.PLOT_FORMATS[fmt], f"{stem}-{key}.{fmt}")
