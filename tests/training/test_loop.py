import math

import numpy as np
import pytest

from loe_ref.grids import pixel_coords
from loe_ref.losses import mse_forward
from loe_ref.network import Config, forward
from loe_ref.runs import session
from loe_ref.runs.resume import load_resumable
from loe_ref.training.data import signal_target
from loe_ref.training.loop import Evaluation, Trainer
from loe_ref.training.options import TrainOptions

CFG = Config(layers=3, hidden=6, grid="fine_to_coarse")


def _trainer(tmp_path=None, **opts):
    return Trainer(CFG, TrainOptions(image="coins", size=[12, 10], **opts))


@pytest.mark.parametrize("batch", [0, 37])
def test_step_returns_the_loss_before_the_update(tmp_path, batch):
    """The logged loss is the MSE of the parameters the step started from, on its batch."""
    tr = _trainer(tmp_path, dtype="float64", batch=batch)
    for it in range(3):
        params = {k: v.copy() for k, v in tr.params.items()}
        idx = np.arange(120) if batch == 0 else tr.batch_indices(it)
        p = pixel_coords((12, 10))[idx]
        target = signal_target(tr.signal.values, 2)[idx]
        want = float(mse_forward(forward(params, CFG, p)[0], target)[0])
        assert float(tr.step(it)) == pytest.approx(want, rel=1e-12)
        assert any(not np.array_equal(params[k], tr.params[k]) for k in params)


@pytest.mark.parametrize("schedule", ["constant", "cosine", "linear", "step"])
def test_each_step_uses_the_scheduled_rate(tmp_path, schedule):
    tr = _trainer(tmp_path, schedule=schedule, iters=8)
    seen, adam_step = [], tr.opt.step
    tr.opt.step = lambda params, grads, lr=None: (seen.append(lr), adam_step(params, grads, lr))
    for it in range(8):
        tr.step(it)
    assert seen == [tr.opts.lr_at(CFG, it) for it in range(8)]


def test_batch_larger_than_the_image_is_refused(tmp_path):
    with pytest.raises(ValueError, match="batch=121 exceeds the image's 120 pixels"):
        _trainer(tmp_path, batch=121)


def test_beta2_reaches_adam(tmp_path):
    assert _trainer(tmp_path, beta2=0.99).opt.betas == (0.9, 0.99)
    assert math.isclose(_trainer(tmp_path).opt.betas[1], 0.999)


def test_a_stop_leaves_the_record_of_an_uninterrupted_run(tmp_path):
    """The evaluation made where a run was stopped is reported, not recorded: resumed to its
    end, the run's history and peak equal those of a run never stopped."""
    opts = dict(iters=9, eval_every=3, checkpoint_every=100, lr=0.05, batch=37)
    whole = _trainer(**opts)
    assert whole.fit()
    stopped = _trainer(**opts)
    assert not stopped.fit(stop=lambda: stopped.iteration >= 4)
    assert stopped.stop_row.iteration == 4 and [h.iteration for h in stopped.history] == [3]
    assert stopped.final_row() == stopped.stop_row
    session.save_checkpoint(stopped, str(tmp_path / "checkpoint.npz"))
    resumed = _trainer(**opts)
    resumed.restore(*load_resumable(str(tmp_path / "checkpoint.npz"), resumed.cfg, resumed.opts, resumed.fingerprint))
    assert resumed.fit()
    assert [h[:3] for h in resumed.history] == [h[:3] for h in whole.history]
    assert resumed.best == whole.best and all(isinstance(h, Evaluation) for h in resumed.history)


def test_fit_reports_evaluations_checkpoints_and_steps():
    """fit calls back at every evaluation (with the recorded Evaluation), every checkpoint
    and every step, and evaluates the last step even off the spacing."""
    tr = _trainer(iters=7, eval_every=3, checkpoint_every=2, batch=37)
    seen, saved, ticks = [], [], []

    class Ticks:
        def tick(self, it):
            ticks.append(it)

    assert tr.fit(progress=Ticks(), on_evaluation=seen.append, on_checkpoint=lambda: saved.append(tr.iteration))
    assert [e.iteration for e in seen] == [3, 6, 7] and seen == tr.history
    assert saved == [2, 4, 6] and ticks == list(range(1, 8))
    assert tr.best == max((e.psnr, e.iteration) for e in seen) and all(e.seconds >= 0 for e in seen)
