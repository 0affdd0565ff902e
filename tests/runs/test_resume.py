"""Which checkpoint may continue which run: its length under a schedule, its pixels, nothing left to do."""
import json

import numpy as np
import pytest
from skimage import io

from loe_ref.runs import checkpoint
from loe_ref.runs.files import TMP_PREFIX
from tests.helpers import SMALL, refused, snapshot, train_small
from tests.helpers import run_cli as _run


def test_pictures_and_whole_history_across_resumes(tmp_path, capsys):
    out = tmp_path / "pics"
    assert _run(capsys, *SMALL, "--iters", "4", "--eval-every", "2", "--out", str(out))[0] == 0
    assert _run(capsys, "--resume", str(out / "checkpoint.npz"), "--iters", "8", "--quiet")[0] == 0
    for name in ("comparison.png", "experts.png", "psnr.png"):
        assert (out / name).stat().st_size > 0
    rows = (out / "metrics.csv").read_text().splitlines()[1:]
    assert [int(r.split(",")[0]) for r in rows] == [2, 4, 6, 8]


def test_resume_with_nothing_left_to_do_touches_nothing(tmp_path, capsys):
    out = tmp_path / "done"
    assert train_small(capsys, out)[0] == 0
    before = snapshot(out)
    for iters in ("4", "3"):
        code, stdout, _ = _run(capsys, "--resume", str(out / "checkpoint.npz"), "--iters", iters)
        assert code == 0 and "nothing to do: give a larger --iters to train on" in stdout
    assert snapshot(out) == before


@pytest.mark.parametrize("schedule", ["cosine", "linear", "step"])
def test_a_scheduled_run_resumes_only_to_its_own_length(tmp_path, capsys, schedule):
    out = tmp_path / "sched"
    assert _run(capsys, *SMALL, "--schedule", schedule, "--iters", "4", "--out", str(out))[0] == 0
    code, _, err = _run(capsys, "--resume", str(out / "checkpoint.npz"), "--iters", "8")
    assert code == 2 and f"{schedule} schedule, which depends on the run's length" in err
    code, stdout, _ = _run(capsys, "--resume", str(out / "checkpoint.npz"))
    assert code == 0 and f"nothing to do: its {schedule} schedule ends there" in stdout


def test_resume_with_nothing_left_finishes_missing_outputs(tmp_path, capsys):
    """A run whose final outputs were lost (a kill during them) gets them back without training."""
    out = tmp_path / "lost"
    assert train_small(capsys, out)[0] == 0
    _, params, _, _ = checkpoint.load(out / "checkpoint.npz")
    summary = json.loads((out / "summary.json").read_text())
    (out / "summary.json").unlink()
    (out / "comparison.png").unlink()
    (out / f"{TMP_PREFIX}999999-dead1234.png").write_bytes(b"half")
    code, stdout, _ = _run(capsys, "--resume", str(out / "checkpoint.npz"), "--iters", "4")
    assert code == 0 and "nothing to do" not in stdout
    assert json.loads((out / "summary.json").read_text()) == summary
    assert (out / "comparison.png").exists() and not (out / f"{TMP_PREFIX}999999-dead1234.png").exists()
    _, again, _, _ = checkpoint.load(out / "checkpoint.npz")
    assert all(np.array_equal(params[k], again[k]) for k in params)


def test_a_resume_binds_to_the_pixels_it_was_trained_on(tmp_path, capsys, monkeypatch):
    """Found from another folder by the recorded path; other pixels refused, the same accepted."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    rng = np.random.default_rng(0)
    io.imsave(a / "pic.png", rng.integers(0, 255, (24, 32), dtype=np.uint8), check_contrast=False)
    io.imsave(b / "pic.png", rng.integers(0, 255, (24, 32), dtype=np.uint8), check_contrast=False)
    io.imsave(b / "copy.png", io.imread(a / "pic.png"), check_contrast=False)
    small = [x for x in SMALL if x not in ("--image", "coins", "--size", "24", "32")]
    monkeypatch.chdir(a)
    assert _run(capsys, *small, "--image", "pic.png", "--iters", "3", "--out", str(tmp_path / "run"))[0] == 0
    monkeypatch.chdir(b)
    ckpt = str(tmp_path / "run" / "checkpoint.npz")
    code, _, err = _run(capsys, "--resume", ckpt, "--iters", "5", "--image", "pic.png", "--out", str(tmp_path / "x"))
    assert code == 2 and "other pixels" in err and "a/pic.png" in err and err.count("\n") == 1, err
    assert _run(capsys, "--resume", ckpt, "--iters", "5", "--image", "copy.png", "--out", str(tmp_path / "y"))[0] == 0
    code, _, err = _run(capsys, "--resume", ckpt, "--iters", "6")        # found at a/pic.png from b
    assert code == 0, err
    assert json.loads((tmp_path / "run" / "config.json").read_text())["training"]["image"] == str(a / "pic.png")


def test_checkpoint_from_a_different_configuration(tmp_path, capsys):
    out = tmp_path / "base"
    assert _run(capsys, *SMALL, "--iters", "1", "--out", str(out))[0] == 0
    refused(capsys, tmp_path, "--resume", str(out / "checkpoint.npz"), "--grid", "quadtree",
           match="grid: 'fine_to_coarse' in the checkpoint, 'quadtree' now")
    refused(capsys, tmp_path, "--resume", str(out / "checkpoint.npz"), "--lr", "0.5",
           match="lr: 0.01 in the checkpoint, 0.5 now")
    refused(capsys, tmp_path, "--resume", str(out / "checkpoint.npz"), "--lr", "0.5", "--iters", "3",
           match="lr: 0.01 in the checkpoint, 0.5 now")      # with steps left to train, too
    code, _, _ = _run(capsys, "--resume", str(out / "checkpoint.npz"), "--lr", "0.01", "--iters", "2")
    assert code == 0                     # the default rate, now given explicitly, is the same run


def test_not_a_checkpoint(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    refused(capsys, tmp_path, "--resume", str(bad), match="cannot read checkpoint")


@pytest.mark.parametrize("option,value,named", [("--size", ["20", "30"], "size: [24, 32] in the checkpoint, [20, 30] now"),
                                                ("--dtype", ["float64"], "dtype: 'float32' in the checkpoint, 'float64' now")])
def test_a_resume_on_other_pixels_names_the_option_that_differs(tmp_path, capsys, option, value, named):
    """Another --size or --dtype changes the pixels as trained: the refusal names that option,
    not "other pixels: 'coins' then, 'coins' now"."""
    out = tmp_path / "run"
    assert train_small(capsys, out)[0] == 0
    code, _, err = _run(capsys, "--resume", str(out / "checkpoint.npz"), option, *value, "--iters", "9")
    assert code == 2 and named in err and "other pixels" not in err and err.count("\n") == 1, err


def test_a_resume_refuses_another_recipe_and_takes_its_own(tmp_path, capsys):
    """--recipe table on a full-batch checkpoint was silently ignored; now it is refused by
    what differs, and the checkpoint's own recipe is accepted."""
    out = tmp_path / "run"
    assert train_small(capsys, out)[0] == 0
    code, _, err = _run(capsys, "--resume", str(out / "checkpoint.npz"), "--recipe", "table", "--iters", "9")
    assert code == 2 and "--recipe table asks for" in err and "keeps its checkpoint's recipe" in err, err
    assert err.count("\n") == 1
    code, _, err = _run(capsys, "--resume", str(out / "checkpoint.npz"), "--recipe", "full-batch", "--iters", "9",
                        "--quiet")
    assert code == 0, err
