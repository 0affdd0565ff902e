"""Ctrl-C, SIGTERM and SIGHUP stop a run after its step and keep the last good state; a render is interrupted cleanly."""
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
from loe_ref.runs.files import TMP_PREFIX, is_temporary
from tests.helpers import ROOT, SMALL, default_signals, snapshot, train_small
from tests.helpers import run_cli as _run


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_stop_like_ctrl_c(tmp_path, sig, code):
    out = tmp_path / "sig"
    out.mkdir()
    (out / f"{TMP_PREFIX}999999-abcd1234.npz").write_bytes(b"left by a killed run")
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
    assert not [f for f in os.listdir(out) if is_temporary(f) is not None]


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


