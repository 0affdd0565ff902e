"""Adam, written out in PyTorch's form (docs/method.md, section 6).

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
    m_hat = m / (1 - b1^t);  v_hat = v / (1 - b2^t)
    theta -= lr m_hat / (sqrt(v_hat) + eps)
"""
from .backend import xp_of


class Adam:
    """Adam with per-parameter moments m and v and one shared step count t."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        if not lr > 0:
            raise ValueError(f"learning rate {lr} must be positive")
        self.lr, self.betas, self.eps = float(lr), tuple(betas), float(eps)
        self.t = 0
        self.m = {k: xp_of(v).zeros_like(v) for k, v in params.items()}
        self.v = {k: xp_of(v).zeros_like(v) for k, v in params.items()}

    def step(self, params, grads, lr=None):
        """Update every array of ``params`` in place from ``grads`` (same keys)."""
        lr = self.lr if lr is None else lr
        self.t += 1
        for k, theta in params.items():
            self.update(theta, grads[k], self.m[k], self.v[k], lr)

    def update(self, theta, g, m, v, lr):
        """The formula above, on one array and its moments, in place (t already counted)."""
        b1, b2 = self.betas
        c1, c2 = 1.0 - b1 ** self.t, 1.0 - b2 ** self.t
        m *= b1
        m += (1.0 - b1) * g
        v *= b2
        v += (1.0 - b2) * (g * g)
        theta -= (lr / c1) * m / (xp_of(theta).sqrt(v / c2) + self.eps)

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
