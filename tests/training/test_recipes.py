import pytest

from loe_ref.training import recipes
from tests.helpers import SMALL
from tests.helpers import run_cli as _run


def test_iterations_of_a_budget():
    assert recipes.iterations(100, 512 * 512, 4096) == 6400
    assert recipes.iterations(100, 512 * 512, 0) == 100            # full-image steps
    assert recipes.iterations(0.01, 100, 3) == 1                   # at least one
    assert recipes.equivalents(6400, 512 * 512, 4096) == 100
    with pytest.raises(ValueError, match="equivalents=-1"):
        recipes.iterations(-1, 10, 2)


def test_short_recipe_on_camera():
    o = recipes.recipe_options("short", 512 * 512)
    assert o == dict(batch=4096, sampler="epoch", schedule="linear", beta2=0.8, lr=8e-3, iters=5120,
                     eval_every=512, checkpoint_every=1280)
    assert recipes.recipe_options("short", 512 * 512, "siren")["lr"] == 1e-4


def test_given_options_replace_the_recipes():
    o = recipes.recipe_options("short", 512 * 512, batch=8192, equivalents=50, lr=1e-3)
    assert (o["batch"], o["iters"], o["lr"]) == (8192, 1600, 1e-3)
    assert recipes.recipe_options("table", 512 * 512, iters=7)["iters"] == 7
    assert recipes.recipe_options("short", 100)["batch"] == 0             # a small image: whole-image steps
    with pytest.raises(ValueError, match="not both"):
        recipes.recipe_options("short", 100, iters=3, equivalents=2)
    with pytest.raises(ValueError, match="unknown recipe 'long'"):
        recipes.recipe_options("long", 100)


def test_full_batch_recipe_is_the_old_default():
    assert recipes.recipe_options("full-batch", 512 * 512) == dict(batch=0, sampler="epoch", schedule="constant",
                                                            beta2=0.999, lr=1e-2, iters=100, eval_every=10,
                                                            checkpoint_every=100)


def test_default_command_resolves_to_the_short_recipe():
    import run
    cfg, opts, out, image, done = run.resolve(run.parser().parse_args([]))
    assert (cfg.grid, cfg.act, cfg.init, cfg.omega0, cfg.blend, cfg.tile) == ("fine_to_coarse", "sine", "default",
                                                                               1.0, "nearest", 2)
    assert (opts.batch, opts.iters, opts.lr, opts.schedule, opts.beta2) == (4096, 5120, 8e-3, "linear", 0.8)
    assert image.kind == "image" and image.values.shape == (512, 512) and done == 0


def test_equivalents_option(tmp_path, capsys):
    code, out, err = _run(capsys, *SMALL, "--recipe", "short", "--batch", "100", "--equivalents", "2",
                          "--out", str(tmp_path / "a"))
    assert code == 0
    import json
    cfg = json.loads((tmp_path / "a" / "config.json").read_text())
    assert cfg["training"]["iters"] == 16 and cfg["training"]["batch"] == 100      # 2 x 768 / 100, rounded up
    code, out, err = _run(capsys, *SMALL, "--iters", "3", "--equivalents", "2", "--out", str(tmp_path / "b"))
    assert code == 2 and "not both" in err


def test_help_describes_the_short_recipe_as_it_is(capsys):
    """--help reads the recipe itself, so it cannot fall behind a change of it."""
    import run
    assert recipes.describe("short") == ("batches of 4096 pixels, lr 0.008 (0.0001 with `init` siren or finer), linear decay "
                                         "to 0, Adam's beta2 0.8, 80 full-image equivalents, 10 evaluations")
    assert recipes.describe("full-batch").startswith("every pixel each step, lr 0.01")
    with pytest.raises(SystemExit):
        run.parser().parse_args(["--help"])
    assert "linear decay to 0, Adam's beta2 0.8, 80 full-image" in " ".join(capsys.readouterr().out.split())
