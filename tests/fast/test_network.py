"""The routed network (plans, working orders, gathers, shards) equals the root network."""
import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from loe_ref import network
from loe_ref.backend import to_host
from loe_ref.fast import shards
from loe_ref.fast.network import backward, forward
from loe_ref.fast.routing import expert_table, layer_experts, plan_for
from loe_ref.grids import nearest_expert
from loe_ref.losses import mse_backward, mse_forward
from loe_ref.network import Config, init_params
from tests.helpers import keep_off_cells
from tests.strategies import configs

# Three nearest layers whose working orders all differ (asserted below), so that a backward
# pass reading the upstream gradient in the wrong layer's order cannot pass.
ORDERS_DIFFER = dict(cfg=Config(in_dims=2, hidden=3, layers=3, tile=2, grid="fine_to_coarse", pe=1,
                                out_channels=2), P=16, rows=7, seed=5)


def _close(got, want, name):
    np.testing.assert_allclose(to_host(got), want, rtol=1e-12, atol=1e-12 * max(np.abs(want).max(), 1e-300),
                               err_msg=name)


@given(configs(), st.integers(1, 12), st.sampled_from([1, 2, 3, 5, 4096]), st.integers(0, 2 ** 16))
@example(**ORDERS_DIFFER)
@example(**{**ORDERS_DIFFER, "cfg": Config(**{**ORDERS_DIFFER["cfg"].__dict__, "act": "leaky_relu"})})
def test_routed_network_equals_the_root_network(xp, cfg, P, rows, seed):
    """Forward, loss and every gradient of the routed network, whole and in shards of ``rows``
    points, equal loe_ref.network's (float64)."""
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
    want_pred, want_cache = network.forward(params, cfg, p)
    want_loss, want_loss_cache = mse_forward(want_pred, target)
    want = network.backward(mse_backward(want_loss_cache), want_cache, cfg)
    pred, cache = forward(dev, plan, cfg)
    loss, loss_cache = mse_forward(pred, xp.asarray(target))
    grads = backward(mse_backward(loss_cache), cache, cfg, need_dp=True)
    _close(pred, want_pred, "pred")
    assert abs(float(loss) - want_loss) <= 1e-12 * want_loss
    assert set(grads) == set(want)
    for k, g in want.items():
        _close(grads[k], g, k)
    sse, sharded = shards.sse_and_grads(dev, cfg, xp.asarray(p), xp.asarray(target), rows=rows)
    assert abs(float(sse) / target.size - want_loss) <= 1e-12 * want_loss
    assert set(sharded) == set(want) - {"p"}
    for k, g in sharded.items():
        _close(g, want[k], k)
    _close(shards.predict(dev, cfg, xp.asarray(p), rows=rows), want_pred, "sharded pred")


@given(configs(blends=("nearest",)), st.integers(1, 12), st.integers(0, 2 ** 16))
def test_a_layer_in_the_previous_order_gathers_nothing(xp, cfg, P, seed):
    """gather/gather_back are None exactly where a layer keeps the previous layer's working order."""
    p = np.random.default_rng(seed).uniform(0, 1, (P, cfg.in_dims))
    previous = np.arange(P)
    for route in plan_for(cfg, xp.asarray(p)).routes:
        order = to_host(route.order)
        assert (route.gather is None) == (route.gather_back is None) == np.array_equal(order, previous)
        previous = order


@given(configs(blends=("nearest",)), st.integers(1, 40), st.integers(0, 2 ** 16), st.booleans())
def test_every_layers_experts_at_once_are_each_layers(xp, cfg, P, seed, single):
    """routing.layer_experts (all layers, int16) equals grids.nearest_expert layer by layer,
    in float64 and in the float32 that training uses."""
    dtype = np.float32 if single else np.float64
    p = xp.asarray(np.random.default_rng(seed).uniform(0, 1, (P, cfg.in_dims)).astype(dtype))
    alpha, beta = cfg.scales()
    table = to_host(layer_experts(p, alpha, beta, cfg.tile))
    for i in range(cfg.layers):
        np.testing.assert_array_equal(table[i], to_host(nearest_expert(p, alpha[i], beta[i], cfg.tile)))


@given(configs(blends=("nearest",)), st.integers(1, 40), st.integers(0, 2 ** 16))
def test_a_plan_from_looked_up_experts_is_the_plan_from_coordinates(xp, cfg, P, seed):
    """Batches look their experts up in the image's table (expert_table): the same plan."""
    p = xp.asarray(np.random.default_rng(seed).uniform(0, 1, (P, cfg.in_dims)))
    table = expert_table(cfg, p)
    np.testing.assert_array_equal(to_host(expert_table(cfg, p, rows=7)), to_host(table))     # in chunks
    rows = xp.asarray(np.random.default_rng(seed + 1).permutation(P)[:max(1, P // 2)])
    direct, looked_up = plan_for(cfg, p[rows]), plan_for(cfg, p[rows], experts=table[rows])
    np.testing.assert_array_equal(to_host(direct.unsort), to_host(looked_up.unsort))
    for a, b in zip(direct.routes, looked_up.routes):
        assert a.offsets == b.offsets
        for name in ("order", "gather", "gather_back"):
            x, y = getattr(a, name), getattr(b, name)
            assert (x is None) == (y is None) and (x is None or np.array_equal(to_host(x), to_host(y)))
