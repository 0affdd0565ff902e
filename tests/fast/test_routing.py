"""Routing plans: working orders, the gathers between them, and every layer's experts looked up at once."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from loe_ref.backend import to_host
from loe_ref.fast.routing import expert_table, layer_experts, plan_for
from loe_ref.grids import nearest_expert
from tests.strategies import configs


@given(configs(blends=("nearest",)), st.integers(1, 12), st.integers(0, 2 ** 16))
def test_a_layer_in_the_previous_order_gathers_nothing(xp, cfg, P, seed):
    """gather/gather_back are None exactly where a layer keeps the previous layer's working
    order, on the host; a device always gathers (the check would be a host wait)."""
    p = np.random.default_rng(seed).uniform(0, 1, (P, cfg.in_dims))
    previous = np.arange(P)
    for route in plan_for(cfg, xp.asarray(p)).routes:
        order = to_host(route.order)
        kept = np.array_equal(order, previous) and xp is np
        assert (route.gather is None) == (route.gather_back is None) == kept
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
