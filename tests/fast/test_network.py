"""The routed network (plans, working orders, gathers, shards) equals the root network."""
import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from loe_ref import network
from loe_ref.backend import to_host
from loe_ref.fast import shards
from loe_ref.fast.network import backward, forward
from loe_ref.fast.routing import plan_for
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
                       0.5 if cfg.blend == "linear" else 0.0, rng, scale=cfg.axis_scales())
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






