"""Ctrl-C, SIGTERM and SIGHUP stop a run after its step and keep the last good state; a render is interrupted cleanly."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from loe_ref.runs import checkpoint, signals
from loe_ref.runs.files import TMP_PREFIX, is_temporary
from tests.helpers import ROOT, SMALL, default_signals


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




@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="finds the worker through Linux's /proc")
def test_a_sigterm_ends_a_run_whose_worker_is_stopped_within_seconds(tmp_path):
    """A stopped worker (SIGSTOP) must not hold the run: it ends within seconds of the stop,
    with one line and its last checkpoint kept."""
    from loe_ref.fast.cpu import usable_cpus
    if usable_cpus() < 2:
        pytest.skip("worker processes need two usable cores")
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "run.py", "--image", "camera", "--size", "96", "96", "--layers", "3",
                             "--hidden", "8", "--batch", "4096", "--iters", "100000", "--eval-every", "1000",
                             "--checkpoint-every", "5", "--quiet", "--out", str(out)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_signals)
    deadline = time.time() + 60
    while not (out / "checkpoint.npz").exists() and time.time() < deadline:
        time.sleep(0.05)
    children = open(f"/proc/{proc.pid}/task/{proc.pid}/children").read().split()
    assert children, "the run forked no worker"
    os.kill(int(children[0]), signal.SIGSTOP)
    t = time.time()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert time.time() - t < 10, "the run outlived its stopped worker"
    assert proc.returncode == 2 and stderr.count("\n") == 1 and "stopped" in stderr and "is kept" in stderr, stderr
    checkpoint.load(out / "checkpoint.npz")
