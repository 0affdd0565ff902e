"""A diverging run stops with its likely cause, named as the option that mends it."""


import os

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
