import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from loe_ref.backend import to_host
from loe_ref.encoding import encode_backward, encode_forward, encoded_dims
from tests.gradcheck import check_gradients, upstream


@given(st.integers(1, 3), st.integers(0, 4), st.integers(1, 20), st.integers(0, 2 ** 16))
def test_encoding_backward_matches_finite_differences(xp, d, octaves, P, seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 1, (P, d))
    G = upstream(rng, (P, encoded_dims(d, octaves)))
    out, cache = encode_forward(xp.asarray(p), octaves)
    assert out.shape == G.shape
    dp = to_host(encode_backward(xp.asarray(G), cache))

    def f():
        return float((to_host(encode_forward(xp.asarray(p), octaves)[0]) * G).sum())

    check_gradients(f, {"p": p}, {"p": dp})


def test_encoding_layout():
    p = np.array([[0.25, 0.75]])
    out, _ = encode_forward(p, 2)
    x0 = 2 * p - 1
    expected = np.concatenate([x0, np.sin(np.pi * x0), np.cos(np.pi * x0),
                               np.sin(2 * np.pi * x0), np.cos(2 * np.pi * x0)], axis=1)
    np.testing.assert_allclose(out, expected)
