"""scripts/budgets.py and benchmarks/time_to_psnr.py: the budget study's records and crossings."""
import json

from loe_ref.runs import studies
from tests.helpers import load_script as _script


def test_each_budget_has_its_own_schedule_and_dense_evaluations():
    budgets = _script("budgets")
    short, long = budgets.run_options(50, 0), budgets.run_options(600, 1)
    assert (short.iters, short.eval_every, short.schedule, short.batch) == (3200, 64, "cosine", 4096)
    assert (long.iters, long.eval_every, long.seed) == (38400, 160, 1)


def test_the_study_keeps_its_own_rates():
    """The recorded study ran at lr 8e-3, cosine, beta2 0.99, whatever the short recipe is now."""
    o = _script("budgets").run_options(150, 0)
    assert (o.lr, o.schedule, o.beta2, o.sampler) == (8e-3, "cosine", 0.99, "epoch")
    now = _script("budgets").run_options(150, 0, "short")
    assert (now.lr, now.schedule, now.beta2, now.iters) == (8e-3, "linear", 0.8, 9600)


def test_first_iteration_at_a_level():
    budgets = _script("budgets")
    history = [dict(iteration=it, loss=0.1, psnr=v, seconds=1.0) for it, v in
               [(64, 29.0), (128, 30.5), (192, 29.9), (256, 35.0)]]
    assert [budgets.first_at(history, lv) for lv in (30.0, 35.0, 39.05)] == [128, 256, None]


def test_report_tabulates_only_runs_of_the_asked_length(tmp_path, capsys):
    budgets = _script("budgets")
    run = tmp_path / "E50_seed0" / "fine_to_coarse_sine"
    run.mkdir(parents=True)
    history = [dict(iteration=64, loss=0.1, psnr=31.0, seconds=1.0), dict(iteration=3200, loss=0.1, psnr=36.5, seconds=80.0)]
    (run / "summary.json").write_text(json.dumps({"iterations": 3200, "peak_psnr": 36.5, "peak_iteration": 3200,
                                                  "seconds": 80.0, "cpu": "x", "history": history}))
    stale = tmp_path / "E50_seed0" / "fine_to_coarse_leaky_relu"
    stale.mkdir()
    (stale / "summary.json").write_text(json.dumps({"iterations": 100}))
    budgets.report(str(tmp_path), [50.0], [0], [0, 2])
    records = json.loads((tmp_path / "budgets.json").read_text())
    assert len(records) == 1 and records[0]["row"] == "fine_to_coarse sine"
    assert records[0]["first_iteration"] == {"30": 64, "35": 3200, "39.05": None}
    assert "| 50 | 0 | fine_to_coarse | sine | 36.50 | 64 / 3200 / - |" in (tmp_path / "budgets.md").read_text()


def test_the_report_trains_nothing_and_lists_what_finished(tmp_path, capsys, monkeypatch):
    import sys

    budgets = _script("budgets")
    monkeypatch.setattr(sys, "argv", ["budgets.py", "--report", "--out", str(tmp_path), "--equivalents", "50"])
    assert studies.script_main(budgets.main) == 0
    assert json.loads((tmp_path / "budgets.json").read_text()) == [] and sorted(p.name for p in tmp_path.iterdir()) == \
        ["budgets.json", "budgets.md"]


def test_time_to_psnr_crossings():
    import importlib
    module = importlib.import_module("benchmarks.time_to_psnr")
    curve = [(100, 1.0, 29.0), (200, 2.0, 31.0), (300, 3.0, 36.0), (400, 4.0, 35.5)]
    assert module.crossings(curve) == {30.0: (200, 2.0), 35.0: (300, 3.0)}
