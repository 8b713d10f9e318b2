"""Uploaded media: many files at once with a result per file, one large file in chunks that
resumes where it stopped, names that cannot leave the dataset's upload folder."""

from __future__ import annotations

import pytest

from annotator import services
from annotator.services.media_uploads import upload_name_clean
from config.errors import ApplicationError, ConflictError
from tests.annotator.imports import build_import_world, run_job, upload
from tests.builders import write_mp4

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(media_root, settings, tmp_path):
    settings.AVLABEL_IMPORT_DIR = tmp_path / "imports"
    world = build_import_world()
    world.dataset.clips.create(clip_id="c0")
    world.dataset.clips.create(clip_id="c1")
    return world


@pytest.mark.parametrize(
    "raw, kept",
    [("c0.mp4", "c0.mp4"), ("../../etc/c0.mp4", "c0.mp4"), ("C:\\videos\\c1.MP4", "c1.MP4"), ("a b.wav", "a b.wav")],
)
def test_an_upload_keeps_only_its_last_name_component(raw, kept):
    assert upload_name_clean(raw, suffixes=(".mp4", ".wav")) == kept


@pytest.mark.parametrize(
    "raw", ["", "..", "/", ".hidden.mp4", "bad\x00.mp4", "new\nline.mp4", "x" * 300 + ".mp4", "a.exe"]
)
def test_an_upload_name_that_is_no_plain_media_name_is_refused(raw):
    with pytest.raises(ApplicationError):
        upload_name_clean(raw, suffixes=(".mp4",))


def test_many_files_at_once_get_a_result_each(world, tmp_path):
    clip = write_mp4(tmp_path / "src.mp4", seconds=1.0, size=32).read_bytes()
    files = [upload("c0.mp4", clip), upload("extra.mp4", clip), upload("notes.txt", "hi"), upload("c1.mp4", b"")]

    results = services.media_files_store(dataset=world.dataset, files=files)

    assert [(result.name, result.status, result.clip_id) for result in results] == [
        ("c0.mp4", "stored", "c0"),
        ("extra.mp4", "stored", None),
        ("notes.txt", "refused", None),
        ("c1.mp4", "refused", None),
    ]
    assert "no clip of the dataset has this id" in results[1].message and "is empty" in results[3].message
    folder = services.media_upload_folder(dataset=world.dataset)
    assert sorted(path.name for path in folder.iterdir()) == ["c0.mp4", "extra.mp4"]
    assert (folder / "c0.mp4").read_bytes() == clip


def test_a_large_file_in_chunks_resumes_where_it_stopped_and_is_stored_when_complete(world, tmp_path):
    data = write_mp4(tmp_path / "src.mp4", seconds=1.0, size=32).read_bytes()
    third = len(data) // 3
    send = lambda offset, part: services.media_chunk_store(  # noqa: E731
        dataset=world.dataset, name="c1.mp4", offset=offset, total_size=len(data), chunk=upload("blob", part)
    )
    folder = services.media_upload_folder(dataset=world.dataset)

    assert send(0, data[:third]).status == "partial"
    assert send(third, data[third : 2 * third]).received == 2 * third
    assert not (folder / "c1.mp4").exists()  # a half-sent file is never probed
    # A lost connection: the client asks where to resume, a wrong offset is refused with it
    assert services.media_chunk_received(dataset=world.dataset, name="c1.mp4").received == 2 * third
    with pytest.raises(ConflictError) as conflict:
        send(third, data[third:])
    assert conflict.value.extra == {"received": 2 * third}
    with pytest.raises(ApplicationError, match="past total_size"):
        send(2 * third, data[2 * third :] + b"extra")
    done = send(2 * third, data[2 * third :])

    assert (done.status, done.clip_id, done.received) == ("stored", "c1", len(data))
    assert (folder / "c1.mp4").read_bytes() == data and [p.name for p in folder.iterdir()] == ["c1.mp4"]
    # The media job probes it like any uploaded file
    job = run_job(services.media_import_start(owner=world.researcher, dataset=world.dataset))
    assert job.status == "done" and world.dataset.clips.get(clip_id="c1").media_status == "ok"


def test_offset_zero_starts_a_chunked_file_again(world):
    send = lambda offset, part: services.media_chunk_store(  # noqa: E731
        dataset=world.dataset, name="c0.mp4", offset=offset, total_size=4, chunk=upload("blob", part)
    )
    send(0, b"xx")
    assert send(0, b"ab").received == 2
    assert send(2, b"cd").status == "stored"
    assert (services.media_upload_folder(dataset=world.dataset) / "c0.mp4").read_bytes() == b"abcd"


def test_a_file_larger_than_the_setting_is_refused(world, settings):
    settings.AVLABEL_UPLOAD_MAX_FILE_BYTES = 3
    with pytest.raises(ApplicationError) as refused:
        services.media_chunk_store(
            dataset=world.dataset, name="c0.mp4", offset=0, total_size=4, chunk=upload("b", b"x")
        )
    assert refused.value.http_status == 413
    result = services.media_files_store(dataset=world.dataset, files=[upload("c0.mp4", b"abcd")])[0]
    assert result.status == "refused" and "larger than 3 bytes" in result.message
