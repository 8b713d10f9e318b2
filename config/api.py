"""The one API layer every app builds on: base views, pagination, input validation (ids
included), the error body the schema documents, and the OpenAPI naming scheme."""

import re

from django.db.models import QuerySet
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.roles import IsResearcher
from config.converters import MAX_ID

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# What a model IntegerField holds on every database: a number stored there is bounded by it,
# or the database refuses it (a 500) instead of the field (a 400).
DB_INT_MIN, DB_INT_MAX = -(2**31), 2**31 - 1


class ApiSchema(AutoSchema):
    """Component names from the view, so each API's nested serializers stay distinct:
    ``StudyDetailApi.OutputSerializer`` -> ``StudyDetailOutput``; and the error responses
    every operation can give, added here once rather than on each view."""

    def get_serializer_name(self, serializer, direction):
        qualname = type(serializer).__qualname__
        if "." not in qualname:
            return super().get_serializer_name(serializer, direction)
        return "".join(part.removesuffix("Api").removesuffix("Serializer") for part in qualname.split("."))

    def get_request_serializer(self):
        """A view's InputSerializer is its body wherever extend_schema names none (a base
        view's one handler serves subclasses that each bring their own InputSerializer)."""
        if self.method in UNSAFE_METHODS and getattr(self.view, "InputSerializer", None) is not None:
            return self.view.InputSerializer
        return super().get_request_serializer()

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        envelope = {"application/json": {"schema": self.resolve_serializer(ErrorSerializer, "response").ref}}
        for code, description in self._error_statuses(operation):
            operation["responses"].setdefault(code, {"description": description, "content": envelope})
        return operation

    def _error_statuses(self, operation: dict) -> list[tuple[str, str]]:
        """The errors an operation's shape implies: the views answer them, whatever else they do."""
        places = {parameter["in"] for parameter in operation.get("parameters", [])}
        statuses = []
        if "query" in places or "requestBody" in operation:
            statuses.append(("400", "Invalid input: each field's messages under `extra.fields`."))
        if self.view.get_authenticators():  # a wrong or expired token is refused, whatever the view allows
            statuses.append(("401", "Not signed in, or the token is invalid or expired."))
        if any(not isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            statuses.append(("403", "Signed in without the role this needs."))
        if "path" in places:
            statuses.append(("404", "No such object among yours (ids past 2**63-1 included)."))
        elif any(parameter["name"] == "page" for parameter in operation.get("parameters", [])):
            statuses.append(("404", "No such page."))
        if self.method in UNSAFE_METHODS:
            statuses.append(("413", "The body is larger than AVLABEL_API_MAX_BODY_BYTES."))
        if "requestBody" in operation:
            statuses.append(("415", "A body in a media type this operation does not read."))
        return statuses


class BaseApi(APIView):
    """Every endpoint: signed-in users; subclasses narrow the permission to a role."""

    permission_classes = [IsAuthenticated]


class ResearcherApi(BaseApi):
    permission_classes = [IsResearcher]


class ListApi(BaseApi):
    """A list endpoint: the project's page-number pagination (``?page=``, ``PAGE_SIZE``)."""

    pagination_class = PageNumberPagination

    def paginated(self, items: QuerySet | list, serializer_class) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(items, self.request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)


class ResearcherListApi(ListApi):
    permission_classes = [IsResearcher]


class IdField(serializers.IntegerField):
    """A database id in a body or a query string: 1 to 2**63-1 (PostgreSQL's bigint), so a
    larger number is a 400 on its field, and the schema states the range."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


_ID_LIST = re.compile(r"^[0-9]{1,19}(,[0-9]{1,19})*$")


@extend_schema_field({"type": "string", "pattern": _ID_LIST.pattern, "example": "1,2,3"})
class IdListField(serializers.CharField):
    """Ids in one query parameter, comma-separated (``?ids=1,2,3``): ASCII digits, each at
    most 2**63-1, at most `max_ids`; the list without repeats, in the given order."""

    default_error_messages = {
        "ids": "A comma-separated list of ids (ASCII digits, each at most 2**63-1).",
        "too_many": "At most {max_ids} ids.",
    }

    def __init__(self, *, max_ids: int = 100, **kwargs) -> None:
        self.max_ids = max_ids
        kwargs.setdefault("max_length", 21 * max_ids)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> list[int]:
        text = "".join(super().to_internal_value(data).split())  # "1, 2" reads as "1,2"
        if not _ID_LIST.match(text):
            self.fail("ids")
        ids = list(dict.fromkeys(int(part) for part in text.split(",")))
        if any(pk < 1 or pk > MAX_ID for pk in ids):
            self.fail("ids")
        if len(ids) > self.max_ids:
            self.fail("too_many", max_ids=self.max_ids)
        return ids


def validated(serializer_class: type[serializers.Serializer], data, *, context: dict | None = None) -> dict:
    """The validated input, or the validation error envelope (400) with each field's messages.
    `context` reaches the serializer (e.g. the requesting user, whose objects its choices are)."""
    serializer = serializer_class(data=data, context=context or {})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ErrorSerializer(serializers.Serializer):
    """Every error on /api/: a message safe to show, and details. Validation errors carry
    each field's messages under ``extra.fields``."""

    message = serializers.CharField()
    extra = serializers.DictField()


def error_response(description: str) -> OpenApiResponse:
    """An error status in an operation's schema: the one envelope, described."""
    return OpenApiResponse(response=ErrorSerializer, description=description)
