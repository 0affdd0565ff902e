"""A diverging run stops with its likely cause, named as the option that mends it."""


import os

import pytest

from tests.helpers import SMALL
from tests.helpers import run_cli as _run


def test_divergence_from_the_encoding_names_pe(tmp_path, capsys):
    code, _, err = _run(capsys, *SMALL, "--pe", "200", "--iters", "20", "--out", str(tmp_path / "pe"))
    assert code == 2 and "--pe 200" in err and "--lr" not in err


def test_a_finite_loss_that_explodes_is_divergence(tmp_path, capsys):
    """A loss 100 x the first step's stops the run (rc 2), naming the likely cause."""
    code, _, err = _run(capsys, *SMALL, "--lr", "1e2", "--iters", "60", "--eval-every", "2",
                        "--checkpoint-every", "1000", "--out", str(tmp_path / "x"))
    assert code == 2 and "diverged" in err and "--lr" in err and err.count("\n") == 1, err


def test_huge_omega0_is_named_as_the_cause(tmp_path, capsys):
    code, _, err = _run(capsys, *SMALL, "--omega0", "1e300", "--iters", "20", "--eval-every", "1",
                        "--out", str(tmp_path / "w"))
    assert code == 2 and "--omega0" in err, err


def test_diverging_loss_stops_with_an_error(tmp_path, capsys):
    out = tmp_path / "nan"
    code, _, err = _run(capsys, *SMALL, "--act", "leaky_relu", "--lr", "1e12", "--iters", "50",
                        "--eval-every", "1", "--out", str(out))
    assert code == 2 and "the loss became" in err and err.count("\n") == 1
    assert os.listdir(out) == [".lock"]         # nothing resumable: no run file left behind
    code, _, err = _run(capsys, *SMALL, "--act", "leaky_relu", "--iters", "3", "--out", str(out))
    assert code == 0, err                       # the same --out, without --overwrite


def _trainer():
    from loe_ref.network import Config
    from loe_ref.training.loop import Trainer
    from loe_ref.training.options import TrainOptions
    return Trainer(Config(layers=2, hidden=4), TrainOptions(image="coins", size=[12, 10], iters=6))


def test_the_bound_is_a_hundred_times_the_first_loss():
    """100 x the first step's loss, not 100 + it: with a first loss of 10, a loss of 500 is
    within the bound and 1001 is past it."""
    from loe_ref.training.loop import TrainingError
    trainer = _trainer()
    trainer.first_loss = 10.0
    trainer.check_divergence(500.0)
    trainer.check_divergence(1000.0)
    with pytest.raises(TrainingError, match="more than 100 x the first step's 10"):
        trainer.check_divergence(1001.0)
    with pytest.raises(TrainingError, match="the loss became nan"):
        trainer.check_divergence(float("nan"))


def test_a_resumed_run_measures_divergence_from_the_runs_first_step(tmp_path):
    """The yardstick is the untrained network's loss, kept in the checkpoint; a resume must
    not take its own first step's instead."""
    from loe_ref.runs import session
    from loe_ref.runs.resume import load_resumable
    first = _trainer()
    first.opts.iters = 3
    first.fit()
    session.save_checkpoint(first, tmp_path / "c.npz")
    resumed = _trainer()
    resumed.restore(*load_resumable(tmp_path / "c.npz", resumed.cfg, resumed.opts, resumed.fingerprint))
    resumed.fit()
    assert resumed.first_loss == first.first_loss and resumed.iteration == 6
