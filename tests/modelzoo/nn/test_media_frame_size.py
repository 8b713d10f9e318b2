"""Frames below the minimum size are refused by the decoder, as by the media import
(issue 9, point 13)."""

import pytest

from annotator.importers.probe import MIN_SIDE
from modelzoo.nn.config import get_config
from modelzoo.nn.media import MIN_FRAME_SIDE, MediaError, decode_clip_raw

from .conftest import tone

TINY = get_config("tiny")


@pytest.mark.parametrize("size", [(2, 2), (64, 16)])
def test_decoding_refuses_frames_below_the_minimum_size(clip_writer, size):
    path = clip_writer(seconds=2.0, size=size, audio=tone(440, seconds=2.0))

    with pytest.raises(MediaError, match=f"below the minimum of {MIN_FRAME_SIDE}x{MIN_FRAME_SIDE}"):
        decode_clip_raw(path, TINY)


def test_decoding_takes_frames_of_the_minimum_size(clip_writer):
    clip = decode_clip_raw(clip_writer(seconds=2.0, size=(32, 32)), TINY)

    assert clip.video.shape == (3, TINY.num_frames, TINY.frame_size, TINY.frame_size)


def test_decoder_and_media_import_share_one_minimum():
    assert MIN_FRAME_SIDE == MIN_SIDE
