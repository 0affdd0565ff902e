"""A run folder holds one run: refused when taken, replaced with --overwrite, numbered by default, locked while in use."""
import json
import os
import subprocess
import sys

import pytest

from loe_ref.runs import checkpoint, folder
from loe_ref.runs.files import TMP_PREFIX
from tests.helpers import ROOT, SMALL, snapshot, train_small
from tests.helpers import run_cli as _run


def test_a_folder_holding_another_run_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    assert train_small(capsys, out)[0] == 0
    before = snapshot(out)
    code, _, err = train_small(capsys, out, "--grid", "quadtree")
    assert code == 2 and err.count("\n") == 1
    assert "already holds a run" in err and "--overwrite" in err
    assert snapshot(out) == before


def test_overwrite_replaces_the_old_run_first(tmp_path, capsys):
    out = tmp_path / "run"
    assert train_small(capsys, out)[0] == 0
    (out / "notes.txt").write_text("mine")
    (out / "comparison.png").unlink()                      # the new run must not inherit a stale file
    os.utime(out / "psnr.png", (0, 0))
    assert train_small(capsys, out, "--grid", "quadtree", "--iters", "2", "--overwrite")[0] == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["model"]["grid"] == "quadtree"
    assert checkpoint.load(out / "checkpoint.npz")[3]["iteration"] == 2
    assert (out / "notes.txt").read_text() == "mine" and os.path.getmtime(out / "psnr.png") > 0


def test_prepare_removes_the_old_run_before_anything_is_written(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    for f in folder.RUN_FILES:
        (out / f).write_text("old")
    (out / f"{TMP_PREFIX}999999-abcd1234.npz").write_text("partial")
    folder.prepare(str(out), overwrite=True)
    assert os.listdir(out) == []


def test_default_out_is_numbered(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = [a for a in SMALL] + ["--iters", "1"]
    assert _run(capsys, *argv)[0] == 0
    assert _run(capsys, *argv)[0] == 0
    names = sorted(os.listdir(tmp_path / "runs"))
    assert names == ["coins-fine_to_coarse-sine-nearest", "coins-fine_to_coarse-sine-nearest-2"]


@pytest.mark.skipif(folder.fcntl is None, reason="folder locks need POSIX fcntl")
def test_a_folder_in_use_by_another_process_is_refused_until_it_ends(tmp_path, capsys):
    """Two processes never train in one folder; a killed holder leaves no stale lock."""
    out = tmp_path / "run"
    assert train_small(capsys, out)[0] == 0
    before = snapshot(out)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from loe_ref.runs.folder import FolderLock\n"
        f"with FolderLock({str(out)!r}):\n    print('held', flush=True); time.sleep(60)")],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        code, _, err = train_small(capsys, out, "--resume", str(out / "checkpoint.npz"), "--iters", "6")
        assert code == 2 and err.count("\n") == 1
        assert f"is in use by another process (pid {holder.pid})" in err
        assert snapshot(out) == before                      # the holder's run is untouched
    finally:
        holder.kill()
        holder.wait()
    code, _, err = train_small(capsys, out, "--resume", str(out / "checkpoint.npz"), "--iters", "6")
    assert code == 0, err


@pytest.mark.skipif(folder.fcntl is None, reason="folder locks need POSIX fcntl")
def test_the_lock_is_per_holder_and_released_on_exit(tmp_path):
    with folder.FolderLock(str(tmp_path / "new")):
        assert (tmp_path / "new" / folder.LOCK_FILE).read_text().strip() == str(os.getpid())
        with pytest.raises(folder.RunDirError, match=f"in use by another process \\(pid {os.getpid()}\\)"):
            folder.FolderLock(str(tmp_path / "new")).__enter__()
    with folder.FolderLock(str(tmp_path / "new")):
        pass
