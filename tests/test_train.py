import math

import numpy as np
import pytest

from loe_ref.data import image_target
from loe_ref.grids import pixel_coords
from loe_ref.network import Config
from loe_ref.train import Trainer, TrainOptions
from tests import oracle

CFG = Config(layers=3, hidden=6, grid="fine_to_coarse")


def _trainer(tmp_path, **opts):
    return Trainer(CFG, TrainOptions(image="coins", size=[12, 10], **opts), str(tmp_path))


@pytest.mark.parametrize("batch", [0, 37])
def test_step_returns_the_loss_before_the_update(tmp_path, batch):
    """The logged loss is the MSE of the parameters the step started from, on its batch."""
    tr = _trainer(tmp_path, dtype="float64", batch=batch)
    for it in range(3):
        params = {k: v.copy() for k, v in tr.params.items()}
        idx = np.arange(120) if batch == 0 else tr.batch_indices(it)
        p = pixel_coords((12, 10))[idx]
        target = image_target(tr.image)[idx]
        want, _, _ = oracle.loss_and_grads(params, CFG, p, target)
        assert float(tr.step(it)) == pytest.approx(want, rel=1e-12)
        assert any(not np.array_equal(params[k], tr.params[k]) for k in params)


@pytest.mark.parametrize("schedule", ["constant", "cosine", "step"])
def test_each_step_uses_the_scheduled_rate(tmp_path, schedule):
    tr = _trainer(tmp_path, schedule=schedule, iters=8)
    seen, adam_step = [], tr.opt.step
    tr.opt.step = lambda params, grads, lr=None: (seen.append(lr), adam_step(params, grads, lr))
    for it in range(8):
        tr.step(it)
    assert seen == [tr.opts.lr_at(CFG, it) for it in range(8)]


def test_schedules():
    rates = lambda s: [TrainOptions(schedule=s, iters=8, lr=0.1).lr_at(CFG, i) for i in range(8)]
    assert rates("constant") == [0.1] * 8
    assert rates("step") == pytest.approx([0.1] * 4 + [0.01] * 2 + [0.001] * 2)
    cos = rates("cosine")
    assert cos[0] == pytest.approx(0.1) and all(a > b for a, b in zip(cos, cos[1:]))
    assert cos[4] == pytest.approx(0.1 * (0.01 + 0.99 * 0.5))
    assert TrainOptions(schedule="cosine", iters=8, lr=0.1).lr_at(CFG, 8) == pytest.approx(0.001)


def test_epoch_sampler_draws_every_pixel_once_per_epoch(tmp_path):
    tr = _trainer(tmp_path, batch=50, seed=3)                  # 120 pixels: epochs end mid-batch
    drawn = np.concatenate([tr.batch_indices(it) for it in range(12)])      # five epochs
    for e in range(5):
        assert sorted(drawn[120 * e:120 * (e + 1)]) == list(range(120))
    assert not np.array_equal(drawn[:120], drawn[120:240])
    again = _trainer(tmp_path, batch=50, seed=3)               # a function of (seed, it) alone
    np.testing.assert_array_equal(again.batch_indices(7), drawn[350:400])


def test_replacement_sampler_and_seeds_differ(tmp_path):
    a = _trainer(tmp_path, batch=50, seed=3, sampler="replacement").batch_indices(0)
    b = _trainer(tmp_path, batch=50, seed=4).batch_indices(0)
    c = _trainer(tmp_path, batch=50, seed=3).batch_indices(0)
    assert len({tuple(a), tuple(b), tuple(c)}) == 3


def test_batch_larger_than_the_image_is_refused(tmp_path):
    with pytest.raises(ValueError, match="batch=121 exceeds the image's 120 pixels"):
        _trainer(tmp_path, batch=121)


@pytest.mark.parametrize("kwargs,match", [({"beta2": 1.0}, "beta2=1.0"), ({"sampler": "shuffle"}, "unknown sampler"),
                                          ({"schedule": "linear"}, "unknown schedule")])
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainOptions(**kwargs)


def test_beta2_reaches_adam(tmp_path):
    assert _trainer(tmp_path, beta2=0.99).opt.betas == (0.9, 0.99)
    assert math.isclose(_trainer(tmp_path).opt.betas[1], 0.999)


def test_a_stop_leaves_the_record_of_an_uninterrupted_run(tmp_path):
    """The evaluation made where a run was stopped is reported, not recorded: resumed to its
    end, the run's history and peak equal those of a run never stopped."""
    from loe_ref.progress import Progress
    opts = dict(iters=9, eval_every=3, checkpoint_every=100, lr=0.05, batch=37)
    whole = _trainer(tmp_path / "a", **opts)
    assert whole.fit(Progress(9, quiet=True, stream=open(tmp_path / "log", "w")))
    stopped = _trainer(tmp_path / "b", **opts)
    (tmp_path / "b").mkdir()
    assert not stopped.fit(Progress(9, quiet=True, stream=open(tmp_path / "log", "w")),
                           stop=lambda: stopped.iteration >= 4)
    assert stopped.stop_row[0] == 4 and [h[0] for h in stopped.history] == [3]
    stopped.save_checkpoint()
    resumed = _trainer(tmp_path / "b", **opts)
    resumed.resume(str(tmp_path / "b" / "checkpoint.npz"))
    assert resumed.fit(Progress(9, 4, quiet=True, stream=open(tmp_path / "log", "w")))
    assert [h[:3] for h in resumed.history] == [h[:3] for h in whole.history]
    assert resumed.best == whole.best
