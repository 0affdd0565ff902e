import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from loe_ref.backend import to_host
from loe_ref.blending import blend_backward
from loe_ref.layers import (blended_linear_backward, blended_linear_forward, expert_linear_backward,
                            expert_linear_forward, linear_backward, linear_forward)
from loe_ref.routing import make_plan
from tests import oracle
from tests.gradcheck import STEP, check_gradients, upstream
from tests.helpers import keep_off_cells

case = st.fixed_dictionaries({
    "d": st.integers(1, 3), "tile": st.integers(1, 3), "P": st.integers(1, 24),
    "ci": st.integers(1, 4), "co": st.integers(1, 4), "blend": st.sampled_from(["nearest", "linear"]),
    "alpha": st.sampled_from([1.0, 2.0, 3.0, 4.0, 2.5]), "beta": st.floats(0.0, 1.0),
    "seed": st.integers(0, 2 ** 16)})


def _setup(c):
    rng = np.random.default_rng(c["seed"])
    n_exp = c["tile"] ** c["d"]
    p = rng.uniform(0, 1, (c["P"], c["d"]))
    p = keep_off_cells(p, [c["alpha"]], [c["beta"]], margin=4 * STEP * c["alpha"] + 1e-6,
                       shift=0.5 if c["blend"] == "linear" else 0.0, rng=rng)
    x = rng.standard_normal((c["P"], c["ci"]))
    W = rng.standard_normal((n_exp, c["ci"], c["co"]))
    b = rng.standard_normal(c["co"])
    return rng, p, x, W, b


def _plan(xp, p, c):
    return make_plan(xp.asarray(p), [c["alpha"]], [c["beta"]], c["tile"], c["blend"])


def dynamic_forward(x, W, b, route, blend):
    """The layer of the blend: nearest experts over sorted rows, or blended experts."""
    if blend == "nearest":
        return expert_linear_forward(x, W, b, route.offsets)
    return blended_linear_forward(x, W, b, route.coef)


@given(case)
def test_dynamic_linear_backward_matches_finite_differences(xp, c):
    """Gradients for the input, the N experts, the bias and (through the blending) p."""
    rng, p, x, W, b = _setup(c)
    G = upstream(rng, (c["P"], c["co"]))
    route = _plan(xp, p, c).routes[0]
    out, cache = dynamic_forward(xp.asarray(x), xp.asarray(W), xp.asarray(b), route, c["blend"])
    order = to_host(route.order)
    dp = np.zeros_like(p)
    if c["blend"] == "linear":
        dx, dW, db, dw = blended_linear_backward(xp.asarray(G), cache, route.corners)
        dp[order] = to_host(blend_backward(c["blend"], dw, route.blend_cache))
    else:                                # nearest blending has no gradient with respect to p
        dx, dW, db = expert_linear_backward(xp.asarray(G), cache)

    def f():
        r = _plan(xp, p, c).routes[0]
        assert (to_host(r.order) == order).all()
        y, _ = dynamic_forward(xp.asarray(x), xp.asarray(W), xp.asarray(b), r, c["blend"])
        return float((to_host(y) * G).sum())

    check_gradients(f, {"x": x, "W": W, "b": b, "p": p},
                    {"x": to_host(dx), "W": to_host(dW), "b": to_host(db), "p": dp})


@given(case)
def test_dynamic_linear_equals_explicit_blend(xp, c):
    """out[n] = sum_j B_j(p_n) x[n] W_j + b, with x given in the layer's working order."""
    _, p, x, W, b = _setup(c)
    route = _plan(xp, p, c).routes[0]
    out, _ = dynamic_forward(xp.asarray(x), xp.asarray(W), xp.asarray(b), route, c["blend"])
    pw = p[to_host(route.order)]
    B, _ = oracle.coefficients(pw, c["alpha"], c["beta"], c["tile"], c["blend"])
    expected = np.stack([sum(B[n, j] * (x[n] @ W[j]) for j in range(W.shape[0])) + b
                         for n in range(c["P"])])
    np.testing.assert_allclose(to_host(out), expected, rtol=1e-12, atol=1e-12)


@given(st.integers(1, 20), st.integers(1, 5), st.integers(1, 5), st.integers(0, 2 ** 16))
def test_linear_backward_matches_finite_differences(xp, P, ci, co, seed):
    rng = np.random.default_rng(seed)
    x, W, b = rng.standard_normal((P, ci)), rng.standard_normal((ci, co)), rng.standard_normal(co)
    G = upstream(rng, (P, co))
    _, cache = linear_forward(xp.asarray(x), xp.asarray(W), xp.asarray(b))
    dx, dW, db = (to_host(g) for g in linear_backward(xp.asarray(G), cache))

    def f():
        y, _ = linear_forward(xp.asarray(x), xp.asarray(W), xp.asarray(b))
        return float((to_host(y) * G).sum())

    check_gradients(f, {"x": x, "W": W, "b": b}, {"x": dx, "W": dW, "b": db})
