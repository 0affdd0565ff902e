"""Runs never lose or mix results, refuse what cannot fit, and show what happened."""
import json
import os
import signal
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

import run
from loe_ref.network import Config
from loe_ref.runs import checkpoint, folder, session, signals
from loe_ref.runs.progress import Progress
from tests.helpers import ROOT, SMALL, default_signals
from tests.helpers import run_cli as _run


def _snapshot(out):
    """Every file of the run in ``out`` with its time and bytes (not the lock, which names the last user)."""
    return {f: (os.path.getmtime(os.path.join(out, f)), open(os.path.join(out, f), "rb").read())
            for f in sorted(os.listdir(out)) if f != folder.LOCK_FILE}


def _train(capsys, out, *extra):
    code, stdout, err = _run(capsys, *SMALL, "--iters", "4", "--eval-every", "2", "--out", str(out), *extra)
    return code, stdout, err


def test_a_folder_holding_another_run_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(capsys, out)[0] == 0
    before = _snapshot(out)
    code, _, err = _train(capsys, out, "--grid", "quadtree")
    assert code == 2 and err.count("\n") == 1
    assert "already holds a run" in err and "--overwrite" in err
    assert _snapshot(out) == before


def test_overwrite_replaces_the_old_run_first(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(capsys, out)[0] == 0
    (out / "notes.txt").write_text("mine")
    (out / "comparison.png").unlink()                      # the new run must not inherit a stale file
    os.utime(out / "psnr.png", (0, 0))
    assert _train(capsys, out, "--grid", "quadtree", "--iters", "2", "--overwrite")[0] == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["model"]["grid"] == "quadtree"
    assert checkpoint.load(out / "checkpoint.npz")[3]["iteration"] == 2
    assert (out / "notes.txt").read_text() == "mine" and os.path.getmtime(out / "psnr.png") > 0


def test_prepare_removes_the_old_run_before_anything_is_written(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    for f in folder.RUN_FILES:
        (out / f).write_text("old")
    (out / ".tmp-abc.npz").write_text("partial")
    folder.prepare(str(out), overwrite=True)
    assert os.listdir(out) == []


def test_default_out_is_numbered(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = [a for a in SMALL] + ["--iters", "1"]
    assert _run(capsys, *argv)[0] == 0
    assert _run(capsys, *argv)[0] == 0
    names = sorted(os.listdir(tmp_path / "runs"))
    assert names == ["coins-fine_to_coarse-sine-nearest", "coins-fine_to_coarse-sine-nearest-2"]


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_stop_like_ctrl_c(tmp_path, sig, code):
    out = tmp_path / "sig"
    out.mkdir()
    (out / ".tmp-stale.npz").write_bytes(b"left by a killed run")
    proc = subprocess.Popen([sys.executable, "run.py", *SMALL, "--iters", "100000", "--eval-every", "1000",
                             "--checkpoint-every", "5", "--out", str(out)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_signals)
    deadline = time.time() + 60               # the first checkpoint comes before any evaluation
    while not (out / "checkpoint.npz").exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert "stopped at iteration" in stdout
    _, params, _, meta = checkpoint.load(out / "checkpoint.npz")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["iterations"] == summary["final_iteration"] == meta["iteration"] >= 1
    assert meta["history"] == [] and summary["final_psnr"] > 0       # evaluated at the stop: reported, not recorded
    assert not [f for f in os.listdir(out) if f.startswith(".tmp")]


def _bad_checkpoints(tmp_path, capsys):
    out = tmp_path / "good"
    assert _train(capsys, out)[0] == 0
    good = (out / "checkpoint.npz").read_bytes()
    bad = {}
    bad["truncated"] = good[:len(good) // 2]
    flipped = bytearray(good)
    flipped[len(good) // 3] ^= 0xFF
    bad["bit-flipped"] = bytes(flipped)
    cfg, params, extra, meta = checkpoint.load(out / "checkpoint.npz")
    for name, (e, m) in {"no-adam_t": (extra, {k: v for k, v in meta.items() if k != "adam_t"}),
                         "no-adam_m": ({k: v for k, v in extra.items() if not k.startswith("adam_m/W1")}, meta)}.items():
        checkpoint.save(tmp_path / f"{name}.npz", params, cfg, extra=e, meta=m)
        bad[name] = (tmp_path / f"{name}.npz").read_bytes()
    return bad


def test_bad_checkpoints_get_one_line(tmp_path, capsys):
    for name, data in _bad_checkpoints(tmp_path, capsys).items():
        path = tmp_path / f"{name}-ck.npz"
        path.write_bytes(data)
        code, _, err = _run(capsys, "--resume", str(path), "--iters", "9", "--out", str(tmp_path / f"o-{name}"))
        assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, (name, err)
        assert str(path) in err and "Traceback" not in err, (name, err)
        if name in ("truncated", "bit-flipped"):
            code, _, err = _run(capsys, "--render", str(path), "--size", "8", "8", "--out", str(tmp_path / "r.png"))
            assert code == 2 and err.count("\n") == 1 and str(path) in err, (name, err)
    assert not (tmp_path / "r.png").exists()


def test_non_finite_parameters_are_never_checkpointed(tmp_path, capsys):
    out = tmp_path / "nan"
    code, _, err = _run(capsys, *SMALL, "--lr", "1e12", "--iters", "50", "--eval-every", "100",
                        "--checkpoint-every", "7", "--out", str(out))
    assert code == 2 and "non-finite" in err and "--lr" in err and err.count("\n") == 1
    assert not (out / "checkpoint.npz").exists()
    out2 = tmp_path / "nan2"                    # one step at this rate stays finite, later ones do not
    code, _, err = _run(capsys, *SMALL, "--lr", "1e12", "--iters", "50", "--eval-every", "100",
                        "--checkpoint-every", "1", "--out", str(out2))
    assert code == 2 and "the last good checkpoint is kept" in err
    _, params, _, meta = checkpoint.load(out2 / "checkpoint.npz")
    assert 1 <= meta["iteration"] < 50 and all(np.isfinite(v).all() for v in params.values())


def test_divergence_from_the_encoding_names_pe(tmp_path, capsys):
    code, _, err = _run(capsys, *SMALL, "--pe", "200", "--iters", "20", "--out", str(tmp_path / "pe"))
    assert code == 2 and "--pe 200" in err and "--lr" not in err


def test_a_batch_larger_than_the_image_is_refused(tmp_path, capsys):
    code, _, err = _run(capsys, *SMALL, "--batch", "10000000", "--out", str(tmp_path / "b"))
    assert code == 2 and "batch=10000000 exceeds the image's 768 pixels" in err
    assert not (tmp_path / "b").exists()


def test_what_cannot_fit_is_refused_before_it_is_allocated(tmp_path, capsys):
    t = time.perf_counter()
    code, _, err = _run(capsys, *SMALL, "--hidden", "100000", "--out", str(tmp_path / "h"))
    assert code == 2 and "GiB" in err and "--hidden" in err and err.count("\n") == 1
    assert time.perf_counter() - t < 5 and not (tmp_path / "h").exists()


def test_progress_shows_a_dash_before_the_first_evaluation_and_the_time_left():
    bar = Progress(100, start=0, quiet=True)
    line = bar.line(0, now=bar.start)
    assert "loss - PSNR - dB" in line and "nan" not in line and "- left" in line
    bar.update(10, 0.5, 20.0)
    line = bar.line(10, now=bar.start + 20.0)
    assert "loss 5.000e-01 PSNR 20.00 dB" in line and "2.00 s/it" in line and "3:00 left" in line


def test_pictures_and_whole_history_across_resumes(tmp_path, capsys):
    out = tmp_path / "pics"
    assert _run(capsys, *SMALL, "--iters", "4", "--eval-every", "2", "--out", str(out))[0] == 0
    assert _run(capsys, "--resume", str(out / "checkpoint.npz"), "--iters", "8", "--quiet")[0] == 0
    for name in ("comparison.png", "experts.png", "psnr.png"):
        assert (out / name).stat().st_size > 0
    rows = (out / "metrics.csv").read_text().splitlines()[1:]
    assert [int(r.split(",")[0]) for r in rows] == [2, 4, 6, 8]


def test_files_follow_the_umask(tmp_path, capsys):
    old = os.umask(0o022)
    try:
        out = tmp_path / "mode"
        assert _run(capsys, *SMALL, "--iters", "2", "--out", str(out))[0] == 0
    finally:
        os.umask(old)
    modes = {f: stat.S_IMODE((out / f).stat().st_mode) for f in os.listdir(out)}
    assert set(modes.values()) == {0o644}, modes


def test_help_lists_images_and_reads_well(capsys):
    with pytest.raises(SystemExit):
        run.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "camera" in text and "astronaut" in text and "(default default)" not in text
    assert "--overwrite" in text


def test_render_checks_the_extension_up_front(tmp_path, capsys):
    code, _, err = _run(capsys, "--render", str(tmp_path / "missing.npz"), "--size", "8", "8",
                        "--out", str(tmp_path / "x.jpg"))
    assert code == 2 and "must name a .png file" in err and not (tmp_path / "x.jpg").exists()


def test_resume_with_nothing_left_to_do_touches_nothing(tmp_path, capsys):
    out = tmp_path / "done"
    assert _train(capsys, out)[0] == 0
    before = _snapshot(out)
    for iters in ("4", "3"):
        code, stdout, _ = _run(capsys, "--resume", str(out / "checkpoint.npz"), "--iters", iters)
        assert code == 0 and "nothing to do: give a larger --iters to train on" in stdout
    assert _snapshot(out) == before


def test_a_full_disk_leaves_the_last_checkpoint_and_no_temporary(tmp_path, monkeypatch):
    """A write that fails half-way (ENOSPC) keeps the previous file whole and removes its temporary."""
    import errno

    from loe_ref.network import init_params
    cfg = Config(layers=2, hidden=4)
    path = tmp_path / "checkpoint.npz"
    checkpoint.save(path, init_params(cfg, 0), cfg, meta={"iteration": 1})
    before = path.read_bytes()

    def full_disk(fh, **arrays):
        fh.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", full_disk)
    with pytest.raises(OSError, match="No space left on device while writing .*checkpoint.npz"):
        checkpoint.save(path, init_params(cfg, 1), cfg, meta={"iteration": 2})
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["checkpoint.npz"]


@pytest.mark.parametrize("schedule", ["cosine", "linear", "step"])
def test_a_scheduled_run_resumes_only_to_its_own_length(tmp_path, capsys, schedule):
    out = tmp_path / "sched"
    assert _run(capsys, *SMALL, "--schedule", schedule, "--iters", "4", "--out", str(out))[0] == 0
    code, _, err = _run(capsys, "--resume", str(out / "checkpoint.npz"), "--iters", "8")
    assert code == 2 and f"{schedule} schedule, which depends on the run's length" in err
    code, stdout, _ = _run(capsys, "--resume", str(out / "checkpoint.npz"))
    assert code == 0 and f"nothing to do: its {schedule} schedule ends there" in stdout


@pytest.mark.skipif(folder.fcntl is None, reason="folder locks need POSIX fcntl")
def test_a_folder_in_use_by_another_process_is_refused_until_it_ends(tmp_path, capsys):
    """Two processes never train in one folder; a killed holder leaves no stale lock."""
    out = tmp_path / "run"
    assert _train(capsys, out)[0] == 0
    before = _snapshot(out)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from loe_ref.runs.folder import FolderLock\n"
        f"with FolderLock({str(out)!r}):\n    print('held', flush=True); time.sleep(60)")],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        code, _, err = _train(capsys, out, "--resume", str(out / "checkpoint.npz"), "--iters", "6")
        assert code == 2 and err.count("\n") == 1
        assert f"is in use by another process (pid {holder.pid})" in err
        assert _snapshot(out) == before                      # the holder's run is untouched
    finally:
        holder.kill()
        holder.wait()
    code, _, err = _train(capsys, out, "--resume", str(out / "checkpoint.npz"), "--iters", "6")
    assert code == 0, err


@pytest.mark.skipif(folder.fcntl is None, reason="folder locks need POSIX fcntl")
def test_the_lock_is_per_holder_and_released_on_exit(tmp_path):
    with folder.FolderLock(str(tmp_path / "new")):
        assert (tmp_path / "new" / folder.LOCK_FILE).read_text().strip() == str(os.getpid())
        with pytest.raises(folder.RunDirError, match=f"in use by another process \\(pid {os.getpid()}\\)"):
            folder.FolderLock(str(tmp_path / "new")).__enter__()
    with folder.FolderLock(str(tmp_path / "new")):
        pass


def test_a_finite_loss_that_explodes_is_divergence(tmp_path, capsys):
    """A loss 100 x the first step's stops the run (rc 2), naming the likely cause."""
    code, _, err = _run(capsys, *SMALL, "--lr", "1e2", "--iters", "60", "--eval-every", "2",
                        "--checkpoint-every", "1000", "--out", str(tmp_path / "x"))
    assert code == 2 and "diverged" in err and "--lr" in err and err.count("\n") == 1, err


def test_huge_omega0_is_named_as_the_cause(tmp_path, capsys):
    code, _, err = _run(capsys, *SMALL, "--omega0", "1e300", "--iters", "20", "--eval-every", "1",
                        "--out", str(tmp_path / "w"))
    assert code == 2 and "--omega0" in err, err


def test_checkpoint_refuses_non_finite_adam_state(tmp_path):
    from loe_ref.training.loop import Trainer, TrainingError
    from loe_ref.training.options import TrainOptions
    trainer = Trainer(Config(layers=2, hidden=4), TrainOptions(image="coins", size=[8, 8], iters=2))
    trainer.opt.v["W1"][0, 0, 0] = np.inf
    with pytest.raises(TrainingError, match="adam_v/W1"):
        session.save_checkpoint(trainer, str(tmp_path / "checkpoint.npz"))
    assert not (tmp_path / "checkpoint.npz").exists()


def test_an_inherited_ignored_signal_stays_ignored():
    import signal as sig
    previous = sig.signal(sig.SIGHUP, sig.SIG_IGN)
    try:
        with signals.StopSignals() as stop:
            assert sig.getsignal(sig.SIGHUP) is sig.SIG_IGN
            assert sig.getsignal(sig.SIGTERM) == stop._handle
        assert sig.getsignal(sig.SIGHUP) is sig.SIG_IGN
    finally:
        sig.signal(sig.SIGHUP, previous)


def test_resume_with_nothing_left_finishes_missing_outputs(tmp_path, capsys):
    """A run whose final outputs were lost (a kill during them) gets them back without training."""
    out = tmp_path / "lost"
    assert _train(capsys, out)[0] == 0
    _, params, _, _ = checkpoint.load(out / "checkpoint.npz")
    summary = json.loads((out / "summary.json").read_text())
    (out / "summary.json").unlink()
    (out / "comparison.png").unlink()
    (out / ".tmp-dead.png").write_bytes(b"half")
    code, stdout, _ = _run(capsys, "--resume", str(out / "checkpoint.npz"), "--iters", "4")
    assert code == 0 and "nothing to do" not in stdout
    assert json.loads((out / "summary.json").read_text()) == summary
    assert (out / "comparison.png").exists() and not (out / ".tmp-dead.png").exists()
    _, again, _, _ = checkpoint.load(out / "checkpoint.npz")
    assert all(np.array_equal(params[k], again[k]) for k in params)


def _rewrite(path, out, change):
    """Copy checkpoint ``path`` to ``out`` with change(arrays) applied to its arrays (config and meta as text)."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    change(arrays)
    with open(out, "wb") as fh:
        np.savez(fh, **arrays)


@pytest.mark.parametrize("name,change,field", [
    ("nan", lambda a: a["W1"].__setitem__((0, 0, 0), np.nan), "'W1' holds non-finite"),
    ("int", lambda a: a.__setitem__("b1", a["b1"].astype(np.int64)), "'b1' has dtype int64"),
    ("complex", lambda a: a.__setitem__("W_out", a["W_out"].astype(np.complex128)), "'W_out' has dtype complex128"),
    ("f16", lambda a: a.__setitem__("W2", a["W2"].astype(np.float16)), "'W2' has dtype float16"),
    ("shape", lambda a: a.__setitem__("config", np.array(str(a["config"]).replace('"hidden": 8', '"hidden": 32'))),
     "has shape"),
    ("adam", lambda a: a["adam_v/W1"].__setitem__((0, 0, 0), np.inf), "'adam_v/W1' holds non-finite"),
    ("iteration", lambda a: a.__setitem__("meta", np.array(str(a["meta"]).replace('"iteration": 4', '"iteration": -4'))),
     "'iteration' is -4"),
])
def test_checkpoints_are_validated_whole(tmp_path, capsys, name, change, field):
    """Resume and render refuse a damaged checkpoint in one line naming the file and the field."""
    out = tmp_path / "run"
    assert _train(capsys, out)[0] == 0
    bad = tmp_path / f"{name}.npz"
    _rewrite(out / "checkpoint.npz", bad, change)
    code, _, err = _run(capsys, "--resume", str(bad), "--iters", "9", "--out", str(tmp_path / "o"))
    assert code == 2 and field in err and str(bad) in err and err.count("\n") == 1, err
    if name not in ("adam", "iteration"):                   # render needs the parameters only
        code, _, err = _run(capsys, "--render", str(bad), "--size", "8", "8", "--out", str(tmp_path / "r.png"))
        assert code == 2 and field in err and err.count("\n") == 1, err
        assert not (tmp_path / "r.png").exists()


def _npy_header(shape, descr="<f4"):
    """The bytes of an .npy file that declares ``shape`` and holds no data."""
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {tuple(shape)}, }}"
    header = header + " " * (118 - len(header)) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()


def test_a_huge_member_header_is_refused_unread(tmp_path, capsys):
    """A member's header that does not match the configuration is refused before any array
    is read; so is a configuration whose arrays would not fit, all headers consistent."""
    import zipfile

    from loe_ref.runs.checkpoint import expected_members
    out = tmp_path / "run"
    assert _train(capsys, out)[0] == 0
    bad = tmp_path / "huge.npz"
    with zipfile.ZipFile(out / "checkpoint.npz") as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "W2.npy":
                data = _npy_header((1000000, 1000000))
            dst.writestr(info, data)
    code, _, err = _run(capsys, "--render", str(bad), "--size", "8", "8", "--out", str(tmp_path / "r.png"))
    assert code == 2 and "'W2' has shape (1000000, 1000000)" in err and err.count("\n") == 1, err
    cfg = Config(layers=3, hidden=30000)
    big = tmp_path / "big.npz"
    with zipfile.ZipFile(big, "w") as dst:
        for name, shape in expected_members(cfg).items():
            dst.writestr(name + ".npy", _npy_header(shape))
        for name, text in (("config", cfg.to_json()), ("meta", "{}")):
            buf = __import__("io").BytesIO()
            np.save(buf, np.array(text))
            dst.writestr(name + ".npy", buf.getvalue())
    code, _, err = _run(capsys, "--render", str(big), "--size", "8", "8", "--out", str(tmp_path / "r.png"))
    assert code == 2 and "GiB of arrays, more than any loe_ref checkpoint holds" in err and err.count("\n") == 1, err


def test_a_load_or_render_that_cannot_fit_is_refused_before_it_starts(tmp_path, capsys):
    t = time.perf_counter()
    code, _, err = _run(capsys, *SMALL, "--size", "100000", "100000", "--out", str(tmp_path / "big"))
    assert code == 2 and "GiB" in err and "--size" in err and err.count("\n") == 1, err
    out = tmp_path / "run"
    assert _train(capsys, out)[0] == 0
    code, _, err = _run(capsys, "--render", str(out / "checkpoint.npz"), "--size", "100000", "100000",
                        "--out", str(tmp_path / "r.png"))
    assert code == 2 and "rendering 100000 x 100000" in err and err.count("\n") == 1, err
    assert time.perf_counter() - t < 20 and not (tmp_path / "big").exists() and not (tmp_path / "r.png").exists()


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


def test_a_resume_binds_to_the_pixels_it_was_trained_on(tmp_path, capsys, monkeypatch):
    """Found from another folder by the recorded path; other pixels refused, the same accepted."""
    from skimage import io
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    rng = np.random.default_rng(0)
    io.imsave(a / "pic.png", rng.integers(0, 255, (24, 32), dtype=np.uint8), check_contrast=False)
    io.imsave(b / "pic.png", rng.integers(0, 255, (24, 32), dtype=np.uint8), check_contrast=False)
    io.imsave(b / "copy.png", io.imread(a / "pic.png"), check_contrast=False)
    small = [x for x in SMALL if x not in ("--image", "coins", "--size", "24", "32")]
    monkeypatch.chdir(a)
    assert _run(capsys, *small, "--image", "pic.png", "--iters", "3", "--out", str(tmp_path / "run"))[0] == 0
    monkeypatch.chdir(b)
    ckpt = str(tmp_path / "run" / "checkpoint.npz")
    code, _, err = _run(capsys, "--resume", ckpt, "--iters", "5", "--image", "pic.png", "--out", str(tmp_path / "x"))
    assert code == 2 and "other pixels" in err and "a/pic.png" in err and err.count("\n") == 1, err
    assert _run(capsys, "--resume", ckpt, "--iters", "5", "--image", "copy.png", "--out", str(tmp_path / "y"))[0] == 0
    code, _, err = _run(capsys, "--resume", ckpt, "--iters", "6")        # found at a/pic.png from b
    assert code == 0, err
    assert json.loads((tmp_path / "run" / "config.json").read_text())["training"]["image"] == str(a / "pic.png")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_an_interrupted_render_leaves_no_temporary(tmp_path, capsys, sig):
    out = tmp_path / "run"
    assert _train(capsys, out)[0] == 0
    png = tmp_path / "pics" / "big.png"
    # 64 M pixels: about 20 s of rendering, so the signal after 2 s (imports take 0.3 s) lands mid-render
    proc = subprocess.Popen([sys.executable, "run.py", "--render", str(out / "checkpoint.npz"), "--size", "8000",
                             "8000", "--chunk", "4096", "--out", str(png)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_signals)
    time.sleep(2)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig and "was not written" in stderr, stderr
    assert not png.exists() and not [f for f in os.listdir(png.parent) if f.startswith(".tmp")] \
        if png.parent.exists() else True


def test_temporaries_of_ended_processes_are_removed_by_the_next_write(tmp_path, capsys):
    """A render killed with SIGKILL leaves its temporary; the next write into that folder
    removes it, and never a temporary of a process still alive."""
    from loe_ref.runs.files import TMP_PREFIX, write_text
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    stale = tmp_path / f"{TMP_PREFIX}{ended.pid}-abc.png"
    live = tmp_path / f"{TMP_PREFIX}{os.getpid()}-def.png"
    stale.write_bytes(b"half a png")
    live.write_bytes(b"being written")
    out = tmp_path / "run"
    assert _train(capsys, out)[0] == 0
    code, _, err = _run(capsys, "--render", str(out / "checkpoint.npz"), "--size", "8", "8",
                        "--out", str(tmp_path / "r.png"))
    assert code == 0, err
    assert not stale.exists() and live.exists() and (tmp_path / "r.png").exists()
    write_text(str(tmp_path / "note.txt"), "x")
    assert live.exists()
