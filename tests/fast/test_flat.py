import numpy as np

from loe_ref.backend import to_host
from loe_ref.fast.flat import FlatAdam, flat_views
from loe_ref.optim import Adam


def test_flat_adam_equals_adam_per_parameter(xp):
    """The flat layout (one operation per line of the formula) gives the same numbers, bit for bit."""
    rng = np.random.default_rng(3)
    shapes = {"W1": (4, 2, 5), "b1": (5,), "W_out": (5, 1), "b_out": (1,)}
    start = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
    flat = xp.asarray(np.concatenate([v.ravel() for v in start.values()]))
    views = flat_views(start, flat)
    apart = {k: xp.asarray(v) for k, v in start.items()}
    a, b = Adam(apart, lr=1e-2, betas=(0.9, 0.99)), FlatAdam(views, flat, lr=1e-2, betas=(0.9, 0.99))
    for step in range(5):
        grads = {k: xp.asarray(rng.standard_normal(s).astype(np.float32)) for k, s in shapes.items()}
        a.step(apart, grads, lr=1e-2 / (step + 1))
        b.step(views, grads, lr=1e-2 / (step + 1))
    for k in shapes:
        assert np.array_equal(to_host(apart[k]), to_host(views[k])), k
        assert np.array_equal(to_host(a.state()[f"adam_v/{k}"]), to_host(b.state()[f"adam_v/{k}"])), k
