import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from loe_ref.backend import to_host
from loe_ref.layers import (
    dynamic_linear_backward,
    dynamic_linear_forward,
    output_backward,
    output_forward,
)
from tests.gradcheck import check_gradients, upstream

case = st.fixed_dictionaries({
    "N": st.integers(1, 9), "P": st.integers(1, 24), "ci": st.integers(1, 4), "co": st.integers(1, 4),
    "one_hot": st.booleans(), "seed": st.integers(0, 2 ** 16)})


def _setup(c):
    """x, W, b and coefficients B: one-hot rows (nearest experts) or any real weights."""
    rng = np.random.default_rng(c["seed"])
    x = rng.standard_normal((c["P"], c["ci"]))
    W = rng.standard_normal((c["N"], c["ci"], c["co"]))
    b = rng.standard_normal(c["co"])
    B = np.eye(c["N"])[rng.integers(0, c["N"], c["P"])] if c["one_hot"] else rng.uniform(-1, 1, (c["P"], c["N"]))
    return rng, x, W, b, B


@given(case)
def test_dynamic_linear_backward_matches_finite_differences(xp, c):
    """Gradients for the input, the N experts, the bias and the coefficients B."""
    rng, x, W, b, B = _setup(c)
    G = upstream(rng, (c["P"], c["co"]))
    _, cache = dynamic_linear_forward(xp.asarray(x), xp.asarray(W), xp.asarray(b), xp.asarray(B))
    dx, dW, db, dB = (to_host(g) for g in dynamic_linear_backward(xp.asarray(G), cache))

    def f():
        y, _ = dynamic_linear_forward(xp.asarray(x), xp.asarray(W), xp.asarray(b), xp.asarray(B))
        return float((to_host(y) * G).sum())

    check_gradients(f, {"x": x, "W": W, "b": b, "B": B}, {"x": dx, "W": dW, "b": db, "B": dB})


@given(case)
def test_dynamic_linear_applies_each_points_own_matrix(xp, c):
    """Eq. (3) point by point: out[n] = x[n] (sum_j B[n, j] W_j) + b."""
    _, x, W, b, B = _setup(c)
    out, _ = dynamic_linear_forward(xp.asarray(x), xp.asarray(W), xp.asarray(b), xp.asarray(B))
    expected = np.stack([x[n] @ np.tensordot(B[n], W, axes=1) + b for n in range(c["P"])])
    np.testing.assert_allclose(to_host(out), expected, rtol=1e-12, atol=1e-12)


@given(st.integers(1, 20), st.integers(1, 5), st.integers(1, 5), st.integers(0, 2 ** 16))
def test_output_backward_matches_finite_differences(xp, P, ci, co, seed):
    rng = np.random.default_rng(seed)
    x, W, b = rng.standard_normal((P, ci)), rng.standard_normal((ci, co)), rng.standard_normal(co)
    G = upstream(rng, (P, co))
    _, cache = output_forward(xp.asarray(x), xp.asarray(W), xp.asarray(b))
    dx, dW, db = (to_host(g) for g in output_backward(xp.asarray(G), cache))

    def f():
        y, _ = output_forward(xp.asarray(x), xp.asarray(W), xp.asarray(b))
        return float((to_host(y) * G).sum())

    check_gradients(f, {"x": x, "W": W, "b": b}, {"x": dx, "W": dW, "b": db})
