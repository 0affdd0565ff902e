"""Table I's orderings, in miniature: camera at 128 x 128 under the 512 x 512 table's recipe.

The 512 x 512 table (docs/results.md) supports fine_to_coarse above quadtree for both
activations with the default initialisation (the paper's rows; with SIREN's it turns); it
does not support sine above leaky ReLU, so that is not asserted.
"""
import os

import pytest

from loe_ref.network import Config
from loe_ref.progress import Progress
from loe_ref.train import Trainer, TrainOptions
from tests.helpers import load_script


def _peak(tmp_path, grid, act):
    """Peak PSNR after 100 full-image equivalents (400 steps of 4096 pixels)."""
    opts = TrainOptions(image="camera", size=[128, 128], iters=400, eval_every=20, checkpoint_every=1000,
                        batch=4096, sampler="epoch", lr=3e-3, schedule="cosine", beta2=0.99)
    trainer = Trainer(Config(grid=grid, act=act), opts, str(tmp_path / f"{grid}-{act}"))
    assert trainer.fit(Progress(opts.iters, quiet=True))
    return trainer.best[0]


@pytest.mark.slow
@pytest.mark.parametrize("act", ["sine", "leaky_relu"])
def test_fine_to_coarse_beats_quadtree(tmp_path, act):
    f2c, quad = _peak(tmp_path, "fine_to_coarse", act), _peak(tmp_path, "quadtree", act)
    print(f"{act}: fine_to_coarse {f2c:.2f} dB, quadtree {quad:.2f} dB")
    assert f2c > quad


@pytest.mark.slow
def test_memory_estimate_within_a_quarter_of_the_measured_peak():
    """benchmarks/memory.py's batch case: the refusal threshold is close to reality."""
    import json
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "benchmarks/memory.py", "--one", "3"], capture_output=True,
                         text=True, check=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ratio = json.loads(out.stdout.strip().splitlines()[-1])["estimate_over_measured"]
    assert 0.75 <= ratio <= 1.25, ratio


_script = load_script


def _table(capsys, monkeypatch, out, *argv):
    """Run scripts/reproduce.py's main, on a 16 x 16 camera unless argv names --out; (code, stdout, stderr)."""
    import sys
    module = _script("reproduce")
    monkeypatch.setattr(sys, "argv", ["reproduce.py", *argv] if "--out" in argv else
                        ["reproduce.py", "--size", "16", "--iters", "6", "--eval-every", "3", "--batch", "64",
                         "--out", str(out), *argv])
    try:
        module.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
        print(exc.code, file=sys.stderr)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_table_records_every_field_and_reuses_finished_rows(tmp_path, capsys, monkeypatch):
    import json
    code, out, _ = _table(capsys, monkeypatch, tmp_path, "--rows", "3,9")
    assert code == 0 and out.count("== ") == 2
    records = json.load(open(tmp_path / "table1.json"))
    assert [r["row"] for r in records] == ["fine_to_coarse sine", "MLP leaky_relu PE-8"]
    fields = {"row", "grid", "act", "blend", "tile", "layers", "hidden", "init", "omega0", "pe", "lr",
              "schedule", "batch", "iterations", "equivalents", "size", "parameters", "peak_psnr",
              "peak_iteration", "seconds", "cpu"}
    assert fields <= set(records[0]), fields - set(records[0])
    assert records[0]["act"] == "sine" and records[0]["iterations"] == 6 and records[0]["size"] == 16
    code, out, _ = _table(capsys, monkeypatch, tmp_path, "--rows", "")       # lists, trains nothing
    assert code == 0 and "== " not in out and json.load(open(tmp_path / "table1.json")) == records
    assert (tmp_path / "table1.md").read_text().count("| fine_to_coarse sine |") == 1


def test_table_refuses_a_finished_row_trained_differently(tmp_path, capsys, monkeypatch):
    assert _table(capsys, monkeypatch, tmp_path, "--rows", "1")[0] == 0
    code, out, err = _table(capsys, monkeypatch, tmp_path, "--rows", "1", "--lr", "0.02")
    assert code == 1 and "== " not in out
    assert "trained differently" in err and "lr: 0.003 in the checkpoint, 0.02 now" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("rows", ["0", "11", "2,x"])
def test_table_rows_are_checked(tmp_path, capsys, monkeypatch, rows):
    code, _, err = _table(capsys, monkeypatch, tmp_path, "--rows", rows)
    assert code == 1 and "numbers run from 1 to 10" in err and not os.listdir(tmp_path)


def test_the_default_command_is_the_protocol_of_the_committed_512_table(tmp_path, capsys, monkeypatch):
    """Every finished row of results/table1_512 validates (configuration and recipe) under the defaults."""
    import json
    import shutil
    root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "results", "table1_512")
    rows = sorted(d for d in os.listdir(root) if os.path.exists(os.path.join(root, d, "summary.json")))
    assert len(rows) >= 4
    for d in rows:
        os.makedirs(tmp_path / d)
        for f in ("summary.json", "history.json", "checkpoint.npz"):
            shutil.copy(os.path.join(root, d, f), tmp_path / d / f)
    code, out, err = _table(capsys, monkeypatch, tmp_path, "--rows", "", "--out", str(tmp_path))
    assert code == 0, err
    listed = json.load(open(tmp_path / "table1.json"))
    assert sorted(r["row"].replace(" ", "_") for r in listed) == rows
    for r in listed:
        summary = json.load(open(os.path.join(root, r["row"].replace(" ", "_"), "summary.json")))
        assert r["peak_psnr"] == round(summary["peak_psnr"], 2) and r["equivalents"] == 2000


def test_compare_rows_counts_the_evaluations_where_a_leads():
    module = _script("compare_rows")
    a = {64: 30.0, 128: 31.0, 192: 33.0, 256: 35.0}
    b = {64: 31.0, 128: 31.0, 192: 32.0, 256: 34.0, 320: 36.0}
    lines = module.compare(a, b, per_equivalent=64, thresholds=(33.0, 40.0))
    assert lines == ["A ahead at 2 of 4 shared evaluations",
                     "A not ahead at 2: first at 1, last at 2 equivalents",
                     "A first at 33 dB or more: 3 equivalents",
                     "A first at 40 dB or more: never"]


def test_compare_rows_gives_each_row_its_best_within_the_shorter_time():
    module = _script("compare_rows")
    a = [[64, 0.1, 30.0, 10.0], [128, 0.1, 33.0, 20.0], [192, 0.1, 32.0, 30.0], [256, 0.1, 40.0, 40.0]]
    b = [[64, 0.1, 31.0, 15.0], [128, 0.1, 32.5, 25.0]]
    assert module.equal_time(a, b) == ["within 25 s (the shorter row's time):",
                                       "  A best 33.00 dB, at iteration 128",
                                       "  B best 32.50 dB, at iteration 128"]


def test_table_refuses_a_row_another_process_is_training(tmp_path, capsys, monkeypatch):
    from loe_ref.rundir import FolderLock, fcntl
    if fcntl is None:
        pytest.skip("folder locks need POSIX fcntl")
    with FolderLock(str(tmp_path / "fine_to_coarse_sine")):
        code, out, err = _table(capsys, monkeypatch, tmp_path, "--rows", "3")
    assert code == 1 and "== " not in out and "is in use by another process" in err
    assert os.listdir(tmp_path / "fine_to_coarse_sine") == [".lock"]
