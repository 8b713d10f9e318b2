"""Media files uploaded into a dataset's upload folder through the API: many at once, or one
large file in chunks that resume where they stopped. POST .../imports/media/ then matches and
probes them (annotator.apis.imports)."""

from __future__ import annotations

import dataclasses

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from annotator import services
from annotator.apis.imports import DATASET_NOT_FOUND, TOO_LARGE, UploadApi, own_dataset
from annotator.services.media_uploads import MEDIA_FILE_STATUSES
from config.api import error_response, validated
from config.converters import MAX_ID


class MediaFileResultSerializer(serializers.Serializer):
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=MEDIA_FILE_STATUSES)
    size = serializers.IntegerField()
    received = serializers.IntegerField(help_text="Bytes stored so far (a chunked upload resumes here).")
    clip_id = serializers.CharField(allow_null=True, help_text="The clip it matches, if any.")
    message = serializers.CharField(allow_blank=True)


class MediaUploadApi(UploadApi):
    """Many media files at once into the dataset's upload folder, a result per file; then
    POST .../imports/media/ to match and probe them."""

    class InputSerializer(serializers.Serializer):
        files = serializers.ListField(child=serializers.FileField(), allow_empty=False)

    class OutputSerializer(serializers.Serializer):
        files = MediaFileResultSerializer(many=True)
        stored = serializers.IntegerField()
        refused = serializers.IntegerField()

    @extend_schema(
        request=InputSerializer,
        responses={
            status.HTTP_200_OK: OutputSerializer,
            status.HTTP_404_NOT_FOUND: DATASET_NOT_FOUND,
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: TOO_LARGE,
        },
    )
    def post(self, request, dataset_id: int):
        dataset = own_dataset(request, dataset_id)
        files = validated(self.InputSerializer, request.data)["files"]
        results = services.media_files_store(dataset=dataset, files=files)
        body = {
            "files": [vars_of(result) for result in results],
            "stored": sum(result.status == "stored" for result in results),
            "refused": sum(result.status == "refused" for result in results),
        }
        return Response(self.OutputSerializer(body).data, status=status.HTTP_200_OK)


class MediaChunkUploadApi(UploadApi):
    """One large media file in chunks: each POST sends the bytes at `offset` (where the file
    ends so far; 0 starts it again); the file is stored once it holds `total_size` bytes. A
    wrong offset answers 409 with `extra.received`; GET ?name= says where to resume."""

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=255, help_text="The file's name, e.g. <clip_id>.mp4.")
        offset = serializers.IntegerField(min_value=0, max_value=MAX_ID)
        total_size = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The whole file's size, bytes.")
        chunk = serializers.FileField(allow_empty_file=True)

    class FilterSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=255)

    OutputSerializer = MediaFileResultSerializer

    @extend_schema(
        parameters=[FilterSerializer],
        responses={status.HTTP_200_OK: OutputSerializer, status.HTTP_404_NOT_FOUND: DATASET_NOT_FOUND},
    )
    def get(self, request, dataset_id: int):
        dataset = own_dataset(request, dataset_id)
        name = validated(self.FilterSerializer, request.query_params)["name"]
        result = services.media_chunk_received(dataset=dataset, name=name)
        return Response(self.OutputSerializer(vars_of(result)).data, status=status.HTTP_200_OK)

    @extend_schema(
        request=InputSerializer,
        responses={
            status.HTTP_200_OK: OutputSerializer,
            status.HTTP_404_NOT_FOUND: DATASET_NOT_FOUND,
            status.HTTP_409_CONFLICT: error_response("The offset is not where the file ends: see `extra.received`."),
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: TOO_LARGE,
        },
    )
    def post(self, request, dataset_id: int):
        dataset = own_dataset(request, dataset_id)
        data = validated(self.InputSerializer, request.data)
        result = services.media_chunk_store(dataset=dataset, **data)
        return Response(self.OutputSerializer(vars_of(result)).data, status=status.HTTP_200_OK)


def vars_of(result: services.MediaFileResult) -> dict:
    return dataclasses.asdict(result)
