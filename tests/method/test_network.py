import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from loe_ref.activations import activation_forward
from loe_ref.backend import to_host
from loe_ref.encoding import encode_forward
from loe_ref.grids import pixel_coords
from loe_ref.layers import output_forward
from loe_ref.network import (
    Config,
    backward,
    forward,
    init_params,
    param_count,
    param_names,
)
from tests.gradcheck import STEP, check_gradients, upstream
from tests.helpers import keep_off_cells, preactivations_min
from tests.strategies import configs


def _points(cfg, P, rng, params, xp):
    """Points off every layer's cell boundaries (nearest) or centres (linear) and off ReLU kinks."""
    alpha, beta = cfg.scales()
    shift = 0.5 if cfg.blend == "linear" else 0.0
    scale = cfg.axis_scales()
    margin = 4 * STEP * alpha.max() * (1.0 if scale is None else scale.max()) + 1e-6
    p = keep_off_cells(rng.uniform(0, 1, (P, cfg.in_dims)), alpha, beta, margin, shift, rng, scale=scale)
    if cfg.act not in ("leaky_relu", "finer"):          # the kinks at z = 0
        return p
    for _ in range(100):
        near = preactivations_min(params, cfg, p) < 2e-2
        if not near.any():
            return p
        p[near] = rng.uniform(0, 1, (int(near.sum()), cfg.in_dims))
        p = keep_off_cells(p, alpha, beta, margin, shift, rng, scale=scale)
    return None          # a unit sits on its kink for every point (tiny widths): no test possible


@pytest.mark.parametrize("blend", ["nearest", "linear"])
def test_the_kink_guard_reads_the_networks_own_preactivations(blend):
    """preactivations_min (which keeps test points off kinks) is the smallest |z| of the
    forward pass's FINER caches, with the grids stretched along each axis."""
    cfg = Config(blend=blend, act="finer", init="finer", omega0=30.0, axis_scale=[3.0, 0.5], layers=3, hidden=8,
                 tile=2)
    params = init_params(cfg, 0)
    p = np.random.default_rng(0).uniform(0, 1, (200, 2))
    layers = forward(params, cfg, p)[1].layers
    expected = np.min([np.abs(layer.activation[0]).min(axis=1) for layer in layers], axis=0)
    np.testing.assert_array_equal(preactivations_min(params, cfg, p), expected)


@given(configs(), st.integers(1, 10), st.integers(0, 2 ** 16))
def test_network_backward_matches_finite_differences(xp, cfg, P, seed):
    """Every parameter tensor and the coordinates, for random architectures."""
    rng = np.random.default_rng(seed)
    params = init_params(cfg, seed)
    p = _points(cfg, P, rng, params, xp)
    assume(p is not None)
    G = upstream(rng, (P, cfg.out_channels))
    dev = {k: xp.asarray(v) for k, v in params.items()}
    pred, cache = forward(dev, cfg, xp.asarray(p))
    np.testing.assert_allclose(to_host(pred), forward(params, cfg, p)[0], rtol=1e-12, atol=1e-12)
    grads = {k: to_host(v) for k, v in backward(xp.asarray(G), cache, cfg).items()}
    assert set(grads) == set(param_names(cfg)) | {"p"}

    def f():                             # on the host, whose forward the device's equals (above)
        return float((forward(params, cfg, p)[0] * G).sum())

    check_gradients(f, {**params, "p": p}, grads)


@given(st.integers(1, 3), st.integers(1, 4), st.sampled_from(["sine", "leaky_relu"]),
       st.integers(0, 2), st.integers(0, 2 ** 16))
def test_one_expert_is_a_plain_mlp(xp, d, layers, act, pe, seed):
    cfg = Config(in_dims=d, layers=layers, tile=1, hidden=6, act=act, pe=pe, out_channels=2)
    params = init_params(cfg, seed)
    p = np.random.default_rng(seed).uniform(0, 1, (17, d))
    pred, _ = forward({k: xp.asarray(v) for k, v in params.items()}, cfg, xp.asarray(p))
    h, _ = encode_forward(p, pe)
    for i in range(1, layers + 1):
        h, _ = activation_forward(act, output_forward(h, params[f"W{i}"][0], params[f"b{i}"])[0])
    expected, _ = output_forward(h, params["W_out"], params["b_out"])
    np.testing.assert_allclose(to_host(pred), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("blend", ["nearest", "linear"])
@pytest.mark.parametrize("act,init,omega0", [("sine", "default", 1.0), ("leaky_relu", "default", 1.0),
                                             ("sine", "siren", 30.0)])
def test_float32_forward_agrees_with_float64(xp, blend, act, init, omega0):
    cfg = Config(blend=blend, act=act, init=init, omega0=omega0, grid="fine_to_coarse")
    params = init_params(cfg, 3)
    p = pixel_coords((64, 64))
    out = to_host(forward({k: xp.asarray(v.astype(np.float32)) for k, v in params.items()}, cfg, xp.asarray(p))[0])
    want = to_host(forward({k: xp.asarray(v) for k, v in params.items()}, cfg, xp.asarray(p))[0])
    assert out.dtype == np.float32
    err = np.abs(out - want).max() / np.abs(want).max()
    assert err < 100 * np.finfo(np.float32).eps, err


def test_param_count_is_the_paper_networks():
    """The paper's network: 9 layers of 4 experts of 64 x 64 (the first 2 x 64) and the output layer."""
    cfg = Config()
    assert param_count(cfg) == sum(v.size for v in init_params(cfg).values()) == \
        4 * (2 * 64) + 64 + 8 * (4 * 64 * 64 + 64) + 64 + 1


def test_init_is_reproducible_and_seeded():
    cfg = Config()
    a, b, c = init_params(cfg, 5), init_params(cfg, 5), init_params(cfg, 6)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert all(not np.array_equal(a[k], c[k]) for k in a)
    assert a["W1"].shape == (4, 2, 64) and a["W9"].shape == (4, 64, 64) and a["W_out"].shape == (64, 1)


@pytest.mark.parametrize("init", ["default", "kaiming", "siren"])
def test_init_bounds(init):
    """Each draw fills its stated interval U(-bound, bound) (docs/method.md, section 4); the
    output layer's weights follow the initialisation too, every bias the default bound."""
    cfg = Config(init=init, omega0=30.0 if init == "siren" else 1.0, slope=0.2, hidden=64, layers=3, tile=2)
    params = init_params(cfg, 0)
    for i, fan_in in ((1, 2), (2, 64), (3, 64), ("_out", 64)):
        W, b = params[f"W{i}"], params[f"b{i}"]
        if init == "default":
            wb = 1 / np.sqrt(fan_in)
        elif init == "kaiming":
            wb = np.sqrt(2 / (1 + 0.2 ** 2)) * np.sqrt(3 / fan_in)
        else:
            wb = 1 / fan_in if i == 1 else np.sqrt(6 / fan_in) / 30
        assert np.abs(W).max() <= wb and np.abs(W).max() > 0.95 * wb, (i, np.abs(W).max(), wb)
        if b.size > 1:
            assert np.abs(b).max() <= 1 / np.sqrt(fan_in) and np.abs(b).max() > 0.8 / np.sqrt(fan_in)


@pytest.mark.parametrize("kwargs,match", [
    ({"grid": "spiral"}, "unknown grid 'spiral'"), ({"act": "relu"}, "unknown act 'relu'"),
    ({"hidden": 0}, "hidden=0"), ({"layers": -1}, "layers=-1"), ({"blend": "cubic"}, "unknown blend"),
    ({"in_dims": 4}, "in_dims=4"), ({"grid": "gray_code", "tile": 3}, "gray_code needs tile=2"),
    ({"grid": "custom", "layers": 2, "alpha": [1.0], "beta": [0.0]}, "custom grid needs 2"),
    ({"omega0": 0.0}, "omega0=0.0"), ({"pe": -1}, "pe=-1"), ({"init": "xavier"}, "unknown init"),
    ({"hidden": True}, "hidden=True"), ({"pe": True}, "pe=True"), ({"slope": 1.0}, "slope=1.0"),
    ({"omega0": "30"}, "omega0='30'")])
def test_bad_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Config(**kwargs)
