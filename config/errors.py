"""One application exception, mapped to clean HTTP errors in one handler, with one envelope
for application, validation and server errors alike: ``{"message": ..., "extra": {...}}``
(validation errors put each field's messages under ``extra.fields``)."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

logger = logging.getLogger(__name__)

SERVER_ERROR_MESSAGE = "Something went wrong on the server; the error was logged."


class ApplicationError(Exception):
    """A request that cannot be carried out as asked; the message is safe to show."""

    http_status = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class NotFoundError(ApplicationError):
    http_status = status.HTTP_404_NOT_FOUND


class ConflictError(ApplicationError):
    http_status = status.HTTP_409_CONFLICT


class TooLargeError(ApplicationError):
    """An upload past a size limit the settings state."""

    http_status = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


def error_body(message: str, extra: dict | None = None) -> dict:
    return {"message": message, "extra": extra or {}}


def _validation_body(detail) -> dict:
    if isinstance(detail, dict):
        non_field = detail.get("non_field_errors")
        message = str(non_field[0]) if non_field else "Validation error."
        return error_body(message, {"fields": detail})
    messages = detail if isinstance(detail, list) else [detail]
    return error_body(str(messages[0]) if messages else "Validation error.", {"fields": {"non_field_errors": messages}})


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every exception an API view raises becomes the envelope."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig):  # a form field past DATA_UPLOAD_MAX_MEMORY_SIZE
        set_rollback()
        return Response(error_body(str(exc)), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    elif isinstance(exc, SuspiciousOperation):  # e.g. more files than DATA_UPLOAD_MAX_NUMBER_FILES
        exc = exceptions.ParseError(str(exc) or "The request could not be read.")

    if isinstance(exc, ApplicationError):
        set_rollback()
        return Response(error_body(exc.message, exc.extra), status=exc.http_status)
    if isinstance(exc, exceptions.ValidationError):
        set_rollback()
        return Response(_validation_body(exc.detail), status=exc.status_code)
    if isinstance(exc, exceptions.APIException):
        set_rollback()
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        return Response(error_body(str(exc.detail)), status=exc.status_code, headers=headers)
    # Anything else is a bug: log it with its traceback and answer the envelope, not HTML.
    logger.exception("Unhandled error in %s", context.get("view").__class__.__name__, exc_info=exc)
    set_rollback()
    return Response(error_body(SERVER_ERROR_MESSAGE), status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def is_api_request(request) -> bool:
    """Requests whose errors are the JSON envelope: the API's paths and the Label Studio ML
    backend's (a JSON client too)."""
    return request.path.startswith(("/api/", "/ml-backend/"))


def page_not_found(request, exception=None):
    """handler404: JSON for /api/ paths no route matches, Django's page elsewhere."""
    if is_api_request(request):
        return JsonResponse(error_body("Not found."), status=status.HTTP_404_NOT_FOUND)
    from django.views.defaults import page_not_found as django_page_not_found

    return django_page_not_found(request, exception)


def server_error(request):
    """handler500: errors raised outside a DRF view (middleware, plain views) on /api/ answer JSON."""
    if is_api_request(request):
        return JsonResponse(error_body(SERVER_ERROR_MESSAGE), status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    from django.views.defaults import server_error as django_server_error

    return django_server_error(request)
