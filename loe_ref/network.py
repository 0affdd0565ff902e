"""The LoE network f(p) = g_out(phi(h_L(... phi(h_1(gamma(p), p)) ..., p))), Eq. (2).

docs/method.md, section 1; its backward pass is docs/derivations.md, section 5. Every
layer works on the points in their given order: it blends its experts for each point
(B (P, N), blending.py) and applies Eq. (3) (layers.py). This is the method as stated;
loe_ref.fast computes the same numbers faster. Parameters are a plain dict of arrays:
W1..WL (N, Ci, Co) and b1..bL (Co,) for the position-dependent layers, W_out (H, C) and
b_out (C,) for the output layer. Shapes: P points, d coordinate dims, C channels.
"""
import json
import math
from collections import namedtuple
from dataclasses import asdict, dataclass, field

import numpy as np

from . import validate
from .activations import ACTIVATIONS, activation_backward, activation_forward
from .blending import (
    BLENDS,
    blend_backward,
    blend_forward,
    coefficients,
    coefficients_backward,
)
from .encoding import encode_backward, encode_forward, encoded_dims
from .grids import ARRANGEMENTS, arrangement, grid_coords, grid_coords_backward
from .layers import (
    dynamic_linear_backward,
    dynamic_linear_forward,
    output_backward,
    output_forward,
)

INITS = ("default", "kaiming", "siren", "finer")


@dataclass
class Config:
    """Everything that fixes the network's shape and function.

    ``layers`` counts the position-dependent layers (the paper's 10-layer network has 9
    plus the output layer). ``grid`` is an arrangement name, or "custom" with per-layer
    ``alpha`` and ``beta``. ``omega0`` is the frequency of sine, FINER, Gabor and sinc,
    ``slope`` leaky ReLU's, ``sigma`` the width of the Gaussian and the Gabor wavelet,
    ``first_bias`` the range of the first layer's biases under FINER's initialisation.
    ``axis_scale``: one positive factor per coordinate dim by which every grid stretches
    that axis (empty: all 1), for signals whose axes want different cells (a video's frames
    are not its pixels; docs/method.md, section 3). Defaults are the paper's configuration.
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
    sigma: float = 1.0
    first_bias: float = 1.0
    axis_scale: list = field(default_factory=list)

    def __post_init__(self):
        for name in ("in_dims", "out_channels", "hidden", "layers", "tile"):
            validate.positive_int(name, getattr(self, name))
        if self.in_dims > 3:
            raise ValueError(f"in_dims={self.in_dims} must be 1, 2 or 3")
        validate.non_negative_int("pe", self.pe, "octaves; 0 = none")
        validate.choice("blend", self.blend, BLENDS)
        validate.choice("act", self.act, ACTIVATIONS)
        validate.choice("init", self.init, INITS)
        validate.choice("grid", self.grid, ARRANGEMENTS + ("custom",))
        validate.positive_number("omega0", self.omega0)
        validate.positive_number("sigma", self.sigma)
        validate.positive_number("first_bias", self.first_bias)
        validate.in_unit_interval("slope", self.slope)
        if self.axis_scale:
            if len(self.axis_scale) != self.in_dims:
                raise ValueError(f"axis_scale={list(self.axis_scale)} needs one factor per coordinate dim "
                                 f"({self.in_dims}), or none")
            for v in self.axis_scale:
                validate.positive_number("axis_scale", v)
            self.axis_scale = [float(v) for v in self.axis_scale]
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

    def axis_scales(self):
        """s (d,): the grids' stretch of each coordinate axis, or None when it is 1 on every axis."""
        if not self.axis_scale or all(v == 1.0 for v in self.axis_scale):
            return None
        return np.asarray(self.axis_scale, dtype=np.float64)

    @property
    def n_experts(self):
        """N = T^d."""
        return self.tile ** self.in_dims

    def to_json(self):
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text):
        return cls(**json.loads(text))


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


def param_count(cfg):
    """Number of parameters of ``cfg``'s network, from its shapes (no array is made)."""
    return sum(math.prod(shape) for shape in param_shapes(cfg).values())


def init_params(cfg, seed=0):
    """Initial parameters, drawn on the host in float64 with ``numpy.random.default_rng(seed)``.

    default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases (a PyTorch linear
    layer's default); kaiming: weights U(-g sqrt(3/fan_in), +) with the leaky-ReLU gain
    g = sqrt(2 / (1 + slope^2)); siren: first layer U(-1/fan_in, 1/fan_in), later layers
    U(-sqrt(6/fan_in)/omega0, +); finer: siren's weights, and the first layer's biases
    U(-first_bias, first_bias) (FINER's wider first-layer bias). Each expert is drawn like a
    separate linear layer.
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
        elif cfg.init in ("siren", "finer"):
            wbound = 1.0 / fan_in if i == 0 else math.sqrt(6.0 / fan_in) / cfg.omega0
        else:
            wbound = bound
        bbound = cfg.first_bias if cfg.init == "finer" and i == 0 else bound
        wname, bname = ("W_out", "b_out") if last else (f"W{i + 1}", f"b{i + 1}")
        params[wname] = rng.uniform(-wbound, wbound, size=shape)
        params[bname] = rng.uniform(-bbound, bbound, size=shape[-1])
    return params


#: What one position-dependent layer keeps: its blending's corners (P, K) and cache, its
#: dynamic linear layer's cache and its activation's.
LayerCache = namedtuple("LayerCache", "corners blending linear activation")
#: What ``forward`` keeps: gamma(p)'s cache, a LayerCache per layer, the output layer's.
NetworkCache = namedtuple("NetworkCache", "encoding layers output")


def forward(params, cfg, p):
    """f(p) for coordinates p (P, d), Eq. (2). Returns pred (P, C), cache NetworkCache.

    Computed in the parameters' dtype: p is cast to it first.
    """
    alpha, beta = cfg.scales()
    p = p.astype(params["W_out"].dtype, copy=False)
    h, enc_cache = encode_forward(p, cfg.pe)                                        # (P, D0)
    g = grid_coords(p, cfg.axis_scales())                                           # (P, d)
    layers = []
    for i in range(1, cfg.layers + 1):
        idx, w, blend_cache = blend_forward(cfg.blend, g, float(alpha[i - 1]), float(beta[i - 1]), cfg.tile)
        B = coefficients(idx, w, cfg.n_experts)                                      # (P, N)
        z, lin_cache = dynamic_linear_forward(h, params[f"W{i}"], params[f"b{i}"], B)
        h, act_cache = activation_forward(cfg.act, z, cfg.omega0, cfg.slope, cfg.sigma)
        layers.append(LayerCache(idx, blend_cache, lin_cache, act_cache))
    out, out_cache = output_forward(h, params["W_out"], params["b_out"])            # (P, C)
    return out, NetworkCache(enc_cache, layers, out_cache)


def backward(dpred, cache, cfg):
    """Gradients from dpred (P, C) (docs/derivations.md, section 5): a dict with every
    parameter's name, and "p", the gradient with respect to the coordinates (P, d), through
    the encoding and every layer's blending."""
    grads = {}
    dh, grads["W_out"], grads["b_out"] = output_backward(dpred, cache.output)
    dp = 0.0
    for i in range(cfg.layers, 0, -1):                 # dh: gradient of layer i's output
        corners, blend_cache, lin_cache, act_cache = cache.layers[i - 1]
        dz = activation_backward(cfg.act, dh, act_cache)
        dh, grads[f"W{i}"], grads[f"b{i}"], dB = dynamic_linear_backward(dz, lin_cache)
        dp = dp + blend_backward(cfg.blend, coefficients_backward(dB, corners), blend_cache)
    grads["p"] = grid_coords_backward(dp, cfg.axis_scales()) + encode_backward(dh, cache.encoding)
    return grads
