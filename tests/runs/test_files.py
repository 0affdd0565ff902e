"""Files are written atomically with the user's mode; a full disk or a killed writer leaves no temporary and keeps the last good file."""
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
from tests.helpers import ROOT, SMALL, default_signals, snapshot, train_small
from tests.helpers import run_cli as _run


def test_files_follow_the_umask(tmp_path, capsys):
    old = os.umask(0o022)
    try:
        out = tmp_path / "mode"
        assert _run(capsys, *SMALL, "--iters", "2", "--out", str(out))[0] == 0
    finally:
        os.umask(old)
    modes = {f: stat.S_IMODE((out / f).stat().st_mode) for f in os.listdir(out)}
    assert set(modes.values()) == {0o644}, modes


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


def test_temporaries_of_ended_processes_are_removed_by_the_next_write(tmp_path, capsys):
    """A render killed with SIGKILL leaves its temporary; the next write into that folder
    removes it, and never a temporary of a process still alive, nor a file loe_ref did not
    name (a user's .tmp-<pid>-notes.txt in a foreign folder was once deleted)."""
    from loe_ref.runs.files import TMP_PREFIX, write_text
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    stale = tmp_path / f"{TMP_PREFIX}{ended.pid}-abcd1234.png"
    live = tmp_path / f"{TMP_PREFIX}{os.getpid()}-defg5678.png"
    foreign = [tmp_path / f".tmp-{ended.pid}-notes.txt", tmp_path / f"{TMP_PREFIX}{ended.pid}-notes.txt.bak"]
    stale.write_bytes(b"half a png")
    live.write_bytes(b"being written")
    for f in foreign:                                     # a user's files that only look like temporaries
        f.write_bytes(b"not loe_ref's")
    out = tmp_path / "run"
    assert train_small(capsys, out)[0] == 0
    code, _, err = _run(capsys, "--render", str(out / "checkpoint.npz"), "--size", "8", "8",
                        "--out", str(tmp_path / "r.png"))
    assert code == 0, err
    assert not stale.exists() and live.exists() and (tmp_path / "r.png").exists()
    assert all(f.exists() for f in foreign)
    write_text(str(tmp_path / "note.txt"), "x")
    assert live.exists()
