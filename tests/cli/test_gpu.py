"""The paper's command on the GPU, end to end, on CuPy or, without a GPU, on the strict
stand-in (tests/standin/cupy): training, evaluation, checkpoint, resume across devices,
render, and device memory refused before allocation."""
import json
import sys

import numpy as np
import pytest

from loe_ref.backend import gpu_available
from loe_ref.runs import checkpoint
from tests.helpers import SMALL
from tests.helpers import run_cli as _run

pytestmark = pytest.mark.skipif(not gpu_available(), reason="neither CuPy with a GPU nor the stand-in")


def _standin():
    import cupy
    return getattr(cupy, "STANDIN", False) and cupy


def test_a_run_on_the_gpu_checkpoints_resumes_on_either_device_and_renders(tmp_path, capsys):
    """Train on the GPU; continue its checkpoint on the CPU and back on the GPU; render it on
    the GPU. The GPU run is the CPU run up to float32 rounding (a batch is one shard there)."""
    gpu, cpu = tmp_path / "gpu", tmp_path / "cpu"
    argv = [*SMALL, "--iters", "20", "--eval-every", "10", "--checkpoint-every", "10"]
    assert _run(capsys, *argv, "--device", "gpu", "--out", str(gpu))[0] == 0
    assert _run(capsys, *argv, "--device", "cpu", "--out", str(cpu))[0] == 0
    g, c = (json.loads((d / "summary.json").read_text()) for d in (gpu, cpu))
    assert abs(g["final_psnr"] - c["final_psnr"]) < 1e-3, (g["final_psnr"], c["final_psnr"])
    _, params, _, meta = checkpoint.load(gpu / "checkpoint.npz")
    assert meta["options"]["device"] == "gpu" and all(isinstance(v, np.ndarray) for v in params.values())
    code, _, err = _run(capsys, "--resume", str(gpu / "checkpoint.npz"), "--iters", "30", "--device", "cpu", "--quiet")
    assert code == 0, err
    code, _, err = _run(capsys, "--resume", str(gpu / "checkpoint.npz"), "--iters", "40", "--device", "gpu", "--quiet")
    assert code == 0, err
    assert json.loads((gpu / "summary.json").read_text())["iterations"] == 40
    png = tmp_path / "big.png"
    code, out, err = _run(capsys, "--render", str(gpu / "checkpoint.npz"), "--size", "50", "70", "--device", "gpu",
                          "--out", str(png))
    assert code == 0 and png.exists(), err


def test_a_gpu_checkpoint_without_a_gpu_names_the_option(tmp_path, capsys, monkeypatch):
    out = tmp_path / "gpu"
    assert _run(capsys, *SMALL, "--iters", "4", "--device", "gpu", "--out", str(out))[0] == 0
    monkeypatch.setitem(sys.modules, "cupy", None)           # no CuPy here
    code, _, err = _run(capsys, "--resume", str(out / "checkpoint.npz"), "--iters", "6")
    assert code == 2 and "was trained on the GPU" in err and "--device cpu" in err and err.count("\n") == 1, err
    code, _, err = _run(capsys, "--resume", str(out / "checkpoint.npz"), "--iters", "6", "--device", "cpu", "--quiet")
    assert code == 0, err


def test_device_memory_is_refused_before_it_is_allocated(tmp_path, capsys, monkeypatch):
    """A GPU batch is one shard, so the device needs the whole batch's activations: with a
    small device the run is refused up front, naming --batch, and nothing is allocated."""
    cupy = _standin()
    if not cupy:
        pytest.skip("sizes the device: the stand-in only")
    monkeypatch.setattr(cupy.stats, "device_bytes", cupy.stats.used + 64 * 2 ** 20)
    before = cupy.stats.peak = cupy.stats.used
    code, _, err = _run(capsys, "--image", "camera", "--device", "gpu", "--batch", "65536", "--iters", "2",
                        "--quiet", "--out", str(tmp_path / "o"))
    assert code == 2 and "of GPU memory" in err and "--batch" in err and err.count("\n") == 1, err
    assert cupy.stats.peak == before and not (tmp_path / "o").exists()


def test_a_device_out_of_memory_is_one_line(tmp_path, capsys, monkeypatch):
    """Past the estimate, CuPy's OutOfMemoryError (a MemoryError) is one line naming the
    options that lower it, and no run file is left."""
    cupy = _standin()
    if not cupy:
        pytest.skip("sizes the device: the stand-in only")
    from loe_ref.fast import memory
    monkeypatch.setattr(memory, "check_device_memory", lambda *a: None)      # the estimate misses
    from loe_ref.fast import engine
    monkeypatch.setattr(engine, "check_device_memory", lambda *a: None)
    monkeypatch.setattr(cupy.stats, "device_bytes", cupy.stats.used + 8 * 2 ** 20)
    code, _, err = _run(capsys, "--image", "camera", "--device", "gpu", "--batch", "65536", "--iters", "2",
                        "--quiet", "--out", str(tmp_path / "o"))
    assert code == 2 and "out of memory (OutOfMemoryError" in err and "--batch" in err and err.count("\n") == 1, err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_the_step_benchmark_runs_on_the_device(tmp_path):
    """benchmarks/step.py --device gpu: the GPU's step against its floor, one process."""
    import subprocess

    from tests.helpers import ROOT
    out = subprocess.run([sys.executable, "benchmarks/step.py", "--device", "gpu", "--batch", "4096", "--rounds", "1",
                          "--steps", "2", "--json", str(tmp_path / "step.json")], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    records = json.loads((tmp_path / "step.json").read_text())
    assert records and all(r["device"] == "gpu" and r["step_ms"] > 0 for r in records)


@pytest.mark.parametrize("batch", [4096, 0])
def test_a_device_step_waits_for_the_host_at_most_once(tmp_path, batch):
    """On a GPU every host wait stalls the queue of a step's kernels: a batch step crosses
    once (its plan's expert offsets, all layers in one transfer), a whole-image step over
    the cached plans not at all, and a checkpoint a handful of times (one finiteness check,
    the divergence check's loss, three flat arrays)."""
    cupy = _standin()
    if not cupy:
        pytest.skip("counts host waits: the stand-in only")
    from loe_ref.network import Config
    from loe_ref.runs import session
    from loe_ref.training.loop import Trainer
    from loe_ref.training.options import TrainOptions
    trainer = Trainer(Config(), TrainOptions(image="camera", size=[96, 96], batch=batch, iters=10, device="gpu"))
    trainer.step(0)
    for it in range(1, 4):
        cupy.stats.reset()
        trainer.last_loss = trainer.step(it)
        assert cupy.stats.syncs + cupy.stats.to_host <= (1 if batch else 0), (it, cupy.stats.__dict__)
    trainer.first_loss = float(trainer.last_loss)
    cupy.stats.reset()
    session.save_checkpoint(trainer, tmp_path / "checkpoint.npz")
    assert cupy.stats.syncs + cupy.stats.to_host <= 5, cupy.stats.__dict__
    trainer.close()
