"""What cannot fit in memory is refused, through the command line, before it is allocated."""
import time

from tests.helpers import SMALL, train_small
from tests.helpers import run_cli as _run


def test_a_batch_larger_than_the_image_is_refused(tmp_path, capsys):
    code, _, err = _run(capsys, *SMALL, "--batch", "10000000", "--out", str(tmp_path / "b"))
    assert code == 2 and "batch=10000000 exceeds the image's 768 pixels" in err
    assert not (tmp_path / "b").exists()


def test_what_cannot_fit_is_refused_before_it_is_allocated(tmp_path, capsys):
    t = time.perf_counter()
    code, _, err = _run(capsys, *SMALL, "--hidden", "100000", "--out", str(tmp_path / "h"))
    assert code == 2 and "GiB" in err and "--hidden" in err and err.count("\n") == 1
    assert time.perf_counter() - t < 5 and not (tmp_path / "h").exists()


def test_a_load_or_render_that_cannot_fit_is_refused_before_it_starts(tmp_path, capsys, monkeypatch):
    """A render streams its PNG band by band, so its memory does not grow with its size; it is
    refused when one band cannot fit, or when its raw pixels exceed the folder's free space."""
    from collections import namedtuple

    from loe_ref.fast import memory
    from loe_ref.runs import render
    t = time.perf_counter()
    code, _, err = _run(capsys, *SMALL, "--size", "100000", "100000", "--out", str(tmp_path / "big"))
    assert code == 2 and "GiB" in err and "--size" in err and err.count("\n") == 1, err
    out = tmp_path / "run"
    assert train_small(capsys, out)[0] == 0
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(render.shutil, "disk_usage", lambda path: usage(2 ** 40, 2 ** 40 - 2 ** 33, 2 ** 33))
    code, _, err = _run(capsys, "--render", str(out / "checkpoint.npz"), "--size", "100000", "100000",
                        "--out", str(tmp_path / "r.png"))
    assert code == 2 and "rendering 100000 x 100000 pixels may write up to 9.3 GiB" in err and "--size" in err, err
    assert err.count("\n") == 1
    monkeypatch.setattr(memory, "available_bytes", lambda: 2 ** 20)
    code, _, err = _run(capsys, "--render", str(out / "checkpoint.npz"), "--size", "100", "100",
                        "--out", str(tmp_path / "r.png"))
    assert code == 2 and "rendering 100 x 100 pixels needs about" in err and "--chunk" in err, err
    assert time.perf_counter() - t < 20 and not (tmp_path / "big").exists() and not (tmp_path / "r.png").exists()


