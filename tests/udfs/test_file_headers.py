"""Image sizes read from file headers (before decoding, to choose the analysis scale), against Pillow."""

import io

import cv2
import numpy as np
import PIL.Image
import pytest
from qmdb.udfs.pixels import DecodeError, check_bytes, file_size, jpeg_size

from .conftest import photos


def encoded(ext: str, size=(333, 217), **save) -> bytes:
    rgb = cv2.resize(photos()["coffee"], size)[..., ::-1]
    buffer = io.BytesIO()
    PIL.Image.fromarray(rgb).save(buffer, format=ext, **save)
    return buffer.getvalue()


def exif() -> bytes:
    data = PIL.Image.Exif()
    data[0x0112] = 6  # orientation: the stored size is still the pixels' size
    data[0x010E] = "x" * 5000  # a long APP1 segment to walk over
    return data.tobytes()


@pytest.mark.parametrize("save", [{}, {"progressive": True}, {"exif": exif()}, {"subsampling": 0}, {"quality": 5}])
def test_jpeg_frame_header_gives_pillows_size(save):
    data = encoded("JPEG", **save)
    assert file_size(np.frombuffer(data, np.uint8)) == PIL.Image.open(io.BytesIO(data)).size == (333, 217)


def test_fill_bytes_before_a_marker_are_skipped():
    data = encoded("JPEG")
    padded = data[:2] + b"\xff\xff\xff" + data[2:]  # fill bytes are allowed before any marker
    assert jpeg_size(memoryview(padded)) == (333, 217)


def test_png_header_and_other_formats():
    assert file_size(np.frombuffer(encoded("PNG", (40, 30)), np.uint8)) == (40, 30)
    assert file_size(np.frombuffer(encoded("BMP", (41, 31)), np.uint8)) == (41, 31)  # by Pillow
    assert file_size(np.frombuffer(b"not an image at all", np.uint8)) is None


def test_a_jpeg_cut_before_its_frame_header_has_no_size():
    data = encoded("JPEG", exif=exif())
    assert jpeg_size(memoryview(data[:1000])) is None


def test_completeness_of_a_jpeg():
    data = encoded("JPEG")
    check_bytes(data)
    check_bytes(data + b"trailing data after the end-of-image marker")
    with pytest.raises(DecodeError, match="truncated"):
        check_bytes(data[: len(data) // 2])
