"""Files are written atomically with the user's mode; a full disk or a killed writer leaves no temporary and keeps the last good file."""
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

from loe_ref.network import Config
from loe_ref.runs import checkpoint
from tests.helpers import SMALL, train_small
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


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="names the fsynced files through Linux's /proc")
def test_an_atomic_write_reaches_the_disk_before_and_after_its_rename(tmp_path, monkeypatch):
    """As durable writers do: fsync the temporary, rename it, fsync the folder (a power cut
    once could leave an empty checkpoint behind a finished rename)."""
    from loe_ref.runs import files
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}"))),
                                                 real_fsync(fd)))
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append(("replace", str(b))), real_replace(a, b)))
    target = tmp_path / "record.json"
    files.write_json(str(target), {"a": 1})
    kinds = [e[0] for e in events]
    assert kinds == ["fsync", "replace", "fsync"], events
    assert files.is_temporary(os.path.basename(events[0][1])) is not None
    assert events[1][1] == str(target) and events[2][1] == str(tmp_path)
