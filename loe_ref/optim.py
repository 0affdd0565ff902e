"""Adam, written out in PyTorch's form (docs/method.md, section 6).

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
    m_hat = m / (1 - b1^t);  v_hat = v / (1 - b2^t)
    theta -= lr m_hat / (sqrt(v_hat) + eps)
"""
from .backend import xp_of


def flat_views(arrays, flat):
    """{name: view of ``flat``} with the shapes of ``arrays``, laid end to end in their order."""
    out, start = {}, 0
    for k, v in arrays.items():
        out[k] = flat[start:start + v.size].reshape(v.shape)
        start += v.size
    return out


class Adam:
    """Adam with per-parameter moments m and v and one shared step count t.

    ``flat``: a 1-D array whose consecutive views are ``params`` (in their order), when
    they are laid out so; the moments then share that layout and a step updates all
    parameters with one operation per line of the formula instead of one per parameter
    (the same arithmetic, element by element, so the same numbers).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, flat=None):
        if not lr > 0:
            raise ValueError(f"learning rate {lr} must be positive")
        self.lr, self.betas, self.eps = float(lr), tuple(betas), float(eps)
        self.t = 0
        self.flat = flat
        if flat is not None:
            xp = xp_of(flat)
            self._m, self._v = xp.zeros_like(flat), xp.zeros_like(flat)
            self.m, self.v = flat_views(params, self._m), flat_views(params, self._v)
        else:
            self.m = {k: xp_of(v).zeros_like(v) for k, v in params.items()}
            self.v = {k: xp_of(v).zeros_like(v) for k, v in params.items()}

    def step(self, params, grads, lr=None):
        """Update every array of ``params`` in place from ``grads`` (same keys)."""
        lr = self.lr if lr is None else lr
        b1, b2 = self.betas
        self.t += 1
        c1, c2 = 1.0 - b1 ** self.t, 1.0 - b2 ** self.t
        if self.flat is not None:
            xp = xp_of(self.flat)
            g = xp.concatenate([grads[k].reshape(-1) for k in self.m])
            updates = [(self.flat, g, self._m, self._v)]
        else:
            updates = [(theta, grads[k], self.m[k], self.v[k]) for k, theta in params.items()]
        for theta, g, m, v in updates:
            xp = xp_of(theta)
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * (g * g)
            theta -= (lr / c1) * m / (xp.sqrt(v / c2) + self.eps)

    def state(self):
        """Moments and step count as a flat dict of arrays, for checkpoints."""
        out = {f"adam_m/{k}": v for k, v in self.m.items()}
        out.update({f"adam_v/{k}": v for k, v in self.v.items()})
        return out

    def load_state(self, arrays, t):
        """Restore what ``state`` returned (arrays already on the right device)."""
        for k in self.m:
            self.m[k][...] = arrays[f"adam_m/{k}"]
            self.v[k][...] = arrays[f"adam_v/{k}"]
        self.t = int(t)
