"""The LoE network f(p) = g_out(phi(h_L(... phi(h_1(gamma(p), p)) ..., p))).

docs/method.md, section 1 (the paper's Eq. (2)); its backward pass is docs/derivations.md,
section 5. Parameters are a plain dict of arrays: W1..WL (N, Ci, Co) and b1..bL (Co,)
for the position-dependent layers, W_out (H, C) and b_out (C,) for the output layer.
"""
import json
import math
from collections import namedtuple
from dataclasses import asdict, dataclass, field

import numpy as np

from .activations import ACTIVATIONS, activation_backward, activation_forward
from .backend import xp_of
from .blending import BLENDS, blend_backward, nearest_experts
from .encoding import encode_backward, encode_forward, encoded_dims
from .grids import ARRANGEMENTS, arrangement
from .layers import (blended_linear_backward, blended_linear_forward, expert_linear_backward, expert_linear_forward,
                     linear_backward, linear_forward)
from .routing import make_plan

INITS = ("default", "kaiming", "siren")


@dataclass
class Config:
    """Everything that fixes the network's shape and function.

    ``layers`` counts the position-dependent layers (the paper's 10-layer network has 9
    plus the output layer). ``grid`` is an arrangement name, or "custom" with per-layer
    ``alpha`` and ``beta``. Defaults are the paper's configuration.
    """
    in_dims: int = 2
    out_channels: int = 1
    hidden: int = 64
    layers: int = 9
    tile: int = 2
    blend: str = "nearest"
    grid: str = "fine_to_coarse"
    alpha: list = field(default_factory=list)
    beta: list = field(default_factory=list)
    act: str = "sine"
    omega0: float = 1.0
    slope: float = 0.2
    init: str = "default"
    pe: int = 0

    def __post_init__(self):
        for name in ("in_dims", "out_channels", "hidden", "layers", "tile"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")
        if self.in_dims > 3:
            raise ValueError(f"in_dims={self.in_dims} must be 1, 2 or 3")
        if isinstance(self.pe, bool) or not isinstance(self.pe, (int, np.integer)) or self.pe < 0:
            raise ValueError(f"pe={self.pe!r} must be a non-negative integer (octaves; 0 = none)")
        _choice("blend", self.blend, BLENDS)
        _choice("act", self.act, ACTIVATIONS)
        _choice("init", self.init, INITS)
        _choice("grid", self.grid, ARRANGEMENTS + ("custom",))
        if not (math.isfinite(self.omega0) and self.omega0 > 0):
            raise ValueError(f"omega0={self.omega0!r} must be a positive number")
        if not 0 <= self.slope < 1:
            raise ValueError(f"slope={self.slope!r} must lie in [0, 1)")
        if self.grid == "custom":
            if len(self.alpha) != self.layers or len(self.beta) != self.layers:
                raise ValueError(f"custom grid needs {self.layers} alpha and beta values, "
                                 f"got {len(self.alpha)} and {len(self.beta)}")
            if min(self.alpha) <= 0:
                raise ValueError(f"custom alpha {list(self.alpha)} must be positive")
        else:
            arrangement(self.grid, self.layers, self.tile)

    def scales(self):
        """(alpha, beta): the per-layer grid scale and offset, float arrays of length L."""
        if self.grid == "custom":
            return np.asarray(self.alpha, dtype=np.float64), np.asarray(self.beta, dtype=np.float64)
        return arrangement(self.grid, self.layers, self.tile)

    @property
    def n_experts(self):
        """N = T^d."""
        return self.tile ** self.in_dims

    def to_json(self):
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text):
        return cls(**json.loads(text))


def _choice(name, value, allowed):
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; expected one of {', '.join(allowed)}")


def param_names(cfg):
    """Parameter names in a fixed order."""
    names = []
    for i in range(1, cfg.layers + 1):
        names += [f"W{i}", f"b{i}"]
    return names + ["W_out", "b_out"]


def param_shapes(cfg):
    """{name: shape} of every parameter of ``cfg``'s network, in ``param_names`` order."""
    widths = [encoded_dims(cfg.in_dims, cfg.pe)] + [cfg.hidden] * cfg.layers
    shapes = {}
    for i in range(cfg.layers):
        shapes[f"W{i + 1}"] = (cfg.n_experts, widths[i], widths[i + 1])
        shapes[f"b{i + 1}"] = (widths[i + 1],)
    shapes["W_out"], shapes["b_out"] = (cfg.hidden, cfg.out_channels), (cfg.out_channels,)
    return shapes


def init_params(cfg, seed=0):
    """Initial parameters, drawn on the host in float64 with ``numpy.random.default_rng(seed)``.

    default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases (a PyTorch linear
    layer's default); kaiming: weights U(-g sqrt(3/fan_in), +) with the leaky-ReLU gain
    g = sqrt(2 / (1 + slope^2)); siren: first layer U(-1/fan_in, 1/fan_in), later layers
    U(-sqrt(6/fan_in)/omega0, +). Each expert is drawn like a separate linear layer.
    """
    rng = np.random.default_rng(seed)
    widths = [encoded_dims(cfg.in_dims, cfg.pe)] + [cfg.hidden] * cfg.layers
    params = {}
    for i in range(cfg.layers + 1):
        fan_in = widths[i]
        last = i == cfg.layers
        shape = (fan_in, cfg.out_channels) if last else (cfg.n_experts, fan_in, cfg.hidden)
        bound = 1.0 / math.sqrt(fan_in)
        if cfg.init == "kaiming":
            wbound = math.sqrt(2.0 / (1.0 + cfg.slope ** 2)) * math.sqrt(3.0 / fan_in)
        elif cfg.init == "siren":
            wbound = 1.0 / fan_in if i == 0 else math.sqrt(6.0 / fan_in) / cfg.omega0
        else:
            wbound = bound
        wname, bname = ("W_out", "b_out") if last else (f"W{i + 1}", f"b{i + 1}")
        params[wname] = rng.uniform(-wbound, wbound, size=shape)
        params[bname] = rng.uniform(-bound, bound, size=shape[-1])
    return params


def count_params(params):
    return int(sum(v.size for v in params.values()))


def plan_for(cfg, p, dtype=None, experts=None):
    """The routing plan of coordinates p (P, d) through the network's grids.

    ``experts`` (P, L): the points' nearest experts, if looked up already (``expert_table``).
    """
    if p.ndim != 2 or p.shape[1] != cfg.in_dims:
        raise ValueError(f"coordinates of shape {tuple(p.shape)} do not match in_dims={cfg.in_dims}")
    alpha, beta = cfg.scales()
    return make_plan(p, alpha, beta, cfg.tile, cfg.blend, dtype=dtype, experts=experts)


def expert_table(cfg, p, rows=65536):
    """(P, L): the nearest expert of every point in every layer, to look batches up in; None
    with linear blending (its plans need the coordinates themselves). Computed ``rows``
    points at a time, so its temporaries stay small beside the table."""
    if cfg.blend != "nearest":
        return None
    alpha, beta = cfg.scales()
    table = None
    for s in range(0, p.shape[0], rows):
        experts = nearest_experts(p[s:s + rows], alpha, beta, cfg.tile)        # (L, rows)
        if table is None:
            table = xp_of(p).empty((p.shape[0], cfg.layers), dtype=experts.dtype)
        table[s:s + rows] = experts.T
    return table


#: What one position-dependent layer keeps for the backward pass.
LayerCache = namedtuple("LayerCache", "linear activation")
#: What ``forward`` keeps: the plan, gamma(p)'s cache, a LayerCache per layer, the output layer's.
NetworkCache = namedtuple("NetworkCache", "plan encoding layers output")


def forward(params, plan, cfg):
    """f(p) for the plan's coordinates, Eq. (2). Returns pred (P, C) in natural order, cache.

    gamma(p) is computed in natural order; layer i (1-based, ``routes[i - 1]``) gathers
    its input into its own working order (routing.py), then runs its dynamic linear
    layer and the activation. The output layer runs in the last layer's order.
    """
    xp = xp_of(params["W_out"])
    h, enc_cache = encode_forward(plan.p.astype(params["W_out"].dtype, copy=False), cfg.pe)   # (P, D0)
    layers = []
    for i, route in enumerate(plan.routes, start=1):
        x = h if route.gather is None else xp.take(h, route.gather, axis=0)   # layer i's working order
        if cfg.blend == "nearest":
            z, lin_cache = expert_linear_forward(x, params[f"W{i}"], params[f"b{i}"], route.offsets)
        else:
            z, lin_cache = blended_linear_forward(x, params[f"W{i}"], params[f"b{i}"], route.coef)
        h, act_cache = activation_forward(cfg.act, z, cfg.omega0, cfg.slope)
        layers.append(LayerCache(lin_cache, act_cache))
    out, out_cache = linear_forward(h, params["W_out"], params["b_out"])       # (P, C), last layer's order
    return out[plan.unsort], NetworkCache(plan, enc_cache, layers, out_cache)


def backward(dpred, cache, cfg, need_dp=False):
    """Gradients of every parameter from dpred (P, C) in natural order (docs/derivations.md, 5).

    Layer i's input gradient comes out in layer i's working order; ``spread`` of layer i
    gathers it into layer i - 1's order (a gather, never a scatter). Returns a dict with
    the keys of the parameters; with ``need_dp`` also "p", the gradient with respect to
    the coordinates (P, d) through the encoding and the blending.
    """
    plan = cache.plan
    xp = xp_of(dpred)
    grads = {}
    # dpred (P, C) natural -> the last layer's working order, where the output layer ran
    dh, grads["W_out"], grads["b_out"] = linear_backward(dpred[plan.routes[-1].order], cache.output)
    dp = xp.zeros(plan.p.shape, dtype=dpred.dtype) if need_dp else None
    for i in range(cfg.layers, 0, -1):                 # dh: gradient of layer i's output, its order
        route, (lin_cache, act_cache) = plan.routes[i - 1], cache.layers[i - 1]
        dz = activation_backward(cfg.act, dh, act_cache)
        if cfg.blend == "nearest":
            dx, grads[f"W{i}"], grads[f"b{i}"] = expert_linear_backward(dz, lin_cache)
        else:
            dx, grads[f"W{i}"], grads[f"b{i}"], dw = blended_linear_backward(
                dz, lin_cache, route.corners if need_dp else None)
            if need_dp:
                dp[route.order] += blend_backward(cfg.blend, dw, route.blend_cache)
        dh = dx if route.spread is None else xp.take(dx, route.spread, axis=0)   # layer i - 1's order
    if need_dp:
        dp += encode_backward(dh, cache.encoding)      # dh (P, D0) in natural order, where gamma(p) ran
        grads["p"] = dp
    return grads
