"""The training loop: one run's state, its step, and ``fit`` from the current iteration on.

One step is forward, MSE, backward and Adam (docs/method.md, section 6) on the whole
image or on a batch of pixels. Evaluations measure the PSNR over the whole image
(loe_ref.fast) into the run's history; a loss that explodes stops the run as diverged.
Where the run lives on disk (its folder, checkpoint, pictures, summary) is loe_ref.runs'.
"""
import math
import os
import time
from collections import namedtuple
from dataclasses import asdict

import numpy as np

from ..backend import get_xp, to_device
from ..fast import Engine
from ..losses import psnr_from_mse
from ..network import init_params
from .data import KINDS, grid_shape, prepare_signal, signal_fingerprint, signal_target
from .sampler import PixelSampler


class TrainingError(RuntimeError):
    """Training cannot go on (a diverged loss, a checkpoint that does not fit)."""


class Diverged(TrainingError):
    """The loss or the training state stopped being finite, or the loss exploded."""


#: One evaluation of the history: the iteration, the step's batch loss, the whole signal's
#: PSNR (dB), the seconds of training so far, and a video's PSNR of every frame (else None).
Evaluation = namedtuple("Evaluation", "iteration loss psnr seconds frames", defaults=(None,))

#: A loss this many times the first step's means the run diverged, even while finite.
DIVERGED = 100


class Trainer:
    """Holds the device arrays and the state of one run; ``fit`` runs it to ``opts.iters``.

    ``signal``: the data.Signal to fit (its kind's coordinate dims must be ``cfg.in_dims``),
    else ``opts.image`` is loaded.
    ``history`` lists the Evaluations; ``best`` is (peak PSNR, its iteration).
    """

    def __init__(self, cfg, opts, signal=None):
        self.cfg, self.opts = cfg, opts
        self.xp = get_xp(opts.device)
        self.dtype = np.dtype(opts.dtype)
        self.signal = prepare_signal(opts.image, opts.size, opts.kind) if signal is None else signal
        if KINDS[self.signal.kind] != cfg.in_dims:
            raise ValueError(f"the network reads {cfg.in_dims}-D coordinates but {opts.image!r} is a "
                             f"{self.signal.kind} ({KINDS[self.signal.kind]}-D)")
        y = signal_target(self.signal.values, cfg.in_dims)
        if y.shape[1] != cfg.out_channels:
            raise ValueError(f"the network has {cfg.out_channels} output channels but {self.signal.kind} "
                             f"{opts.image!r} has {y.shape[1]}")
        self.shape = grid_shape(self.signal.values, cfg.in_dims)
        if opts.batch > y.shape[0]:
            unit = "pixels" if self.signal.kind == "image" else "samples"
            raise ValueError(f"batch={opts.batch} exceeds the {self.signal.kind}'s {y.shape[0]} {unit}; "
                             f"use a batch of at most {y.shape[0]}, or 0 for the whole {self.signal.kind}")
        self.engine = Engine(cfg, lambda: init_params(cfg, opts.seed), y, self.shape, opts.batch, opts.chunk, self.dtype,
                             self.xp)
        self.params, self.target = self.engine.params, self.engine.target
        self.fingerprint = signal_fingerprint(self.engine.values)         # the samples as trained
        self.opt = self.engine.optimizer(opts.learning_rate(cfg), (0.9, opts.beta2))
        self.sampler = PixelSampler(opts.sampler, y.shape[0], opts.batch, opts.seed)
        self._ahead = None                 # (iteration, its batch) drawn ahead of its step
        self.iteration, self.elapsed, self.history, self.best = 0, 0.0, [], (-math.inf, 0)
        self.evaluation_seconds = 0.0      # of ``elapsed``, the time spent in evaluations
        self.first_loss = None             # the untrained network's loss, the yardstick of divergence
        self.last_loss = None              # the last step's loss (a device scalar), checked before a checkpoint
        self.stop_row = None               # the evaluation at a stop between evaluations (not recorded)

    def restore(self, params, extra, meta):
        """Continue from a checkpoint's state: parameters, Adam's moments (``extra``) and the
        record (``meta``), as ``training_state`` gave them (runs.resume checks that they
        belong to this run)."""
        for k, v in params.items():
            self.params[k][...] = to_device(v.astype(self.dtype), self.xp)
        self.opt.load_state({k: to_device(v, self.xp) for k, v in extra.items()}, meta["adam_t"])
        self.iteration, self.elapsed = meta["iteration"], meta["elapsed"]
        self.history = [Evaluation(*r) for r in meta["history"]]
        self.best = tuple(meta["best"])
        self.first_loss = meta.get("first_loss")
        self.evaluation_seconds = float(meta.get("evaluation_seconds", 0.0))

    def batch_indices(self, it):
        """Pixel indices (B,) of step ``it``, on the host; a function of (seed, it) alone."""
        return self.sampler.indices(it)

    def batch(self, it):
        """(coordinates (B, d), targets (B, C), experts (B, L) or None) of step ``it``'s pixels
        (every pixel with batch 0)."""
        if self._ahead is not None and self._ahead[0] == it:
            return self._ahead[1]
        return self.engine.batch(None if self.opts.batch == 0 else self.batch_indices(it))

    def _draw_ahead(self, it):
        """Draw step ``it``'s batch now (its random reads of the target and expert tables
        included), while the worker processes finish the current step."""
        if it < self.opts.iters:
            self._ahead = (it, self.batch(it))

    def step(self, it):
        """One Adam step; returns the batch loss (a device scalar, not synchronised)."""
        if self.opts.batch == 0 and self.engine.grid_cached:
            target = self.target
            sse, grads = self.engine.image_sse_and_grads()
        else:
            p, target, experts = self.batch(it)
            sse, grads = self.engine.sse_and_grads(p, target, experts, meanwhile=lambda: self._draw_ahead(it + 1))
        self.opt.step(self.params, grads, self.opts.lr_at(self.cfg, it))
        return sse / target.size

    def psnr(self):
        """PSNR (dB) of the current reconstruction over the whole image."""
        return self.engine.psnr()

    def close(self):
        """End the worker processes, if any (they also end with this process)."""
        self.engine.close()

    def fit(self, stop=None, progress=None, on_evaluation=None, on_checkpoint=None):
        """Train from the current iteration to ``opts.iters``.

        ``stop()`` is asked after every step (runs.signals.StopSignals: Ctrl-C, SIGTERM, SIGHUP),
        so the parameters and Adam state always belong to a whole number of steps. Every
        ``opts.eval_every`` steps an Evaluation joins the history and goes to
        ``on_evaluation``; every ``opts.checkpoint_every`` steps ``on_checkpoint()`` is
        called. ``progress.tick(iteration)`` follows each step. A run stopped between
        evaluations is measured at its last step (``stop_row``) outside the history, so a
        resumed run's history is an uninterrupted one's. Returns True when the run
        reached ``opts.iters``, False when it was stopped.
        """
        start = time.perf_counter() - self.elapsed
        loss = None
        self.engine.watch(stop)
        # A diverging run ends with one clear TrainingError, not with NumPy overflow warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            while self.iteration < self.opts.iters and not (stop and stop()):
                loss = self.last_loss = self.step(self.iteration)
                if self.first_loss is None:
                    self.first_loss = float(loss)
                self.iteration += 1
                self.elapsed = time.perf_counter() - start
                if progress is not None:
                    progress.tick(self.iteration)
                if self.iteration % self.opts.eval_every == 0 or self.iteration == self.opts.iters:
                    row = self.record(float(loss))
                    self.elapsed = time.perf_counter() - start          # the evaluation included
                    if on_evaluation is not None:
                        on_evaluation(row)
                if self.iteration % self.opts.checkpoint_every == 0 and on_checkpoint is not None:
                    on_checkpoint()
            if loss is not None and (not self.history or self.history[-1].iteration != self.iteration):
                self.stop_row = self.measure(float(loss))     # stopped between evaluations
        return self.iteration >= self.opts.iters

    def record(self, loss):
        """Record the Evaluation at this iteration in the history and the peak; returns it."""
        row = self.measure(loss)
        self.history.append(row)
        if row.psnr > self.best[0]:
            self.best = (row.psnr, self.iteration)
        return row

    def final_row(self):
        """The Evaluation at the run's last step: the stop's, the history's last, or NaNs."""
        if self.stop_row is not None and self.stop_row.iteration == self.iteration:
            return self.stop_row
        return self.history[-1] if self.history else Evaluation(self.iteration, math.nan, math.nan, self.elapsed)

    def measure(self, loss):
        """The Evaluation now, after ``check_divergence(loss)``."""
        self.check_divergence(loss)
        t0 = time.perf_counter()
        frames = None
        if self.signal.kind == "video":
            sse = self.engine.frame_sse()
            value = psnr_from_mse(sse.sum() / self.target.size)
            frames = [psnr_from_mse(v / (self.target.size / sse.shape[0])) for v in sse]
        else:
            value = self.psnr()
        self.evaluation_seconds += time.perf_counter() - t0
        return Evaluation(self.iteration, loss, value, round(self.elapsed, 3), frames)

    def check_divergence(self, loss=None):
        """Raise Diverged when ``loss`` (default: the last step's) is not finite, or grew
        past DIVERGED times the run's first step's (the untrained network's): the run diverged."""
        if loss is None:
            if self.last_loss is None:
                return
            loss = float(self.last_loss)
        if not math.isfinite(loss):
            raise Diverged(f"the loss became {loss} at iteration {self.iteration}; {self.likely_cause()}")
        if self.first_loss is not None and loss > DIVERGED * self.first_loss:
            raise Diverged(f"the loss grew to {loss:.3g} at iteration {self.iteration}, more than {DIVERGED} x "
                                f"the first step's {self.first_loss:.3g}: the run diverged; {self.likely_cause()}")

    def likely_cause(self):
        """What most likely made the run diverge, as advice naming the parameter to change."""
        bits = np.finfo(self.dtype).nmant + 1
        if self.cfg.omega0 > 1e3:
            return (f"`omega0` {self.cfg.omega0:g} makes sin(omega0 z) oscillate faster than any step can "
                    f"follow; lower `omega0` (1 to 30 is usual)")
        if self.cfg.pe > bits:
            return (f"`pe` {self.cfg.pe} asks for frequencies up to 2^{self.cfg.pe - 1} pi, beyond what "
                    f"{self.dtype} coordinates resolve ({bits} octaves at most); lower `pe` (8 to 10 is usual)")
        return (f"start a new run with a lower `lr` (now {self.opts.learning_rate(self.cfg):g}; a resumed run keeps "
                f"its rate)")

    def non_finite(self):
        """Names of the parameters and Adam moments holding a value that is not finite (one
        host wait when all are finite, the usual case)."""
        if self.engine.all_finite(self.opt):
            return []
        state = {**self.params, **self.opt.state()}
        return [k for k, v in state.items() if not bool(self.xp.isfinite(v).all())]

    def training_state(self):
        """(params, extra, meta): the parameters and Adam's moments on the host (three
        transfers) and the record that let ``restore`` continue this run exactly."""
        meta = {"iteration": self.iteration, "elapsed": self.elapsed, "history": self.history,
                "first_loss": self.first_loss, "evaluation_seconds": self.evaluation_seconds,
                "image_sha256": self.fingerprint, "cwd": os.getcwd(),
                "image_path": os.path.abspath(self.opts.image) if os.path.exists(self.opts.image) else self.opts.image,
                "best": list(self.best), "adam_t": self.opt.t, "options": asdict(self.opts),
                "kind": self.signal.kind, "rate": self.signal.rate, "grid": list(self.shape)}
        return self.engine.host_params(), self.opt.host_state(), meta
