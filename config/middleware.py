"""A body-size cap for the JSON API.

DRF's parsers read the request stream themselves, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE
(which guards form posts) never applies to /api/: without this cap a 20 MB JSON body is read,
parsed and handed to the views. An endpoint that takes file uploads states its own, larger
limit: `max_body_setting` on its view class names the setting that holds it.
"""

import io
from collections.abc import Callable

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from rest_framework import status

from config.errors import error_body, is_api_request


class ApiBodyLimitMiddleware:
    """Refuse an /api/ body over AVLABEL_API_MAX_BODY_BYTES (an upload route's, on the API or
    a page: the setting its view names) with 413 and the error envelope (a page: plain text),
    before a byte of it is read when Content-Length tells its size. A chunked body (no
    Content-Length, a server that ends its input, e.g. gunicorn) is read up to the cap: one
    byte more is a 413, anything within reaches the view as a plain sized body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        api = is_api_request(request)
        setting = _view_body_setting(request)
        if not api and not setting:  # a page without uploads: Django's own limits apply
            return self.get_response(request)
        limit = getattr(settings, setting) if setting else settings.AVLABEL_API_MAX_BODY_BYTES
        declared = _content_length(request)
        if declared is not None and declared > limit:
            return _too_large(limit, api=api)
        if declared is None and request.META.get("wsgi.input_terminated"):
            body = request.META["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return _too_large(limit, api=api)
            # Django reads a body only as far as Content-Length says (none: nothing), so the
            # body read here is given to it as one of known length.
            request.META["CONTENT_LENGTH"] = str(len(body))
            request._stream = LimitedStream(io.BytesIO(body), len(body))
        return self.get_response(request)


def _view_body_setting(request: HttpRequest) -> str:
    """The setting holding the body limit of the route's view (`max_body_setting`: uploads,
    on the API and on pages alike); "" for every other route."""
    try:
        view = resolve(request.path_info).func
    except Resolver404:
        return ""
    return getattr(getattr(view, "view_class", None), "max_body_setting", "")


def _content_length(request: HttpRequest) -> int | None:
    """The declared body size; None when absent. An unreadable value is Django's 0 (no body)."""
    value = request.META.get("CONTENT_LENGTH", "")
    if value == "":
        return None
    if not (value.isascii() and value.isdigit()):
        return 0
    return int(value) if len(value) <= 18 else 10**18  # past any cap; int() of 5,000 digits raises


def _too_large(limit: int, *, api: bool) -> HttpResponse:
    if not api:
        return HttpResponse(
            f"The upload is larger than {limit} bytes: send fewer or smaller files (the API takes large files in "
            "chunks).",
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            content_type="text/plain; charset=utf-8",
        )
    return JsonResponse(
        error_body(f"The request body is larger than {limit} bytes.", {"max_body_bytes": limit}),
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )
