"""run.py on every kind of signal, from files made here: a fit writes its kind's outputs,
resumes to the same numbers, and bad files or sizes are refused in one line."""
import json
import os
import wave

import numpy as np
import pytest

from loe_ref.runs import checkpoint, folder
from loe_ref.grids import pixel_coords
from loe_ref.network import forward
from loe_ref.training.data import prepare_signal, target_values
from tests.helpers import refused
from tests.helpers import run_cli as _run

NET = ["--layers", "3", "--hidden", "8", "--quiet", "--recipe", "full-batch", "--eval-every", "2"]


def _wav(path, samples, rate=8000):
    pcm = np.round(samples * 32767).astype("<i2")
    with wave.open(str(path), "wb") as fh:
        fh.setnchannels(1 if pcm.ndim == 1 else pcm.shape[1])
        fh.setsampwidth(2)
        fh.setframerate(rate)
        fh.writeframes(pcm.tobytes())


def _signals(tmp_path):
    """{name: (path, kind, values in [0, 1] as the reader should give them)}, one file per format."""
    from PIL import Image
    rng = np.random.default_rng(0)
    made = {}
    stereo = np.sin(np.linspace(0, 20, 300))[:, None] * np.array([0.5, -0.8])
    _wav(tmp_path / "stereo.wav", stereo)
    made["wav"] = (tmp_path / "stereo.wav", "sound", (np.round(stereo * 32767) / 32768 + 1) / 2)
    frames = rng.integers(0, 256, (4, 8, 10, 3), dtype=np.uint8)
    np.save(tmp_path / "video.npy", frames)
    made["npy video"] = (tmp_path / "video.npy", "video", frames / 255.0)
    (tmp_path / "frames").mkdir()
    for k, f in enumerate(frames):                      # numbered out of the names' text order
        Image.fromarray(f).save(tmp_path / "frames" / f"f{k * 5}.png")
    made["frames"] = (tmp_path / "frames", "video", frames / 255.0)
    grey = rng.integers(0, 256, (3, 6, 7), dtype=np.uint8)
    Image.fromarray(grey[0]).save(tmp_path / "grey.gif", save_all=True,
                                  append_images=[Image.fromarray(g) for g in grey[1:]], duration=100)
    made["gif"] = (tmp_path / "grey.gif", "video", np.repeat(grey[..., None], 3, axis=3) / 255.0)
    import tifffile
    vol = rng.integers(0, 65536, (5, 6, 7), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "volume.tif", vol)
    made["tiff"] = (tmp_path / "volume.tif", "volume", vol / 65535.0)
    return made


def test_each_format_reads_as_its_kind(tmp_path):
    for name, (path, kind, want) in _signals(tmp_path).items():
        signal = prepare_signal(str(path))
        assert signal.kind == kind, name
        np.testing.assert_allclose(signal.values, want, rtol=0, atol=1e-12, err_msg=name)
    assert prepare_signal(str(tmp_path / "stereo.wav")).rate == 8000
    assert prepare_signal(str(tmp_path / "grey.gif")).rate == pytest.approx(10.0)
    assert prepare_signal(str(tmp_path / "volume.tif"), kind="video").kind == "video"


@pytest.mark.parametrize("name", ["wav", "frames", "tiff"])
def test_each_kind_fits_writes_its_outputs_and_resumes(tmp_path, capsys, name):
    path, kind, values = _signals(tmp_path)[name]
    out = tmp_path / "run"
    code, _, err = _run(capsys, "--signal", str(path), *NET, "--iters", "4", "--out", str(out))
    assert code == 0, err
    assert sorted(os.listdir(out)) == sorted(folder.run_files(kind) + (folder.LOCK_FILE,))
    summary = json.load(open(out / "summary.json"))
    assert summary["kind"] == kind and summary["iterations"] == 4
    cfg, _, _, _ = checkpoint.load(out / "checkpoint.npz")
    assert cfg.in_dims == {"sound": 1, "video": 3, "volume": 3}[kind]
    assert cfg.axis_scale == ([300 / 2 ** 3] if kind == "sound" else [])     # a sound: a finest cell per sample
    rows = open(out / "metrics.csv").read().splitlines()
    if kind == "video":                          # every evaluation: the whole video's PSNR and every frame's
        frames = summary["frame_psnr"]
        assert len(frames) == 4
        assert rows[0].endswith(",psnr,seconds,psnr_frame_0,psnr_frame_1,psnr_frame_2,psnr_frame_3")
        last = [float(v) for v in rows[-1].split(",")]
        assert last[4:] == pytest.approx(frames, rel=1e-12) and summary["history"][-1]["frames"] == frames
        mse = np.mean([10 ** (-p / 10) for p in frames])
        assert last[2] == pytest.approx(-10 * np.log10(mse), rel=1e-9)
    else:
        assert rows[0] == "iteration,loss,psnr,seconds" and "frames" not in summary["history"][-1]
    cfg, params, _, _ = checkpoint.load(out / "checkpoint.npz")
    grid = values.shape[:cfg.in_dims]
    want = target_values(forward(params, cfg, pixel_coords(grid))[0], grid + (-1,))    # the network's own values
    if kind == "sound":
        with wave.open(str(out / "reconstruction.wav")) as fh:
            assert (fh.getnchannels(), fh.getnframes(), fh.getframerate()) == (2, 300, 8000)
            pcm = np.frombuffer(fh.readframes(300), "<i2").reshape(300, 2)
        np.testing.assert_allclose(pcm / 32767, 2 * want - 1, atol=1.01 / 32767)
    if kind == "volume":
        np.testing.assert_allclose(np.load(out / "reconstruction.npy"), want[..., 0], atol=1e-6)
    _renders_at_another_size(tmp_path, capsys, out / "checkpoint.npz", kind)
    code, _, err = _run(capsys, "--resume", str(out / "checkpoint.npz"), "--iters", "8", "--quiet")
    assert code == 0, err
    whole = tmp_path / "whole"
    assert _run(capsys, "--signal", str(path), *NET, "--iters", "8", "--out", str(whole))[0] == 0
    a, b = json.load(open(out / "summary.json")), json.load(open(whole / "summary.json"))
    assert [h["psnr"] for h in a["history"]] == [h["psnr"] for h in b["history"]]


def _renders_at_another_size(tmp_path, capsys, ckpt, kind):
    """Each kind's file at another size (a sound and a video keep their duration), an .npy of
    any kind, and a format or size that does not fit the kind refused."""
    from PIL import Image
    size, ext = {"sound": (["600"], ".wav"), "video": (["8", "16", "20"], ".gif"),
                 "volume": (["10", "12", "14"], ".npy")}[kind]
    path = tmp_path / f"render{ext}"
    code, _, err = _run(capsys, "--render", str(ckpt), "--size", *size, "--out", str(path))
    assert code == 0, err
    if kind == "sound":
        with wave.open(str(path)) as fh:
            assert (fh.getnchannels(), fh.getnframes(), fh.getframerate()) == (2, 600, 16000)
    elif kind == "video":
        with Image.open(path) as im:
            assert (im.n_frames, im.size) == (8, (20, 16))
    else:
        assert np.load(path).shape == (10, 12, 14)
    code, _, err = _run(capsys, "--render", str(ckpt), "--size", *size, "--out", str(tmp_path / "any.npy"))
    assert code == 0 and np.load(tmp_path / "any.npy").shape[:len(size)] == tuple(int(v) for v in size)
    code, _, err = _run(capsys, "--render", str(ckpt), "--size", "8", "8", "--out", str(tmp_path / "x.png"))
    assert code == 2 and err.count("\n") == 1 and "must end in" in err and not (tmp_path / "x.png").exists()
    code, _, err = _run(capsys, "--render", str(ckpt), "--size", *size, "5", "--out", str(tmp_path / "y.npy"))
    assert code == 2 and "sizes" in err and not (tmp_path / "y.npy").exists()


def test_a_folder_of_frames_given_with_a_slash_names_its_run(tmp_path, capsys, monkeypatch):
    frames = _signals(tmp_path)["frames"][0]
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(capsys, "--signal", f"{frames}/", *NET, "--iters", "1")
    assert code == 0, err
    assert os.listdir(tmp_path / "runs") == ["frames-fine_to_coarse-sine-nearest"]


def test_a_resampled_sound_keeps_the_stretch_of_its_recording(tmp_path, capsys):
    """One finest cell per recorded sample: the content, not the resampling, sets the cells."""
    out = tmp_path / "run"
    code, _, err = _run(capsys, "--signal", str(_signals(tmp_path)["wav"][0]), *NET, "--iters", "2", "--size", "600",
                        "--out", str(out))
    assert code == 0, err
    assert checkpoint.load(out / "checkpoint.npz")[0].axis_scale == [300 / 2 ** 3]


def test_a_signal_with_its_axes_stretched_fits(tmp_path, capsys):
    path = _signals(tmp_path)["npy video"][0]
    out = tmp_path / "run"
    code, _, err = _run(capsys, "--signal", str(path), *NET, "--iters", "2", "--axis-scale", "0.25", "1", "1",
                        "--out", str(out))
    assert code == 0, err
    assert checkpoint.load(out / "checkpoint.npz")[0].axis_scale == [0.25, 1.0, 1.0]


def test_bad_kinds_sizes_and_files_are_refused_in_one_line(tmp_path, capsys):
    signals = _signals(tmp_path)
    wav = str(signals["wav"][0])
    refused(capsys, tmp_path, "--signal", wav, "--size", "10", "10", match="a sound takes 1")
    refused(capsys, tmp_path, "--signal", wav, "--axis-scale", "1", "2", match="axis_scale")
    refused(capsys, tmp_path, "--signal", "chirp", "--kind", "video", match="'chirp' is a made sound")
    refused(capsys, tmp_path, "--signal", str(signals["tiff"][0]), "--kind", "sound", match="sound")
    huge = tmp_path / "huge.npy"
    with open(huge, "wb") as fh:                 # a header declaring 1.4 TB of samples, and no samples
        np.lib.format.write_array_header_2_0(fh, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (3000, 4000, 5000, 3)})
    refused(capsys, tmp_path, "--signal", str(huge), match="loading the 3000 x 4000 x 5000 video needs about")
    (tmp_path / "mixed").mkdir()
    (tmp_path / "mixed" / "a1.png").write_bytes(b"")
    (tmp_path / "mixed" / "notes.png").write_bytes(b"")
    refused(capsys, tmp_path, "--signal", str(tmp_path / "mixed"), match="numbered pictures")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(signals["wav"][0].read_bytes()[:700])
    refused(capsys, tmp_path, "--signal", str(cut), match="is cut short: Reached EOF prematurely")
    nan = tmp_path / "nan.npy"
    np.save(nan, np.where(np.arange(60).reshape(3, 4, 5) == 17, np.nan, 0.5))
    refused(capsys, tmp_path, "--signal", str(nan), match="non-finite value (nan) at sample (0, 3, 2)")


def test_a_video_container_without_pyav_names_the_install(tmp_path, capsys):
    pytest.importorskip("imageio")
    try:
        import av  # noqa: F401
        pytest.skip("PyAV is installed")
    except ImportError:
        pass
    (tmp_path / "clip.mp4").write_bytes(b"\x00" * 64)
    refused(capsys, tmp_path, "--signal", str(tmp_path / "clip.mp4"), match="pip install av")


def test_an_mp4_reads_from_its_header_then_its_frames(tmp_path, capsys):
    pytest.importorskip("av")
    import imageio.v3 as iio

    from loe_ref.training.data import signal_size
    frames = np.random.default_rng(0).integers(0, 256, (6, 32, 48, 3)).astype(np.uint8)
    iio.imwrite(tmp_path / "clip.mp4", frames, plugin="pyav", codec="libx264", fps=10)
    assert signal_size(str(tmp_path / "clip.mp4"), "video") == (6, 32, 48, 3)
    signal = prepare_signal(str(tmp_path / "clip.mp4"))
    assert signal.kind == "video" and signal.values.shape == (6, 32, 48, 3) and signal.rate == 10
    out = tmp_path / "run"
    code, _, err = _run(capsys, "--signal", str(tmp_path / "clip.mp4"), *NET, "--iters", "2", "--out", str(out))
    assert code == 0 and (out / "reconstruction.gif").exists(), err


def test_a_stream_without_a_frame_count_is_sized_by_its_duration():
    """A container whose header gives no frame count (some MP4s and WebMs) is still sized
    before decoding: its duration times its frame rate, rounded up."""
    from fractions import Fraction
    from types import SimpleNamespace

    from loe_ref.training.readers import stream_frames

    def stream(frames=0, duration=None, time_base=None, rate=Fraction(25)):
        return SimpleNamespace(frames=frames, duration=duration, time_base=time_base, average_rate=rate,
                               guessed_rate=None)
    assert stream_frames(stream(frames=7), None) == 7
    assert stream_frames(stream(duration=3001, time_base=Fraction(1, 1000)), None) == 76      # 3.001 s x 25
    assert stream_frames(stream(), 2_000_000) == 50                                             # the container's 2 s
    assert stream_frames(stream(), None) is None and stream_frames(stream(rate=None), 2_000_000) is None


@pytest.mark.parametrize("name", ["wav", "npy video"])
def test_each_kind_fits_on_the_gpu(tmp_path, capsys, name):
    """CuPy, or its strict stand-in where CuPy is not installed (tests/standin)."""
    path, kind, _ = _signals(tmp_path)[name]
    out = tmp_path / "run"
    code, _, err = _run(capsys, "--signal", str(path), *NET, "--iters", "2", "--device", "gpu", "--out", str(out))
    assert code == 0, err
    assert sorted(os.listdir(out)) == sorted(folder.run_files(kind) + (folder.LOCK_FILE,))
