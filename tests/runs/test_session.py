"""loe_ref/runs/session.py and studies.py: a run in its folder, start to end, and a study's runs reused or resumed."""
import json
import os
import signal

import numpy as np
import pytest

from loe_ref.network import Config
from loe_ref.runs import folder, session, studies
from loe_ref.runs.files import is_temporary
from loe_ref.training.loop import Trainer
from loe_ref.training.options import TrainOptions

CFG = Config(layers=2, hidden=6)


def _opts(**kw):
    return TrainOptions(**dict(dict(image="coins", size=[12, 10], iters=6, eval_every=2, checkpoint_every=4,
                                    batch=37, lr=0.02), **kw))


def test_a_run_writes_every_file_of_its_folder_once(tmp_path):
    out = str(tmp_path / "run")
    trainer = Trainer(CFG, _opts())
    outcome = session.train_in_folder(trainer, out, quiet=True)
    assert outcome.completed and outcome.exit_code == 0
    assert sorted(os.listdir(out)) == sorted(folder.run_files("image") + (folder.LOCK_FILE,))
    summary = json.load(open(os.path.join(out, "summary.json")))
    assert summary == json.loads(json.dumps(outcome.summary))
    assert [h["iteration"] for h in summary["history"]] == [2, 4, 6]
    assert (summary["batch"], summary["pixels"], summary["equivalents"]) == (37, 120, 6 * 37 / 120)
    # three evaluations of 120 pixels may take under the summary's millisecond: the raw sum is timed
    assert 0 < trainer.evaluation_seconds <= trainer.elapsed
    assert summary["evaluation_seconds"] == round(trainer.evaluation_seconds, 3) <= summary["seconds"]
    rows = open(os.path.join(out, "metrics.csv")).read().splitlines()
    assert rows[0] == "iteration,loss,psnr,seconds" and [int(r.split(",")[0]) for r in rows[1:]] == [2, 4, 6]
    config = json.load(open(os.path.join(out, "config.json")))
    assert config["model"]["hidden"] == 6 and config["training"]["batch"] == 37 and config["resumed_from"] is None


def test_a_study_run_is_reused_when_finished_and_resumed_when_begun(tmp_path, monkeypatch):
    out = str(tmp_path / "row")
    calls = []

    class Stopping(Trainer):
        def step(self, it):
            calls.append(it)
            if it == 2:                              # a SIGTERM in the third step: stop after it
                os.kill(os.getpid(), signal.SIGTERM)
            return super().step(it)

    monkeypatch.setattr(studies, "Trainer", Stopping)
    with pytest.raises(studies.Stopped, match="stopped by SIGTERM at iteration 3") as stop:
        studies.train_row(out, CFG, _opts(), "row")
    assert stop.value.exit_code == 143 and calls == [0, 1, 2]
    assert studies.finished(out, CFG, _opts()) is None
    monkeypatch.setattr(studies, "Trainer", Trainer)
    resumed = studies.train_row(out, CFG, _opts(), "row")               # from its checkpoint at 3
    whole = session.train_in_folder(Trainer(CFG, _opts()), str(tmp_path / "whole"), quiet=True).summary
    assert [h["psnr"] for h in resumed["history"]] == [h["psnr"] for h in whole["history"]]
    monkeypatch.setattr(studies, "Trainer", lambda *a: pytest.fail("a finished run was trained again"))
    assert studies.train_row(out, CFG, _opts(), "row")["peak_psnr"] == resumed["peak_psnr"]


def test_a_finished_run_trained_otherwise_is_refused(tmp_path):
    from loe_ref.runs.checkpoint import CheckpointError
    out = str(tmp_path / "row")
    studies.train_row(out, CFG, _opts(), "row")
    assert studies.finished(out, CFG, _opts(iters=8)) is None           # another length: not finished
    with pytest.raises(CheckpointError, match="lr: 0.02 in the checkpoint, 0.05 now"):
        studies.finished(out, CFG, _opts(lr=0.05))


def test_script_main_gives_one_line_and_an_exit_code(capsys):
    def bad():
        raise ValueError("`rows` '0': numbers run\nfrom 1 to 4")
    assert studies.script_main(bad) == 2
    assert capsys.readouterr().err == "error: `rows` '0': numbers run from 1 to 4\n"
    assert studies.script_main(lambda: None) == 0


def test_a_second_signal_aborts_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    class Twice(Trainer):
        def step(self, it):
            if it == 4:
                os.kill(os.getpid(), signal.SIGINT)
                os.kill(os.getpid(), signal.SIGINT)
            return super().step(it)

    out = str(tmp_path / "run")
    with pytest.raises(session.Interrupted, match="aborted by a second signal") as stop:
        session.train_in_folder(Twice(CFG, _opts(iters=8)), out, quiet=True)
    assert stop.value.exit_code == 130 and stop.value.checkpoint == os.path.join(out, "checkpoint.npz")
    assert not [f for f in os.listdir(out) if is_temporary(f) is not None]
    assert np.load(os.path.join(out, "checkpoint.npz"), allow_pickle=False) is not None


def _strict(text):
    """JSON as a strict parser reads it: NaN and Infinity are errors."""
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))


def test_a_worker_error_before_the_first_checkpoint_says_none_was_written(tmp_path):
    """The message never claims a checkpoint that does not exist, and nothing is left."""
    from loe_ref.fast.workers import WorkerError

    class Broken(Trainer):
        def step(self, it):
            if it == 2:
                raise WorkerError("1 worker process(es) ended during a 'grads' command; the run cannot go on")
            return super().step(it)

    out = tmp_path / "run"
    with pytest.raises(WorkerError) as err:
        session.train_in_folder(Broken(CFG, _opts()), str(out), quiet=True)
    assert "no checkpoint was written" in str(err.value) and "is kept" not in str(err.value)
    assert not [f for f in folder.RUN_FILES if (out / f).exists()]


def test_a_signal_before_the_first_step_keeps_no_run_file(tmp_path, monkeypatch):
    """SIGTERM after config.json is written, before any step: exit 143, no run file left,
    and the same folder takes the retry without --overwrite."""
    real = session.Progress

    def signalled(*args, **kwargs):                # made just after config.json is written
        os.kill(os.getpid(), signal.SIGTERM)
        return real(*args, **kwargs)

    monkeypatch.setattr(session, "Progress", signalled)
    out = tmp_path / "run"
    with pytest.raises(session.Interrupted, match="stopped by SIGTERM before the first step; no run file") as stop:
        session.train_in_folder(Trainer(CFG, _opts()), str(out), quiet=True)
    assert stop.value.exit_code == 143
    assert not [f for f in folder.RUN_FILES if (out / f).exists()]
    monkeypatch.setattr(session, "Progress", real)
    assert session.train_in_folder(Trainer(CFG, _opts()), str(out), quiet=True).completed


def test_a_stop_before_the_first_evaluation_writes_strict_json(tmp_path):
    """No evaluation recorded: the peak is null (never -Infinity), the stop's PSNR is final."""

    class Stopping(Trainer):
        def step(self, it):
            if it == 1:
                os.kill(os.getpid(), signal.SIGTERM)
            return super().step(it)

    out = tmp_path / "run"
    outcome = session.train_in_folder(Stopping(CFG, _opts(eval_every=100, iters=200)), str(out), quiet=True)
    summary = _strict((out / "summary.json").read_text())
    assert outcome.exit_code == 143 and summary["peak_psnr"] is None and summary["peak_iteration"] is None
    assert summary["final_psnr"] > 0 and summary["iterations"] == 2 and summary["history"] == []


def test_the_record_comes_before_the_pictures_and_a_stop_skips_them(tmp_path):
    """A scheduler's grace period may end while pictures are drawn: the summary is already
    written, and a stop skips the pictures left (the summary names them)."""
    from loe_ref.runs import report
    trainer = Trainer(CFG, _opts())
    assert trainer.fit()
    calls = []
    result = report.write(str(tmp_path), trainer, stop=lambda: calls.append(1) or len(calls) > 2)
    written = set(os.listdir(tmp_path))
    assert {"summary.json", "metrics.csv", "reconstruction.png", "error.png"} <= written
    assert result["pictures_skipped"] == ["comparison.png", "psnr.png", "experts.png"]
    assert not written & set(result["pictures_skipped"])
    assert _strict((tmp_path / "summary.json").read_text())["pictures_skipped"] == result["pictures_skipped"]


def test_experts_png_shows_at_most_sixteen_layers(tmp_path, monkeypatch):
    """A deep network's expert picture stays bounded (it once took a minute for 1000 layers)."""
    from loe_ref.runs import figures, report
    seen = {}
    monkeypatch.setattr(figures, "plot_experts", lambda path, maps, crops, alpha, scale, layers: seen.update(
        maps=maps.shape, layers=layers) or True)
    trainer = Trainer(Config(layers=40, hidden=2, grid="quadtree"), _opts(iters=1))
    assert trainer.fit()
    report.write(str(tmp_path), trainer)
    assert seen["maps"][0] == 16 and seen["layers"][0] == 1 and seen["layers"][-1] == 40
