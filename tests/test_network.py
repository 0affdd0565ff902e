import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from loe_ref import shards
from loe_ref.backend import to_host
from loe_ref.grids import pixel_coords
from loe_ref.layers import linear_forward
from loe_ref.activations import activation_forward
from loe_ref.encoding import encode_forward
from loe_ref.losses import mse_backward, mse_forward
from loe_ref.network import Config, backward, forward, init_params, param_names, plan_for
from tests import oracle
from tests.gradcheck import STEP, check_gradients, upstream
from tests.helpers import keep_off_cells, preactivations_min


@st.composite
def configs(draw, tiles=(1, 2, 3), blends=("nearest", "linear")):
    d = draw(st.integers(1, 3))
    tile = draw(st.sampled_from(tiles))
    layers = draw(st.integers(1, 3))
    grids = ["quadtree", "fine_to_coarse", "custom"] + (["gray_code"] if tile == 2 else [])
    grid = draw(st.sampled_from(grids))
    alpha = beta = []
    if grid == "custom":
        alpha = draw(st.lists(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0, 5.0]), min_size=layers, max_size=layers))
        beta = draw(st.lists(st.floats(0.0, 1.0), min_size=layers, max_size=layers))
    act = draw(st.sampled_from(["sine", "leaky_relu"]))
    init = draw(st.sampled_from(["default", "kaiming"] + (["siren"] if act == "sine" else [])))
    omega0 = 30.0 if init == "siren" else draw(st.sampled_from([1.0, 2.0]))
    return Config(in_dims=d, out_channels=draw(st.sampled_from([1, 3])), hidden=draw(st.integers(1, 5)),
                  layers=layers, tile=tile, blend=draw(st.sampled_from(blends)),
                  grid=grid, alpha=alpha, beta=beta, act=act, omega0=omega0,
                  slope=draw(st.sampled_from([0.2, 0.01])), init=init, pe=draw(st.integers(0, 2)))


def _points(cfg, P, rng, params, xp):
    """Points off every layer's cell boundaries (nearest) or centres (linear) and off ReLU kinks."""
    alpha, beta = cfg.scales()
    shift = 0.5 if cfg.blend == "linear" else 0.0
    margin = 4 * STEP * alpha.max() + 1e-6
    p = keep_off_cells(rng.uniform(0, 1, (P, cfg.in_dims)), alpha, beta, margin, shift, rng)
    if cfg.act != "leaky_relu":
        return p
    for _ in range(100):
        dev = {k: xp.asarray(v) for k, v in params.items()}
        near = preactivations_min(dev, plan_for(cfg, xp.asarray(p)), cfg) < 2e-2
        if not near.any():
            return p
        p[near] = rng.uniform(0, 1, (int(near.sum()), cfg.in_dims))
        p = keep_off_cells(p, alpha, beta, margin, shift, rng)
    return None          # a unit sits on its kink for every point (tiny widths): no test possible


# Three nearest layers whose working orders all differ (asserted below), so that a backward
# pass reading the upstream gradient in the wrong layer's order cannot pass.
ORDERS_DIFFER = dict(cfg=Config(in_dims=2, hidden=3, layers=3, tile=2, grid="fine_to_coarse", pe=1,
                                out_channels=2), P=16, rows=7, seed=5)


@given(configs(), st.integers(1, 12), st.sampled_from([1, 2, 3, 5, 4096]), st.integers(0, 2 ** 16))
@example(**ORDERS_DIFFER)
@example(**{**ORDERS_DIFFER, "cfg": Config(**{**ORDERS_DIFFER["cfg"].__dict__, "act": "leaky_relu"})})
def test_routed_network_equals_the_oracle(xp, cfg, P, rows, seed):
    """Forward, loss and every gradient of the routed network, whole and in shards of ``rows``
    points, equal tests/oracle.py (float64)."""
    rng = np.random.default_rng(seed)
    params = init_params(cfg, seed)
    alpha, beta = cfg.scales()
    p = keep_off_cells(rng.uniform(0, 1, (P, cfg.in_dims)), alpha, beta, 1e-6,
                       0.5 if cfg.blend == "linear" else 0.0, rng)
    target = rng.uniform(-1, 1, (P, cfg.out_channels))
    plan = plan_for(cfg, xp.asarray(p))
    if cfg == ORDERS_DIFFER["cfg"]:
        orders = [tuple(to_host(r.order)) for r in plan.routes]
        assert len(set(orders)) == len(orders), "the fixed example must order every layer differently"
    dev = {k: xp.asarray(v) for k, v in params.items()}
    pred, cache = forward(dev, plan, cfg)
    loss, loss_cache = mse_forward(pred, xp.asarray(target))
    grads = backward(mse_backward(loss_cache), cache, cfg, need_dp=True)
    want_loss, want, want_pred = oracle.loss_and_grads(params, cfg, p, target)
    np.testing.assert_allclose(to_host(pred), want_pred, rtol=1e-12, atol=1e-12 * np.abs(want_pred).max())
    assert abs(float(loss) - want_loss) <= 1e-12 * want_loss
    assert set(grads) == set(want)
    for k, g in want.items():
        np.testing.assert_allclose(to_host(grads[k]), g, rtol=1e-12, atol=1e-12 * max(np.abs(g).max(), 1e-300),
                                   err_msg=k)
    sse, sharded = shards.sse_and_grads(dev, cfg, xp.asarray(p), xp.asarray(target), rows=rows)
    assert abs(float(sse) / target.size - want_loss) <= 1e-12 * want_loss
    assert set(sharded) == set(want) - {"p"}
    for k, g in sharded.items():
        np.testing.assert_allclose(to_host(g), want[k], rtol=1e-12, atol=1e-12 * max(np.abs(want[k]).max(), 1e-300),
                                   err_msg=k)
    np.testing.assert_allclose(to_host(shards.predict(dev, cfg, xp.asarray(p), rows=rows)), want_pred,
                               rtol=1e-12, atol=1e-12 * np.abs(want_pred).max())


@given(configs(blends=("nearest",)), st.integers(1, 12), st.integers(0, 2 ** 16))
def test_a_layer_in_the_previous_order_gathers_nothing(xp, cfg, P, seed):
    """gather/spread are None exactly where a layer keeps the previous layer's working order."""
    p = np.random.default_rng(seed).uniform(0, 1, (P, cfg.in_dims))
    previous = np.arange(P)
    for route in plan_for(cfg, xp.asarray(p)).routes:
        order = to_host(route.order)
        assert (route.gather is None) == (route.spread is None) == np.array_equal(order, previous)
        previous = order


@given(configs(), st.integers(1, 10), st.integers(0, 2 ** 16))
def test_network_backward_matches_finite_differences(xp, cfg, P, seed):
    """Every parameter tensor and the coordinates, for random architectures."""
    rng = np.random.default_rng(seed)
    params = init_params(cfg, seed)
    p = _points(cfg, P, rng, params, xp)
    assume(p is not None)
    G = upstream(rng, (P, cfg.out_channels))
    dev = {k: xp.asarray(v) for k, v in params.items()}
    pred, cache = forward(dev, plan_for(cfg, xp.asarray(p)), cfg)
    grads = {k: to_host(v) for k, v in backward(xp.asarray(G), cache, cfg, need_dp=True).items()}
    assert set(grads) == set(param_names(cfg)) | {"p"}

    def f():
        dev = {k: xp.asarray(v) for k, v in params.items()}
        return float((to_host(forward(dev, plan_for(cfg, xp.asarray(p)), cfg)[0]) * G).sum())

    check_gradients(f, {**params, "p": p}, grads)


@given(st.integers(1, 3), st.integers(1, 4), st.sampled_from(["sine", "leaky_relu"]),
       st.integers(0, 2), st.integers(0, 2 ** 16))
def test_one_expert_is_a_plain_mlp(xp, d, layers, act, pe, seed):
    cfg = Config(in_dims=d, layers=layers, tile=1, hidden=6, act=act, pe=pe, out_channels=2)
    params = init_params(cfg, seed)
    p = np.random.default_rng(seed).uniform(0, 1, (17, d))
    pred, _ = forward({k: xp.asarray(v) for k, v in params.items()}, plan_for(cfg, xp.asarray(p)), cfg)
    h, _ = encode_forward(p, pe)
    for i in range(1, layers + 1):
        h, _ = activation_forward(act, linear_forward(h, params[f"W{i}"][0], params[f"b{i}"])[0])
    expected, _ = linear_forward(h, params["W_out"], params["b_out"])
    np.testing.assert_allclose(to_host(pred), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("blend", ["nearest", "linear"])
@pytest.mark.parametrize("act,init,omega0", [("sine", "default", 1.0), ("leaky_relu", "default", 1.0),
                                             ("sine", "siren", 30.0)])
def test_float32_forward_agrees_with_the_float64_oracle(xp, blend, act, init, omega0):
    cfg = Config(blend=blend, act=act, init=init, omega0=omega0, grid="fine_to_coarse")
    params = init_params(cfg, 3)
    p = pixel_coords((64, 64))
    dev = {k: xp.asarray(v.astype(np.float32)) for k, v in params.items()}
    out = to_host(forward(dev, plan_for(cfg, xp.asarray(p), np.float32), cfg)[0])
    want, _ = oracle.forward(params, cfg, p)
    assert out.dtype == np.float32
    err = np.abs(out - want).max() / np.abs(want).max()
    assert err < 100 * np.finfo(np.float32).eps, err


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
    ({"omega0": 0.0}, "omega0=0.0"), ({"pe": -1}, "pe=-1"), ({"init": "xavier"}, "unknown init")])
def test_bad_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Config(**kwargs)


@given(configs(blends=("nearest",)), st.integers(1, 40), st.integers(0, 2 ** 16))
def test_a_plan_from_looked_up_experts_is_the_plan_from_coordinates(xp, cfg, P, seed):
    """Batches look their experts up in the image's table (expert_table): the same plan."""
    from loe_ref.network import expert_table
    p = xp.asarray(np.random.default_rng(seed).uniform(0, 1, (P, cfg.in_dims)))
    table = expert_table(cfg, p)
    np.testing.assert_array_equal(to_host(expert_table(cfg, p, rows=7)), to_host(table))     # in chunks
    rows = xp.asarray(np.random.default_rng(seed + 1).permutation(P)[:max(1, P // 2)])
    direct, looked_up = plan_for(cfg, p[rows]), plan_for(cfg, p[rows], experts=table[rows])
    np.testing.assert_array_equal(to_host(direct.unsort), to_host(looked_up.unsort))
    for a, b in zip(direct.routes, looked_up.routes):
        assert a.offsets == b.offsets
        for name in ("order", "gather", "spread"):
            x, y = getattr(a, name), getattr(b, name)
            assert (x is None) == (y is None) and (x is None or np.array_equal(to_host(x), to_host(y)))
