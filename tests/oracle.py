"""The LoE network written the slow, obvious way: the specification the routed path must equal.

Every layer gets the dense blending coefficients B (P, N) of every point, builds each
point's own weight matrix W(p) = sum_j B_j(p) W_j (P, Ci, Co) and applies it in natural
order, without sorting, gathers or shards (docs/method.md, sections 1-4). Forward and
backward are written out here in float64 NumPy, independently of loe_ref's blending,
routing, layer and network code; only the arrangement's (alpha, beta) come from
``Config.scales``.
"""
import math

import numpy as np


def axis_weights(u, tile, blend):
    """Weight of cell m = 0..T-1 on each axis, and its derivative with respect to u.

    u (P, d): alpha p + beta for nearest, alpha p + beta - 1/2 for linear. Nearest: 1 for
    the cell floor(u) mod T. Linear: the hat function 1 - |u - c| summed over every
    periodic copy c = m + kT of cell m's centre; with r = (u - m) mod T in [0, T) the two
    nearest copies are r below and T - r above. Returns w, dw_du, each (P, d, T).
    """
    m = np.arange(tile)
    if blend == "nearest":
        w = (np.mod(np.floor(u), tile)[..., None] == m).astype(np.float64)
        return w, np.zeros_like(w)
    r = np.mod(u[..., None] - m, tile)
    w = np.maximum(0.0, 1.0 - r) + np.maximum(0.0, 1.0 - (tile - r))
    dw = -(r < 1.0).astype(np.float64) + (r > tile - 1.0)
    return w, dw


def coefficients(p, alpha, beta, tile, blend):
    """B (P, N) with B_j(p) = prod_k w_k(m_k(j)) for expert j = sum_k m_k T^k, and dB/dp (P, N, d)."""
    P, d = p.shape
    u = alpha * p + beta - (0.5 if blend == "linear" else 0.0)
    w, dw = axis_weights(u, tile, blend)
    N = tile ** d
    cells = [(j // tile ** k) % tile for j in range(N) for k in range(d)]
    cells = np.array(cells).reshape(N, d)
    per_axis = np.stack([w[:, k, cells[:, k]] for k in range(d)], axis=2)      # (P, N, d)
    dper_axis = np.stack([dw[:, k, cells[:, k]] for k in range(d)], axis=2)
    B = per_axis.prod(axis=2)
    dB = np.empty((P, N, d))
    for k in range(d):
        others = np.delete(per_axis, k, axis=2).prod(axis=2)
        dB[:, :, k] = alpha * dper_axis[:, :, k] * others
    return B, dB


def encode(p, octaves):
    x0 = 2.0 * p - 1.0
    feats = [x0]
    for k in range(octaves):
        feats += [np.sin(2.0 ** k * math.pi * x0), np.cos(2.0 ** k * math.pi * x0)]
    return np.concatenate(feats, axis=1)


def encode_grad(dh, p, octaves):
    d = p.shape[1]
    x0 = 2.0 * p - 1.0
    dx0 = dh[:, :d].copy()
    for k in range(octaves):
        freq = 2.0 ** k * math.pi
        dx0 += freq * np.cos(freq * x0) * dh[:, d * (1 + 2 * k):d * (2 + 2 * k)]
        dx0 -= freq * np.sin(freq * x0) * dh[:, d * (2 + 2 * k):d * (3 + 2 * k)]
    return 2.0 * dx0


def forward(params, cfg, p):
    """pred (P, C) and what backward needs, every layer in natural order."""
    alpha, beta = cfg.scales()
    h = encode(p, cfg.pe)
    layers = []
    for i in range(cfg.layers):
        W, b = params[f"W{i + 1}"], params[f"b{i + 1}"]
        B, dB = coefficients(p, alpha[i], beta[i], cfg.tile, cfg.blend)
        Wp = np.einsum("pn,nio->pio", B, W)                    # each point's own matrix
        z = np.einsum("pi,pio->po", h, Wp) + b
        layers.append((h, B, dB, Wp, z))
        h = np.sin(cfg.omega0 * z) if cfg.act == "sine" else np.where(z > 0, z, cfg.slope * z)
    return h @ params["W_out"] + params["b_out"], (p, layers, h)


def backward(dpred, params, cfg, saved):
    """Gradients of every parameter and of p (P, d) from dpred (P, C)."""
    p, layers, h = saved
    grads = {"W_out": h.T @ dpred, "b_out": dpred.sum(axis=0)}
    dh = dpred @ params["W_out"].T
    dp = np.zeros_like(p)
    for i in range(cfg.layers - 1, -1, -1):
        h_in, B, dB, Wp, z = layers[i]
        if cfg.act == "sine":
            dz = dh * cfg.omega0 * np.cos(cfg.omega0 * z)
        else:
            dz = dh * np.where(z > 0, 1.0, cfg.slope)
        dWp = h_in[:, :, None] * dz[:, None, :]                # d loss / d W(p), (P, Ci, Co)
        grads[f"W{i + 1}"] = np.einsum("pn,pio->nio", B, dWp)
        grads[f"b{i + 1}"] = dz.sum(axis=0)
        dcoef = np.einsum("pio,nio->pn", dWp, params[f"W{i + 1}"])
        dp += np.einsum("pn,pnk->pk", dcoef, dB)
        dh = np.einsum("pio,po->pi", Wp, dz)
    dp += encode_grad(dh, p, cfg.pe)
    grads["p"] = dp
    return grads


def loss_and_grads(params, cfg, p, target):
    """MSE over all P C entries, its gradients, and the prediction."""
    pred, saved = forward(params, cfg, p)
    diff = pred - target
    loss = float((diff ** 2).mean())
    return loss, backward(2.0 * diff / diff.size, params, cfg, saved), pred
