"""The one API layer every app builds on: base views, pagination, input validation, the
error body the schema documents, and the OpenAPI naming scheme."""

from django.db.models import QuerySet
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.roles import IsResearcher


class ApiSchema(AutoSchema):
    """Component names from the view, so each API's nested serializers stay distinct:
    ``StudyDetailApi.OutputSerializer`` -> ``StudyDetailOutput``."""

    def get_serializer_name(self, serializer, direction):
        qualname = type(serializer).__qualname__
        if "." not in qualname:
            return super().get_serializer_name(serializer, direction)
        return "".join(part.removesuffix("Api").removesuffix("Serializer") for part in qualname.split("."))


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
