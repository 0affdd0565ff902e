"""The parameters laid end to end in one flat array, and Adam over that array.

Worker processes share the parameters' memory (workers.py), which needs them in one
buffer; Adam then updates all of them with one operation per line of its formula instead
of one per parameter: the same arithmetic, element by element, so the same numbers as
``loe_ref.optim.Adam`` (tests/fast/test_flat.py).
"""
from ..backend import to_host, xp_of
from ..optim import Adam


def flat_views(arrays, flat):
    """{name: view of ``flat``} with the shapes of ``arrays``, laid end to end in their order."""
    out, start = {}, 0
    for k, v in arrays.items():
        out[k] = flat[start:start + v.size].reshape(v.shape)
        start += v.size
    return out


class FlatAdam(Adam):
    """``Adam`` over parameters that are consecutive views of the 1-D array ``flat``; the
    moments share that layout, and ``m``, ``v`` hold their per-parameter views."""

    def __init__(self, params, flat, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__({}, lr, betas, eps)
        xp = xp_of(flat)
        self.flat, self._m, self._v = flat, xp.zeros_like(flat), xp.zeros_like(flat)
        self.m, self.v = flat_views(params, self._m), flat_views(params, self._v)

    def step(self, params, grads, lr=None):
        """Update the flat array in place from ``grads`` (the keys of ``params``, in order)."""
        lr = self.lr if lr is None else lr
        self.t += 1
        g = xp_of(self.flat).concatenate([grads[k].reshape(-1) for k in self.m])
        self.update(self.flat, g, self._m, self._v, lr)

    def moments(self):
        """(m, v): the moments' flat arrays, laid out as the parameters' flat array."""
        return self._m, self._v

    def host_state(self):
        """``state()`` on the host, in two transfers (one per moment)."""
        params = dict(self.m)
        m, v = (flat_views(params, to_host(a)) for a in (self._m, self._v))
        return {**{f"adam_m/{k}": a for k, a in m.items()}, **{f"adam_v/{k}": a for k, a in v.items()}}
