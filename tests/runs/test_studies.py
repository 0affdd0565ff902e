"""loe_ref/runs/studies.py: how a study's runs are shared among processes."""
import os

import pytest

from loe_ref.runs import studies


def test_share_splits_the_runs_among_processes():
    runs = list(range(7))
    assert studies.share(runs, "0/2") + studies.share(runs, "1/2") == [0, 2, 4, 6, 1, 3, 5]
    assert studies.share(runs, "0/1") == runs
    for bad in ("2/2", "-1/2", "x", "1/0"):
        with pytest.raises(ValueError, match="`part`"):
            studies.share(runs, bad)


def _run(lr):
    from loe_ref.network import Config
    from loe_ref.training.options import TrainOptions
    return Config(layers=2, hidden=8), TrainOptions(image="coins", size=[12, 10], iters=40, lr=lr, eval_every=2,
                                                     checkpoint_every=1000, batch=0)


def test_a_diverged_run_is_kept_as_an_outcome_of_its_study(tmp_path, capsys):
    """With keep_diverged the run's summary records it, finished() reuses it for the same run
    only, and the study goes on; without it the divergence is raised."""
    from loe_ref.training.loop import Diverged
    cfg, opts = _run(1e12)
    with pytest.raises(Diverged):
        studies.train_row(str(tmp_path / "raised"), cfg, opts, "raised")
    out = str(tmp_path / "kept")
    summary = studies.train_row(out, cfg, opts, "kept", keep_diverged=True)
    assert "`lr`" in summary["diverged"] and summary["iterations"] == 2 and summary["peak_psnr"] is None
    assert studies.finished(out, cfg, opts) == summary
    assert studies.train_row(out, cfg, opts, "kept", keep_diverged=True) == summary       # reused, not rerun
    other_cfg, other_opts = _run(1e11)
    assert studies.finished(out, other_cfg, other_opts) is None
    assert studies.finished(out, cfg, other_opts) is None


def test_a_run_that_another_process_trains_is_skipped_only_when_asked(tmp_path, capsys):
    """Processes sharing a study leave a busy run to its owner (None, nothing written);
    otherwise the busy folder is refused. Once free, the run trains."""
    from loe_ref.runs import folder
    cfg, opts = _run(1e-2)
    out = str(tmp_path / "row")
    with folder.FolderLock(out):                          # another open file: flock refuses it
        assert studies.train_row(out, cfg, opts, "busy", skip_busy=True) is None
        with pytest.raises(folder.FolderInUse, match="in use by another process"):
            studies.train_row(out, cfg, opts, "busy")
    assert "== busy: skipped, output folder" in capsys.readouterr().out
    assert os.listdir(out) == [folder.LOCK_FILE]
    assert studies.train_row(out, cfg, opts, "free", skip_busy=True)["iterations"] == opts.iters
