"""Images in: bundled pictures or files, headers read before pixels, one-line refusals."""
import os
import time

import numpy as np
import pytest

from tests.helpers import refused
from tests.helpers import run_cli as _run


def test_unknown_image_name(tmp_path, capsys):
    refused(capsys, tmp_path, "--image", "no_such_picture", match="unknown image 'no_such_picture'")


def test_unreadable_image_file(tmp_path, capsys):
    bad = tmp_path / "fake.png"
    bad.write_text("not an image")
    refused(capsys, tmp_path, "--image", str(bad), match="cannot read image file")


def test_an_image_header_is_read_before_its_pixels(tmp_path, capsys, monkeypatch):
    from PIL import Image

    from loe_ref.fast import memory
    from loe_ref.training import data
    path = tmp_path / "wide.png"
    Image.new("1", (3000, 2000)).save(path)                 # a tiny file of 6 M pixels
    monkeypatch.setattr(memory, "available_bytes", lambda: 10 * 2 ** 20)
    monkeypatch.setattr(data, "load_image", lambda *a: pytest.fail("the pixels were decoded"))
    code, _, err = _run(capsys, "--image", str(path), "--quiet", "--out", str(tmp_path / "o"))
    assert code == 2 and "2000 x 3000 image" in err and err.count("\n") == 1, err


def test_a_non_finite_pixel_is_refused_at_load_by_its_position(tmp_path):
    """A float TIFF with a NaN once trained until "the loss became nan"; it is refused first."""
    import tifffile

    from loe_ref.training.data import ImageError, load_image
    img = np.full((6, 7), 0.5, np.float32)
    img[4, 2] = np.nan
    path = tmp_path / "nan.tif"
    tifffile.imwrite(path, img)
    with pytest.raises(ImageError, match=r"non-finite value \(nan\) at pixel \(4, 2\)"):
        load_image(str(path))


def test_a_cmyk_jpeg_is_converted_as_pillow_converts_it(tmp_path):
    """C, M, Y were once fitted as R, G, B (the four channels read as RGBA)."""
    from PIL import Image

    from loe_ref.training.data import load_image, signal_size
    rng = np.random.default_rng(0)
    path = tmp_path / "cmyk.jpg"
    Image.fromarray(rng.integers(0, 256, (16, 20, 4), dtype=np.uint8), mode="CMYK").save(path, quality=95)
    with Image.open(path) as im:
        want = np.asarray(im.convert("RGB"), dtype=np.float64) / 255.0
    np.testing.assert_array_equal(load_image(str(path)), want)
    assert signal_size(str(path), "image") == (16, 20, 3)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_is_refused_instead_of_blocking(tmp_path, capsys):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    t = time.perf_counter()
    refused(capsys, tmp_path, "--image", str(fifo), "--quiet", match="is not a regular file")
    assert time.perf_counter() - t < 10
