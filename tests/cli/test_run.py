import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from skimage import io

import run
from loe_ref.runs import checkpoint
from loe_ref.runs.files import is_temporary
from tests.helpers import ROOT, SMALL, default_signals, refused
from tests.helpers import run_cli as _run


def test_end_to_end_outputs_exist_and_parse(tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, _ = _run(capsys, *SMALL, "--iters", "6", "--eval-every", "2", "--out", str(out))
    assert code == 0
    lines = stdout.strip().splitlines()
    assert lines[-2].startswith("peak PSNR") and lines[-1] == f"outputs in {out}"
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["model"]["grid"] == "fine_to_coarse" and cfg["training"]["iters"] == 6
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [int(r["iteration"]) for r in rows] == [2, 4, 6]
    assert all(np.isfinite(float(r["psnr"])) and float(r["loss"]) > 0 for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["peak_psnr"] == max(float(r["psnr"]) for r in rows)
    assert summary["iterations"] == 6 and summary["parameters"] > 0
    assert io.imread(out / "reconstruction.png").shape == (24, 32)
    assert io.imread(out / "error.png").shape == (24, 32)
    for name in ("experts.png", "psnr.png", "comparison.png"):
        assert io.imread(out / name).ndim == 3
    cfg_ck, params, _, meta = checkpoint.load(out / "checkpoint.npz")
    assert meta["iteration"] == 6 and cfg_ck.layers == 3
    assert not [f for f in os.listdir(out) if is_temporary(f) is not None]




@pytest.mark.parametrize("batch", [[], ["--batch", "100"]])
def test_resume_equals_uninterrupted(tmp_path, capsys, batch):
    common = SMALL + batch + ["--eval-every", "2", "--checkpoint-every", "2"]
    a, b = tmp_path / "a", tmp_path / "b"
    assert _run(capsys, *common, "--iters", "6", "--out", str(a))[0] == 0
    assert _run(capsys, *common, "--iters", "3", "--out", str(b))[0] == 0
    assert _run(capsys, "--resume", str(b / "checkpoint.npz"), "--iters", "6", "--quiet")[0] == 0
    _, pa, ea, ma = checkpoint.load(a / "checkpoint.npz")
    _, pb, eb, mb = checkpoint.load(b / "checkpoint.npz")
    assert ma["iteration"] == mb["iteration"] == 6 and ma["adam_t"] == mb["adam_t"] == 6
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k], err_msg=k)
    for k in ea:
        np.testing.assert_array_equal(ea[k], eb[k], err_msg=k)
    ra = {r[0]: r[1:3] for r in ma["history"]}
    rb = {r[0]: r[1:3] for r in mb["history"]}
    assert sorted(rb) == [2, 3, 4, 6] and sorted(ra) == [2, 4, 6]   # b also evaluated where it stopped
    assert all(ra[k] == rb[k] for k in ra)










def test_gpu_without_gpu(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)             # CuPy not importable here
    refused(capsys, tmp_path, *SMALL, "--device", "gpu", match="--device gpu")




@pytest.mark.parametrize("argv,match", [(["--grid", "spiral"], "invalid choice: 'spiral'"),
                                        (["--act", "relu"], "invalid choice: 'relu'"),
                                        (["--hidden", "0"], "0 must be a positive integer"),
                                        (["--iters", "-5"], "-5 must be a positive integer"),
                                        (["--size", "0", "10"], "0 must be a positive integer"),
                                        (["--lr", "nan"], "must be a positive number")])
def test_bad_arguments(capsys, argv, match):
    with pytest.raises(SystemExit) as exc:
        run.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert match in err


def test_ctrl_c_stops_cleanly_and_resumes(tmp_path):
    out = tmp_path / "int"
    proc = subprocess.Popen([sys.executable, "run.py", *SMALL, "--iters", "100000", "--eval-every", "1",
                             "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_signals)
    deadline = time.time() + 60
    while not (out / "metrics.csv").exists() and time.time() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    stdout, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, stdout
    assert "stopped at iteration" in stdout
    _, _, _, meta = checkpoint.load(out / "checkpoint.npz")
    assert 1 <= meta["iteration"] < 100000
    assert (out / "summary.json").exists()
