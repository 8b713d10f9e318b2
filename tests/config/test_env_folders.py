"""AVLABEL_MEDIA_IMPORT_ROOTS: absolute folders, resolved; a relative one stops start-up."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_folders


def test_folders_are_read_resolved_and_empty_means_none(monkeypatch, tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    monkeypatch.setenv("AVLABEL_MEDIA_IMPORT_ROOTS", f"{tmp_path / 'link'}, /srv/media ,")
    assert env_folders("AVLABEL_MEDIA_IMPORT_ROOTS") == [(tmp_path / "real").resolve(), Path("/srv/media")]
    monkeypatch.setenv("AVLABEL_MEDIA_IMPORT_ROOTS", "")
    assert env_folders("AVLABEL_MEDIA_IMPORT_ROOTS") == []


def test_a_relative_folder_stops_start_up(monkeypatch):
    monkeypatch.setenv("AVLABEL_MEDIA_IMPORT_ROOTS", "media/videos")
    with pytest.raises(ImproperlyConfigured, match="not an absolute folder"):
        env_folders("AVLABEL_MEDIA_IMPORT_ROOTS")
