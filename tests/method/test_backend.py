import sys

import numpy as np
import pytest

from loe_ref.backend import BackendError, get_xp, gpu_available, to_host, xp_of
from loe_ref.grids import pixel_coords
from loe_ref.losses import mse_backward, mse_forward
from loe_ref.network import Config, backward, forward, init_params


def test_cpu_backend_and_errors():
    assert get_xp("cpu") is np and xp_of(np.zeros(2)) is np
    with pytest.raises(BackendError, match="unknown device 'tpu'"):
        get_xp("tpu")


def test_gpu_request_without_gpu_says_why(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)             # CuPy not importable here
    assert not gpu_available()
    with pytest.raises(BackendError, match="`device` gpu"):
        get_xp("gpu")


def _step(xp, cfg, params, p, target):
    dev = {k: xp.asarray(v) for k, v in params.items()}
    pred, cache = forward(dev, cfg, xp.asarray(p))
    loss, lc = mse_forward(pred, xp.asarray(target))
    grads = backward(mse_backward(lc), cache, cfg)
    return to_host(pred), float(loss), {k: to_host(v) for k, v in grads.items()}


@pytest.mark.skipif(not gpu_available(), reason="CuPy with a CUDA GPU is not available")
@pytest.mark.parametrize("blend", ["nearest", "linear"])
@pytest.mark.parametrize("act", ["sine", "leaky_relu"])
def test_gpu_matches_cpu_in_float32(blend, act):
    """Same seed and parameters: CuPy's forward, loss and gradients equal NumPy's (float32)."""
    cfg = Config(blend=blend, act=act, grid="fine_to_coarse")
    params = {k: v.astype(np.float32) for k, v in init_params(cfg, 0).items()}
    p = pixel_coords((64, 64))
    target = np.random.default_rng(0).uniform(-1, 1, (p.shape[0], 1)).astype(np.float32)
    cpu, gpu = _step(np, cfg, params, p, target), _step(get_xp("gpu"), cfg, params, p, target)
    np.testing.assert_allclose(gpu[0], cpu[0], rtol=1e-4, atol=1e-5)
    assert abs(gpu[1] - cpu[1]) <= 1e-4 * abs(cpu[1])
    for k in cpu[2]:
        scale = np.abs(cpu[2][k]).max()
        np.testing.assert_allclose(gpu[2][k], cpu[2][k], rtol=0, atol=1e-3 * scale, err_msg=k)


def test_the_standin_refuses_what_cupy_refuses(monkeypatch):
    """The stand-in is strict where NumPy is lenient: a host conversion planted in the
    library (np.sin on a device array) goes red on the GPU variant, as it would on CuPy."""
    import cupy
    if not getattr(cupy, "STANDIN", False):
        pytest.skip("checks the stand-in")
    from loe_ref import activations
    a = cupy.asarray(np.ones((2, 3)))
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array"):
        np.asarray(a)
    with pytest.raises(TypeError, match="Unsupported type"):
        cupy.maximum(a, np.ones((2, 3)))
    assert type(a.sum()) is cupy.ndarray and a.sum().shape == ()
    with pytest.raises(AttributeError, match="not in the stand-in's CuPy namespace"):
        cupy.nanpercentile
    cfg = Config(layers=2, hidden=4)
    dev = {k: cupy.asarray(v) for k, v in init_params(cfg, 0).items()}
    p = cupy.asarray(pixel_coords((4, 5)))
    forward(dev, cfg, p)                                    # as written: fine on the device
    monkeypatch.setitem(activations.PAIRS, "sine", (lambda z, omega0: (np.sin(omega0 * z), (z, omega0)),
                                                    activations.sine_backward, ("omega0",)))
    with pytest.raises(TypeError):
        forward(dev, cfg, p)
