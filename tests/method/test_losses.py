import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from skimage.metrics import peak_signal_noise_ratio

from loe_ref.backend import to_host
from loe_ref.losses import mse_backward, mse_forward, psnr
from tests.gradcheck import check_gradients


@given(st.integers(1, 30), st.integers(1, 3), st.floats(0.1, 3.0), st.integers(0, 2 ** 16))
def test_mse_backward_matches_finite_differences(xp, P, C, dloss, seed):
    rng = np.random.default_rng(seed)
    pred, target = rng.standard_normal((P, C)), rng.standard_normal((P, C))
    _, cache = mse_forward(xp.asarray(pred), xp.asarray(target))
    dpred = to_host(mse_backward(cache, dloss))

    def f():
        return dloss * float(mse_forward(xp.asarray(pred), xp.asarray(target))[0])

    check_gradients(f, {"pred": pred}, {"pred": dpred})


@given(st.integers(2, 40), st.integers(1, 3), st.integers(0, 2 ** 16))
def test_psnr_agrees_with_skimage(xp, P, C, seed):
    rng = np.random.default_rng(seed)
    target = rng.uniform(-1, 1, (P, C))
    pred = target + rng.normal(0, 0.3, (P, C))          # some values leave [-1, 1]: clipped
    ours = psnr(xp.asarray(pred), xp.asarray(target))
    ref = peak_signal_noise_ratio((target + 1) / 2, np.clip((pred + 1) / 2, 0, 1), data_range=1.0)
    assert abs(ours - ref) < 1e-9
