import pytest

from loe_ref.network import Config
from loe_ref.training.options import TrainOptions

CFG = Config(layers=3, hidden=6)


def test_schedules():
    """docs/method.md, section 6: constant; step 1/10 from half the run, 1/100 from three
    quarters; cosine from the rate down to 1/100 of it at the run's end; linear from the rate
    down by rate/iters a step."""
    rates = lambda s: [TrainOptions(schedule=s, iters=8, lr=0.1).lr_at(CFG, i) for i in range(8)]   # noqa: E731
    assert rates("constant") == [0.1] * 8
    assert rates("step") == pytest.approx([0.1] * 4 + [0.01] * 2 + [0.001] * 2)
    cos = rates("cosine")
    assert cos[0] == pytest.approx(0.1) and all(a > b for a, b in zip(cos, cos[1:]))
    assert cos[4] == pytest.approx(0.1 * (0.01 + 0.99 * 0.5))
    assert TrainOptions(schedule="cosine", iters=8, lr=0.1).lr_at(CFG, 8) == pytest.approx(0.001)
    assert rates("linear") == pytest.approx([0.1 * (8 - i) / 8 for i in range(8)])


def test_the_full_batch_recipe_is_the_options_defaults():
    """One place for the rates without ``lr``: the full-batch recipe reads them from options."""
    from loe_ref.training import recipes
    o = recipes.recipe_options("full-batch", 512 * 512)
    siren = recipes.recipe_options("full-batch", 512 * 512, "siren")
    assert o["lr"] == TrainOptions().learning_rate(CFG)
    assert siren["lr"] == TrainOptions().learning_rate(Config(init="siren", omega0=30.0))


def test_the_default_rate_follows_the_initialisation():
    assert TrainOptions().learning_rate(CFG) == 1e-2
    assert TrainOptions().learning_rate(Config(init="siren", omega0=30.0)) == 1e-3
    assert TrainOptions(lr=0.5).learning_rate(Config(init="siren")) == 0.5


@pytest.mark.parametrize("kwargs,match", [
    ({"beta2": 1.0}, "beta2=1.0"), ({"sampler": "shuffle"}, "unknown sampler"),
    ({"schedule": "exponential"}, "unknown schedule"), ({"dtype": "float16"}, "unknown dtype"),
    ({"iters": 0}, "iters=0 must be a positive integer"), ({"batch": -1}, "batch=-1"),
    ({"lr": float("nan")}, "lr=nan must be a positive number"), ({"size": [1, 5]}, r"size=\[1, 5\]"),
    ({"iters": True}, "iters=True must be a positive integer"), ({"batch": False}, "batch=False"),
    ({"seed": -2}, "seed=-2"), ({"lr": "0.1"}, "lr='0.1'")])
def test_bad_options_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainOptions(**kwargs)
