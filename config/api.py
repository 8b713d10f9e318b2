"""OpenAPI schema naming shared by every app's API."""

from drf_spectacular.openapi import AutoSchema


class ApiSchema(AutoSchema):
    """Component names from the view, so each API's nested serializers stay distinct:
    ``StudyDetailApi.OutputSerializer`` -> ``StudyDetailOutput``."""

    def get_serializer_name(self, serializer, direction):
        qualname = type(serializer).__qualname__
        if "." not in qualname:
            return super().get_serializer_name(serializer, direction)
        return "".join(part.removesuffix("Api").removesuffix("Serializer") for part in qualname.split("."))
