"""A body-size cap for the JSON API.

DRF's parsers read the request stream themselves, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE
(which guards form posts) never applies to /api/: without this cap a 20 MB JSON body is read,
parsed and handed to the views. No API endpoint takes file uploads; one that does would state
its own, larger limit.
"""

import io
from collections.abc import Callable

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import status

from config.errors import error_body, is_api_request


class ApiBodyLimitMiddleware:
    """Refuse an /api/ body over AVLABEL_API_MAX_BODY_BYTES with 413 and the error envelope,
    before a byte of it is read when Content-Length tells its size. A chunked body (no
    Content-Length, a server that ends its input, e.g. gunicorn) is read up to the cap: one
    byte more is a 413, anything within reaches the view as a plain sized body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_request(request):
            return self.get_response(request)
        limit = settings.AVLABEL_API_MAX_BODY_BYTES
        declared = _content_length(request)
        if declared is not None and declared > limit:
            return _too_large(limit)
        if declared is None and request.META.get("wsgi.input_terminated"):
            body = request.META["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return _too_large(limit)
            # Django reads a body only as far as Content-Length says (none: nothing), so the
            # body read here is given to it as one of known length.
            request.META["CONTENT_LENGTH"] = str(len(body))
            request._stream = LimitedStream(io.BytesIO(body), len(body))
        return self.get_response(request)


def _content_length(request: HttpRequest) -> int | None:
    """The declared body size; None when absent. An unreadable value is Django's 0 (no body)."""
    value = request.META.get("CONTENT_LENGTH", "")
    if value == "":
        return None
    if not (value.isascii() and value.isdigit()):
        return 0
    return int(value) if len(value) <= 18 else 10**18  # past any cap; int() of 5,000 digits raises


def _too_large(limit: int) -> JsonResponse:
    return JsonResponse(
        error_body(f"The request body is larger than {limit} bytes.", {"max_body_bytes": limit}),
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )
