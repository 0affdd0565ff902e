"""loe_ref/runs/report.py: a run's pictures and summary, with matplotlib and without."""
import json
import os

import numpy as np
import pytest
from skimage import io

from loe_ref.network import Config
from loe_ref.runs import figures, report
from loe_ref.training.loop import Trainer
from loe_ref.training.options import TrainOptions


@pytest.fixture
def trained():
    tr = Trainer(Config(layers=2, hidden=6), TrainOptions(image="coins", size=[12, 10], iters=4, eval_every=2,
                                                        batch=37, lr=0.02))
    assert tr.fit()
    return tr


@pytest.mark.parametrize("matplotlib", [True, False])
def test_pictures_and_summary(tmp_path, trained, monkeypatch, matplotlib):
    if not matplotlib:
        monkeypatch.setattr(figures, "_pyplot", lambda: None)
    summary = report.write(str(tmp_path), trained)
    names = {"reconstruction.png", "error.png", "experts.png", "summary.json", "metrics.csv"}
    names |= {"comparison.png", "psnr.png"} if matplotlib else set()
    assert set(os.listdir(tmp_path)) == names
    recon = io.imread(tmp_path / "reconstruction.png")
    assert recon.shape == (12, 10) and recon.dtype == np.uint8
    assert summary["psnr_plot"] is matplotlib and summary["final_iteration"] == 4
    assert summary["peak_psnr"] == max(h.psnr for h in trained.history)
    assert json.load(open(tmp_path / "summary.json"))["history"][-1]["iteration"] == 4
    if not matplotlib:                                   # the plain mosaic: one panel per layer
        assert io.imread(tmp_path / "experts.png").shape[:2] == (12, 2 * 10 + 4)


def test_metrics_csv_rows_are_the_history(tmp_path, trained):
    report.write_metrics(str(tmp_path), trained.history)
    rows = (tmp_path / "metrics.csv").read_text().splitlines()
    assert rows[0] == "iteration,loss,psnr,seconds"
    assert [float(r.split(",")[2]) for r in rows[1:]] == [h.psnr for h in trained.history]
