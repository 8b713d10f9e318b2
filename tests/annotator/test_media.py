"""Range requests and safe paths for clip media (annotator/media_serving.py)."""

import os

import pytest
from django.test import RequestFactory

from annotator.media_serving import (
    ByteRange,
    MediaPathError,
    RangeNotSatisfiable,
    clip_media_file,
    content_type_for,
    iter_file,
    parse_range,
    ranged_file_response,
    resolve_inside,
)
from annotator.models import Clip, Dataset

SIZE = 1000


@pytest.fixture
def payload(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(bytes(i % 251 for i in range(SIZE)))
    return path


def get(path, **headers):
    request = RequestFactory().get("/media/clips/1/", headers=headers)
    response = ranged_file_response(request, path)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", ByteRange(0, 99)),
        ("bytes=900-", ByteRange(900, 999)),
        ("bytes=-100", ByteRange(900, 999)),
        ("bytes=-5000", ByteRange(0, 999)),
        ("bytes=990-5000", ByteRange(990, 999)),
        ("bytes = 5 - 5", ByteRange(5, 5)),
        ("", None),
        ("items=0-5", None),
        ("bytes=0-1,5-6", None),
    ],
)
def test_parse_range_reads_one_byte_range(header, expected):
    assert parse_range(header, SIZE) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=1500-1600", "bytes=10-5", "bytes=-0", "bytes=-", "bytes=x-1"])
def test_parse_range_refuses_unsatisfiable_ranges(header):
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, SIZE)


def test_first_100_bytes_come_back_as_206_with_content_range(payload):
    response, body = get(payload, Range="bytes=0-99")

    assert response.status_code == 206
    assert body == payload.read_bytes()[:100]
    assert response["Content-Length"] == "100"
    assert response["Content-Range"] == f"bytes 0-99/{SIZE}"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"


def test_open_ended_range_runs_to_the_end(payload):
    response, body = get(payload, Range="bytes=950-")

    assert response.status_code == 206
    assert body == payload.read_bytes()[950:]
    assert response["Content-Range"] == f"bytes 950-999/{SIZE}"


def test_suffix_range_gives_the_last_bytes(payload):
    response, body = get(payload, Range="bytes=-10")

    assert response.status_code == 206
    assert body == payload.read_bytes()[-10:]
    assert response["Content-Range"] == f"bytes 990-999/{SIZE}"


def test_unsatisfiable_range_is_416_with_the_size(payload):
    response, body = get(payload, Range=f"bytes={SIZE}-")

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"
    assert body == b""


def test_no_range_sends_the_whole_file(payload):
    response, body = get(payload)

    assert response.status_code == 200
    assert body == payload.read_bytes()
    assert response["Content-Length"] == str(SIZE)
    assert response["Accept-Ranges"] == "bytes"


def test_matching_etag_is_304(payload):
    first, _ = get(payload)

    again, body = get(payload, **{"If-None-Match": first["ETag"]})

    assert again.status_code == 304
    assert body == b""


def test_if_range_with_a_stale_etag_sends_the_whole_file(payload):
    response, body = get(payload, Range="bytes=0-9", **{"If-Range": '"stale"'})

    assert response.status_code == 200
    assert len(body) == SIZE


def test_iter_file_reads_in_chunks(payload):
    chunks = list(iter_file(payload, 10, 250, chunk_size=100))

    assert [len(c) for c in chunks] == [100, 100, 50]
    assert b"".join(chunks) == payload.read_bytes()[10:260]


@pytest.mark.parametrize(
    ("name", "expected"), [("a.mp4", "video/mp4"), ("b.WEBM", "video/webm"), ("h.png", "image/png")]
)
def test_content_type_follows_the_extension(tmp_path, name, expected):
    assert content_type_for(tmp_path / name) == expected


def test_resolve_inside_refuses_paths_leaving_the_root(tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("no")
    (root / "ok.mp4").write_bytes(b"x")
    os.symlink(tmp_path / "secret.txt", root / "link.mp4")

    assert resolve_inside(root, "ok.mp4") == (root / "ok.mp4").resolve()
    for bad in ("../secret.txt", str(tmp_path / "secret.txt"), "link.mp4", "", "missing.mp4"):
        with pytest.raises(MediaPathError):
            resolve_inside(root, bad)


def test_clip_media_file_uses_the_dataset_root_under_media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "vgg" / "clips").mkdir(parents=True)
    (tmp_path / "vgg" / "clips" / "a.mp4").write_bytes(b"x")
    relative = Clip(dataset=Dataset(name="d", media_root="vgg"), media_path="clips/a.mp4")
    absolute = Clip(dataset=Dataset(name="e", media_root=str(tmp_path / "vgg")), media_path="clips/a.mp4")
    escaping = Clip(dataset=Dataset(name="f", media_root=str(tmp_path / "vgg")), media_path="../vgg/../x.mp4")

    assert clip_media_file(relative) == tmp_path / "vgg" / "clips" / "a.mp4"
    assert clip_media_file(absolute) == tmp_path / "vgg" / "clips" / "a.mp4"
    with pytest.raises(MediaPathError):
        clip_media_file(escaping)
