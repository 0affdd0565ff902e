"""A checkpoint rendered at any size, to a PNG written whole or not at all."""
import os
import signal
import subprocess
import sys
import time

import pytest
from skimage import io

from loe_ref.runs.files import is_temporary
from tests.helpers import ROOT, default_signals, train_small
from tests.helpers import run_cli as _run


def test_rgb_image_and_render_at_another_size(tmp_path, capsys):
    out = tmp_path / "rgb"
    code, _, _ = _run(capsys, "--image", "astronaut", "--size", "16", "16", "--layers", "2", "--hidden", "4",
                      "--iters", "2", "--out", str(out), "--quiet")
    assert code == 0
    assert io.imread(out / "reconstruction.png").shape == (16, 16, 3)
    png = tmp_path / "big.png"
    code, stdout, _ = _run(capsys, "--render", str(out / "checkpoint.npz"), "--size", "40", "50", "--out", str(png))
    assert code == 0 and io.imread(png).shape == (40, 50, 3)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_an_interrupted_render_leaves_no_temporary(tmp_path, capsys, sig):
    out = tmp_path / "run"
    assert train_small(capsys, out)[0] == 0
    png = tmp_path / "pics" / "big.png"
    # 64 M pixels: about 20 s of rendering, so the signal after 2 s (imports take 0.3 s) lands mid-render
    proc = subprocess.Popen([sys.executable, "run.py", "--render", str(out / "checkpoint.npz"), "--size", "8000",
                             "8000", "--chunk", "4096", "--out", str(png)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_signals)
    time.sleep(2)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig and "was not written" in stderr, stderr
    assert not png.exists() and not [f for f in os.listdir(png.parent) if is_temporary(f) is not None] \
        if png.parent.exists() else True
