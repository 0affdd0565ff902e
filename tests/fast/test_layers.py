"""The fast path's layer forms against the root's layers (float64, 1e-12)."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from loe_ref.backend import to_host
from loe_ref.blending import coefficients, coefficients_backward
from loe_ref.fast.layers import (
    blended_linear_backward,
    output_backward,
    sorted_linear_backward,
    sorted_linear_forward,
)
from loe_ref.layers import (
    dynamic_linear_backward,
    dynamic_linear_forward,
    output_forward,
)

case = st.fixed_dictionaries({
    "N": st.integers(1, 9), "P": st.integers(1, 24), "ci": st.integers(1, 4), "co": st.integers(1, 4),
    "K": st.integers(1, 4), "seed": st.integers(0, 2 ** 16)})


def _close(a, b, name):
    a, b = to_host(a), to_host(b)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * max(np.abs(b).max(initial=0.0), 1e-300), err_msg=name)


@given(case)
def test_sorted_rows_equal_the_one_hot_layer(xp, c):
    """Rows sorted by expert, one product per expert's slice: Eq. (3) with one-hot B."""
    rng = np.random.default_rng(c["seed"])
    experts = np.sort(rng.integers(0, c["N"], c["P"]))
    offsets = (0,) + tuple(int(v) for v in np.bincount(experts, minlength=c["N"]).cumsum())
    x, W = rng.standard_normal((c["P"], c["ci"])), rng.standard_normal((c["N"], c["ci"], c["co"]))
    b, G = rng.standard_normal(c["co"]), rng.standard_normal((c["P"], c["co"]))
    B = xp.asarray(np.eye(c["N"])[experts])
    x, W, b, G = (xp.asarray(a) for a in (x, W, b, G))
    out, cache = sorted_linear_forward(x, W, b, offsets)
    want, want_cache = dynamic_linear_forward(x, W, b, B)
    _close(out, want, "out")
    for name, g, w in zip("x W b".split(), sorted_linear_backward(G, cache), dynamic_linear_backward(G, want_cache)):
        _close(g, w, name)


@given(case)
def test_blended_backward_equals_the_root_layer(xp, c):
    """Gradients of the blended layer, the corners' weights read from the coefficients'."""
    rng = np.random.default_rng(c["seed"])
    idx = xp.asarray(rng.integers(0, c["N"], (c["P"], c["K"])))
    B = coefficients(idx, xp.asarray(rng.uniform(0, 1, (c["P"], c["K"]))), c["N"])
    x, W = xp.asarray(rng.standard_normal((c["P"], c["ci"]))), xp.asarray(rng.standard_normal((c["N"], c["ci"], c["co"])))
    b, G = xp.asarray(rng.standard_normal(c["co"])), xp.asarray(rng.standard_normal((c["P"], c["co"])))
    _, cache = dynamic_linear_forward(x, W, b, B)
    dx, dW, db, dw = blended_linear_backward(G, cache, idx)
    want = dynamic_linear_backward(G, cache)
    for name, g, w in (("x", dx, want[0]), ("W", dW, want[1]), ("b", db, want[2]),
                       ("w", dw, coefficients_backward(want[3], idx))):
        _close(g, w, name)
    assert blended_linear_backward(G, cache)[3] is None


@given(st.integers(1, 20), st.integers(1, 5), st.integers(1, 3), st.integers(0, 2 ** 16))
def test_output_backward_equals_the_root_layer(xp, P, ci, co, seed):
    """Including one output channel, where dx is a broadcast product."""
    from loe_ref.layers import output_backward as root_backward
    rng = np.random.default_rng(seed)
    x, W, b, G = (xp.asarray(rng.standard_normal(s)) for s in ((P, ci), (ci, co), (co,), (P, co)))
    _, cache = output_forward(x, W, b)
    for name, g, w in zip("x W b".split(), output_backward(G, cache), root_backward(G, cache)):
        _close(g, w, name)
