"""The network of loe_ref.network, routed: every layer works in its own order of the points.

docs/fast.md, "Routing". With nearest experts each layer sorts the points by expert
(routing.py), so that its dynamic layer is one product per expert's contiguous slice;
moving the activations from one layer's order to the next is a single gather, and the
backward pass gathers the gradients back. With linear blending every layer keeps the
natural order and carries its dense coefficients in the plan. Equal to the root network
to 1e-12 in float64 (tests/fast/test_network.py). Shapes: P points, d coordinate dims,
C channels.
"""
from collections import namedtuple

from ..activations import activation_backward, activation_forward
from ..backend import xp_of
from ..blending import blend_backward
from ..encoding import encode_backward, encode_forward
from ..grids import grid_coords_backward
from ..layers import dynamic_linear_forward, output_forward
from .layers import (
    blended_linear_backward,
    output_backward,
    sorted_linear_backward,
    sorted_linear_forward,
)

#: What one position-dependent layer keeps for the backward pass.
LayerCache = namedtuple("LayerCache", "linear activation")
#: What ``forward`` keeps: the plan, gamma(p)'s cache, a LayerCache per layer, the output layer's.
NetworkCache = namedtuple("NetworkCache", "plan encoding layers output")


def forward(params, plan, cfg):
    """f(p) for the plan's coordinates, Eq. (2). Returns pred (P, C) in natural order, cache.

    gamma(p) is computed in natural order; layer i (1-based, ``routes[i - 1]``) gathers
    its input into its own working order, then runs its dynamic linear layer and the
    activation. The output layer runs in the last layer's order.
    """
    xp = xp_of(params["W_out"])
    h, enc_cache = encode_forward(plan.p.astype(params["W_out"].dtype, copy=False), cfg.pe)   # (P, D0)
    layers = []
    for i, route in enumerate(plan.routes, start=1):
        x = h if route.gather is None else xp.take(h, route.gather, axis=0)   # layer i's working order
        if cfg.blend == "nearest":
            z, lin_cache = sorted_linear_forward(x, params[f"W{i}"], params[f"b{i}"], route.offsets)
        else:
            z, lin_cache = dynamic_linear_forward(x, params[f"W{i}"], params[f"b{i}"], route.coef)
        h, act_cache = activation_forward(cfg.act, z, cfg.omega0, cfg.slope, cfg.sigma)
        layers.append(LayerCache(lin_cache, act_cache))
    out, out_cache = output_forward(h, params["W_out"], params["b_out"])       # (P, C), last layer's order
    return out[plan.unsort], NetworkCache(plan, enc_cache, layers, out_cache)


def backward(dpred, cache, cfg, need_dp=False):
    """Gradients of every parameter from dpred (P, C) in natural order (docs/derivations.md, 5).

    Layer i's input gradient comes out in layer i's working order; ``gather_back`` of
    layer i takes it into layer i - 1's order (a gather, never a scatter). Returns a dict
    with the keys of the parameters; with ``need_dp`` also "p", the gradient with respect
    to the coordinates (P, d) through the encoding and the blending.
    """
    plan = cache.plan
    xp = xp_of(dpred)
    grads = {}
    # dpred (P, C) natural -> the last layer's working order, where the output layer ran
    dh, grads["W_out"], grads["b_out"] = output_backward(dpred[plan.routes[-1].order], cache.output)
    dp = xp.zeros(plan.p.shape, dtype=dpred.dtype) if need_dp else None
    for i in range(cfg.layers, 0, -1):                 # dh: gradient of layer i's output, its order
        route, (lin_cache, act_cache) = plan.routes[i - 1], cache.layers[i - 1]
        dz = activation_backward(cfg.act, dh, act_cache)
        if cfg.blend == "nearest":
            dx, grads[f"W{i}"], grads[f"b{i}"] = sorted_linear_backward(dz, lin_cache)
        else:
            dx, grads[f"W{i}"], grads[f"b{i}"], dw = blended_linear_backward(
                dz, lin_cache, route.corners if need_dp else None)
            if need_dp:
                dp[route.order] += blend_backward(cfg.blend, dw, route.blend_cache)
        dh = dx if route.gather_back is None else xp.take(dx, route.gather_back, axis=0)   # layer i - 1's order
    if need_dp:
        dp = grid_coords_backward(dp, cfg.axis_scales())    # the grids read g = s p
        dp += encode_backward(dh, cache.encoding)      # dh (P, D0) in natural order, where gamma(p) ran
        grads["p"] = dp
    return grads
