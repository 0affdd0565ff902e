"""Which pixels a training step takes: a function of (seed, step) alone, so a resumed run
draws the same batches (docs/method.md, section 6)."""
import numpy as np

SAMPLERS = ("epoch", "replacement")


class PixelSampler:
    """Batches of ``batch`` pixel indices out of ``pixels``, drawn on the host.

    "epoch" walks through one random permutation of the pixels after another, permutation
    e drawn with default_rng([seed, e, 1]), so no pixel is drawn twice before every pixel
    was drawn once; "replacement" draws every batch afresh with default_rng([seed, step]).
    """

    def __init__(self, kind, pixels, batch, seed):
        if kind not in SAMPLERS:
            raise ValueError(f"unknown sampler {kind!r}; expected one of {', '.join(SAMPLERS)}")
        self.kind, self.pixels, self.batch, self.seed = kind, pixels, batch, seed
        self._perms = {}

    def indices(self, step):
        """Pixel indices (B,) of step ``step`` (0-based)."""
        P, B = self.pixels, self.batch
        if self.kind == "replacement":
            return np.random.default_rng([self.seed, step]).integers(0, P, B)
        epoch, start = divmod(step * B, P)
        idx = self._permutation(epoch)[start:start + B]
        if idx.shape[0] < B:
            idx = np.concatenate([idx, self._permutation(epoch + 1)[:B - idx.shape[0]]])
        return idx

    def _permutation(self, epoch):
        """Permutation ``epoch``; the two latest are kept (a batch spans at most two)."""
        if epoch not in self._perms:
            rng = np.random.default_rng([self.seed, epoch, 1])
            self._perms = {k: v for k, v in self._perms.items() if k >= epoch - 1}
            self._perms[epoch] = rng.permutation(self.pixels)
        return self._perms[epoch]
