"""Images in: bundled pictures or files, headers read before pixels, one-line refusals."""
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
