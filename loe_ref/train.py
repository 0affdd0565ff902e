"""The training loop: fit a network to an image, evaluate, checkpoint, resume, render.

One step is forward, MSE, backward and Adam (docs/method.md, section 6) on the whole
image or on a random batch of pixels. Evaluation runs over the whole image in chunks.
"""
import math
import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from . import checkpoint, outputs
from . import shards
from .backend import get_xp, to_device, to_host
from .cpu import keep_freed_memory, single_threaded_blas, usable_cpus
from .data import image_size, image_target, load_bytes, load_image, target_image
from .evaluate import GridEvaluator, predict_grid
from .grids import expert_maps, pixel_coords_at
from .losses import psnr
from .network import count_params, expert_table, init_params
from .workers import Workers, worker_count
from .optim import Adam, flat_views
from .rundir import OVERHEAD, RunDirError, available_bytes, check_memory, step_bytes
from .sampler import SAMPLERS, PixelSampler

SCHEDULES = ("constant", "cosine", "step")
DTYPES = ("float32", "float64")


class TrainingError(RuntimeError):
    """Training cannot go on (a diverged loss, a checkpoint that does not fit)."""


@dataclass
class TrainOptions:
    """How to train, as opposed to what (``network.Config``).

    lr None picks 1e-2 for the default and Kaiming inits and 1e-3 for SIREN's.
    batch 0 trains on every pixel each step; otherwise ``sampler`` draws the batches:
    "epoch" walks through one random permutation of the pixels after another (no pixel
    is drawn twice before all were drawn), "replacement" draws every batch afresh.
    beta2 is Adam's second-moment decay. size resizes the image before fitting.
    """
    image: str = "camera"
    size: list = field(default_factory=list)
    iters: int = 100
    lr: float = None
    schedule: str = "constant"
    seed: int = 0
    dtype: str = "float32"
    batch: int = 0
    sampler: str = "epoch"
    beta2: float = 0.999
    eval_every: int = 10
    checkpoint_every: int = 100
    chunk: int = 65536
    device: str = "cpu"

    def __post_init__(self):
        for name in ("iters", "eval_every", "checkpoint_every", "chunk"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")
        if not isinstance(self.batch, (int, np.integer)) or self.batch < 0:
            raise ValueError(f"batch={self.batch!r} must be a positive integer (0 = the whole image)")
        if self.lr is not None and not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr={self.lr!r} must be a positive number")
        if self.size and (len(self.size) != 2 or min(self.size) < 2):
            raise ValueError(f"size={list(self.size)} must be two sizes of at least 2 (height width)")
        if not (isinstance(self.beta2, (int, float)) and 0 <= self.beta2 < 1):
            raise ValueError(f"beta2={self.beta2!r} must lie in [0, 1)")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {self.sampler!r}; expected one of {', '.join(SAMPLERS)}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; expected one of {', '.join(SCHEDULES)}")
        if self.dtype not in DTYPES:
            raise ValueError(f"unknown dtype {self.dtype!r}; expected one of {', '.join(DTYPES)}")

    def learning_rate(self, cfg):
        if self.lr is not None:
            return self.lr
        return 1e-3 if cfg.init == "siren" else 1e-2

    def lr_at(self, cfg, it):
        """Learning rate of step ``it`` (0-based), docs/method.md, section 6.

        constant; cosine: decay to 1/100 of it over ``iters``; step: 1/10 of it from half
        the run, 1/100 from three quarters.
        """
        lr = self.learning_rate(cfg)
        if self.schedule == "cosine":
            lr *= 0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * it / self.iters))
        elif self.schedule == "step":
            lr *= 1.0 if 2 * it < self.iters else 0.1 if 4 * it < 3 * self.iters else 0.01
        return lr


# Largest side of one layer's panel in experts.png; larger images are sampled at this size.
EXPERT_PANEL = 512
# Side of the zoomed crop of experts.png, in image pixels.
EXPERT_CROP = 64

#: A loss this many times the first step's means the run diverged, even while finite.
DIVERGED = 100

# Options that a resumed run must share with the checkpoint to reproduce the same numbers.
RESUME_KEYS = ("image", "size", "lr", "schedule", "seed", "dtype", "batch", "sampler", "beta2")


def image_fingerprint(values):
    """sha256 (hex) of an image's values as trained: the same pixels give the same text."""
    import hashlib
    return hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()


def prepare_image(opts):
    """The target image in [0, 1], resized to ``opts.size`` when given.

    The image's header is read first, and a load or resize that cannot fit in the
    available memory is refused before any pixel is decoded.
    """
    size = image_size(opts.image)
    if size is not None or opts.size:
        need = load_bytes(size or (*opts.size, 3), tuple(opts.size) if opts.size else None)
        available = available_bytes()
        if available is not None and need > available:
            shape = f"{size[0]} x {size[1]} image" if size else "image"
            raise RunDirError(f"loading the {shape}{f' and resizing it to {opts.size[0]} x {opts.size[1]}' if opts.size else ''} "
                              f"needs about {need / 2 ** 30:.1f} GiB but {available / 2 ** 30:.1f} GiB are available; "
                              f"use a smaller image or a smaller --size")
    img = load_image(opts.image)
    if opts.size and tuple(opts.size) != img.shape[:2]:
        from skimage.transform import resize
        img = resize(img, tuple(opts.size) + img.shape[2:], order=1, anti_aliasing=True)
    return img


def load_resumable(path, cfg, opts, fingerprint=None):
    """(params, extra, meta) of checkpoint ``path``, which must continue run (cfg, opts).

    Raises CheckpointError when the file is damaged, lacks training state, or was trained
    with another configuration or with options that change the numbers (RESUME_KEYS, and
    the run's length under a schedule that depends on it). ``fingerprint``: the image's
    (``image_fingerprint``); where the checkpoint records one, the pixels must be the same,
    under whatever path, instead of the image's name.
    """
    saved_cfg, params, extra, meta = checkpoint.load(path)
    keys = RESUME_KEYS
    if fingerprint is not None and meta.get("image_sha256"):
        if meta["image_sha256"] != fingerprint:
            raise checkpoint.CheckpointError(
                f"checkpoint {path!r} was trained on other pixels: {meta.get('image_path')!r} then, "
                f"{opts.image!r} now (their sha256 differ); give --image the picture it was trained on")
        keys = tuple(k for k in RESUME_KEYS if k != "image")
    if saved_cfg != cfg:
        diff = [f"{k}: {v!r} in the checkpoint, {getattr(cfg, k)!r} now"
                for k, v in asdict(saved_cfg).items() if getattr(cfg, k) != v]
        raise checkpoint.CheckpointError(f"checkpoint {path!r} has a different configuration ({'; '.join(diff)})")
    checkpoint.check_training_state(path, params, extra, meta)
    saved, now = dict(meta["options"]), asdict(opts)
    saved.setdefault("sampler", "replacement")       # the only sampler before "epoch" existed
    saved.setdefault("beta2", 0.999)
    saved["lr"] = TrainOptions(**saved).learning_rate(cfg)     # the rates in effect
    now["lr"] = opts.learning_rate(cfg)
    diff = [f"{k}: {saved.get(k)!r} in the checkpoint, {now[k]!r} now" for k in keys if saved.get(k) != now[k]]
    if opts.schedule != "constant" and saved.get("iters") != opts.iters:
        diff.append(f"iters: {saved.get('iters')!r} in the checkpoint, {opts.iters!r} now "
                    f"({opts.schedule} schedule, which depends on the run's length)")
    if diff:
        raise checkpoint.CheckpointError(f"checkpoint {path!r} was trained differently ({'; '.join(diff)})")
    return params, extra, meta


class Trainer:
    """Holds the device arrays and the state of one run; ``fit`` runs it to ``opts.iters``."""

    def __init__(self, cfg, opts, out_dir, image=None):
        self.cfg, self.opts, self.out_dir = cfg, opts, out_dir
        self.xp = get_xp(opts.device)
        if self.xp is np:
            single_threaded_blas()
            keep_freed_memory()
        self.dtype = np.dtype(opts.dtype)
        self.image = prepare_image(opts) if image is None else image
        y = image_target(self.image)
        if y.shape[1] != cfg.out_channels:
            raise ValueError(f"the network has {cfg.out_channels} output channels but image "
                             f"{opts.image!r} has {y.shape[1]}")
        self.shape = self.image.shape[:2]
        if opts.batch > y.shape[0]:
            raise ValueError(f"batch={opts.batch} exceeds the image's {y.shape[0]} pixels; "
                             f"use a batch of at most {y.shape[0]}, or 0 for the whole image")
        cpus = usable_cpus() if self.xp is np else 1
        check_memory(cfg, y.shape[0], opts.batch, opts.chunk, self.dtype, processes=worker_count(cpus))
        values = y.astype(self.dtype)
        self.target = to_device(values, self.xp)
        self.fingerprint = image_fingerprint(values)                   # the pixels as trained
        host = {k: v.astype(self.dtype) for k, v in init_params(cfg, opts.seed).items()}
        self.flat = self.xp.asarray(np.concatenate([v.ravel() for v in host.values()]))   # all parameters
        self.params = flat_views(host, self.flat)
        self.grid = GridEvaluator(cfg, self.shape, self.xp, self.dtype, opts.chunk)
        # every pixel's experts, looked up by the batches (only with the grid's coordinates at hand)
        self.experts = None if self.grid.coords is None else expert_table(cfg, self.grid.coords)
        self.workers = None
        # worth forking: batches of several shards, or a cached grid (full-image steps, evaluations)
        sharded = opts.batch and len(shards.shard_ranges(opts.batch, self.xp)) > 1
        if worker_count(cpus) > 1 and hasattr(os, "fork") and (sharded or self.grid.plans):
            self.workers = Workers(worker_count(cpus), cfg, self.params, max(opts.batch, 1), self.grid,
                                   self.target if self.grid.plans else None)
            self.flat, self.params = self.workers.flat, self.workers.params
        self.opt = Adam(self.params, lr=opts.learning_rate(cfg), betas=(0.9, opts.beta2), flat=self.flat)
        self.sampler = PixelSampler(opts.sampler, y.shape[0], opts.batch, opts.seed)
        self.iteration, self.elapsed, self.history, self.best = 0, 0.0, [], (-math.inf, 0)
        self.first_loss = None             # the untrained network's loss, the yardstick of divergence
        self.stop_row = None               # the evaluation at a stop between evaluations (not recorded)

    def resume(self, path):
        """Load parameters, Adam state and history from a checkpoint of the same run."""
        params, extra, meta = load_resumable(path, self.cfg, self.opts, self.fingerprint)
        for k, v in params.items():
            self.params[k][...] = to_device(v.astype(self.dtype), self.xp)
        self.opt.load_state({k: to_device(v, self.xp) for k, v in extra.items()}, meta["adam_t"])
        self.iteration, self.elapsed = meta["iteration"], meta["elapsed"]
        self.history = [tuple(r) for r in meta["history"]]
        self.best = tuple(meta["best"])
        self.first_loss = meta.get("first_loss")

    def batch_indices(self, it):
        """Pixel indices (B,) of step ``it``, on the host; a function of (seed, it) alone."""
        return self.sampler.indices(it)

    def step(self, it):
        """One Adam step; returns the batch loss (a device scalar, not synchronised)."""
        if self.opts.batch == 0 and self.grid.plans is not None:
            target = self.target
            if self.workers is not None:
                sse, grads = self.workers.sse_and_grads()
            else:
                sse, grads = shards.sse_and_grads(self.params, self.cfg, self.grid.coords, target,
                                                  plans=self.grid.plans)
        else:
            idx = self.xp.arange(self.target.shape[0]) if self.opts.batch == 0 else \
                to_device(self.batch_indices(it), self.xp)
            target, p = self.target[idx], pixel_coords_at(idx, self.shape, self.dtype)
            experts = None if self.experts is None else self.experts[idx]
            if self.workers is not None and self.opts.batch:
                sse, grads = self.workers.sse_and_grads(p, target, experts)
            else:
                sse, grads = shards.sse_and_grads(self.params, self.cfg, p, target, experts=experts)
        self.opt.step(self.params, grads, self.opts.lr_at(self.cfg, it))
        return sse / target.size

    def predict_image(self):
        """The current reconstruction over the whole image, (P, C) on the device."""
        if self.workers is not None and self.grid.plans is not None:
            return self.workers.predict_grid()
        return self.grid.predict(self.params)

    def psnr(self):
        """PSNR of the current reconstruction (chunk by chunk when the grid is not cached)."""
        if self.grid.plans is not None:
            return psnr(self.predict_image(), self.target)
        return self.grid.psnr(self.params, self.target)

    def close(self):
        """End the worker processes, if any (they also end with this process)."""
        if self.workers is not None:
            self.workers.close()

    def fit(self, progress, stop=None):
        """Train from the current iteration to ``opts.iters``; checkpoints on the way.

        ``stop()`` is asked after every step (rundir.StopSignals: Ctrl-C, SIGTERM, SIGHUP),
        so the parameters and Adam state always belong to a whole number of steps; a run
        that stops is evaluated at its last step, so its summary and checkpoint agree.
        Returns True when the run reached ``opts.iters``, False when it was stopped.
        """
        start = time.perf_counter() - self.elapsed
        loss = None
        # A diverging run ends with one clear TrainingError, not with NumPy overflow warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            while self.iteration < self.opts.iters and not (stop and stop()):
                loss = self.step(self.iteration)
                if self.first_loss is None:
                    self.first_loss = float(loss)
                self.iteration += 1
                self.elapsed = time.perf_counter() - start
                progress.tick(self.iteration)
                if self.iteration % self.opts.eval_every == 0 or self.iteration == self.opts.iters:
                    self.evaluate(float(loss), progress)
                if self.iteration % self.opts.checkpoint_every == 0:
                    self.save_checkpoint()
            if loss is not None and (not self.history or self.history[-1][0] != self.iteration):
                self.stop_row = self.measure(float(loss))     # stopped between evaluations
                progress.log(f"iteration {self.iteration:6d}  loss {loss:.4e}  PSNR {self.stop_row[2]:7.3f} dB "
                             f"(at the stop; not in the record, so a resumed run's record is an uninterrupted one's)")
        return self.iteration >= self.opts.iters

    def evaluate(self, loss, progress):
        """Record the PSNR at this iteration in the history, the peak and metrics.csv."""
        row = self.measure(loss)
        value = row[2]
        self.history.append(row)
        if value > self.best[0]:
            self.best = (value, self.iteration)
        progress.update(self.iteration, loss, value)
        if progress.quiet or not progress.bar:
            progress.log(f"iteration {self.iteration:6d}  loss {loss:.4e}  PSNR {value:7.3f} dB  {self.elapsed:8.1f} s")
        outputs.write_csv(os.path.join(self.out_dir, "metrics.csv"),
                          ["iteration", "loss", "psnr", "seconds"], self.history)

    def measure(self, loss):
        """(iteration, loss, PSNR, seconds) now; a loss that is not finite, or that grew past
        DIVERGED times the first step's (the untrained network's), stops the run as diverged."""
        if not math.isfinite(loss):
            raise TrainingError(f"the loss became {loss} at iteration {self.iteration}; {self.likely_cause()}")
        if self.first_loss is not None and loss > DIVERGED * self.first_loss:
            raise TrainingError(f"the loss grew to {loss:.3g} at iteration {self.iteration}, more than {DIVERGED} x "
                                f"the first step's {self.first_loss:.3g}: the run diverged; {self.likely_cause()}")
        return (self.iteration, loss, self.psnr(), round(self.elapsed, 3))

    def likely_cause(self):
        """What most likely made the run diverge, as advice naming the option to change."""
        bits = np.finfo(self.dtype).nmant + 1
        if self.cfg.omega0 > 1e3:
            return (f"--omega0 {self.cfg.omega0:g} makes sin(omega0 z) oscillate faster than any step can "
                    f"follow; lower --omega0 (1 to 30 is usual)")
        if self.cfg.pe > bits:
            return (f"--pe {self.cfg.pe} asks for frequencies up to 2^{self.cfg.pe - 1} pi, beyond what "
                    f"{self.dtype} coordinates resolve ({bits} octaves at most); lower --pe (8 to 10 is usual)")
        return f"try a lower --lr (now {self.opts.learning_rate(self.cfg):g})"

    def save_checkpoint(self):
        """Write the checkpoint, never with a non-finite parameter or Adam moment (the last good one stays)."""
        state = {**self.params, **self.opt.state()}
        bad = [k for k, v in state.items() if not bool(self.xp.isfinite(v).all())]
        if bad:
            path = os.path.join(self.out_dir, "checkpoint.npz")
            kept = "the last good checkpoint is kept" if os.path.exists(path) else "no checkpoint was written"
            raise TrainingError(f"training state {', '.join(bad[:3])}{' ...' if len(bad) > 3 else ''} became "
                                f"non-finite by iteration {self.iteration}; {kept}; {self.likely_cause()}")
        meta = {"iteration": self.iteration, "elapsed": self.elapsed, "history": self.history,
                "first_loss": self.first_loss, "image_sha256": self.fingerprint, "cwd": os.getcwd(),
                "image_path": os.path.abspath(self.opts.image) if os.path.exists(self.opts.image) else self.opts.image,
                "best": list(self.best), "adam_t": self.opt.t, "options": asdict(self.opts)}
        checkpoint.save(os.path.join(self.out_dir, "checkpoint.npz"), self.params, self.cfg,
                        extra=self.opt.state(), meta=meta)

    def write_outputs(self):
        """Reconstruction, error map, comparison, training curves, expert maps and summary."""
        recon = target_image(to_host(self.predict_image()), self.image.shape)
        out = self.out_dir
        final = self.stop_row if self.stop_row and self.stop_row[0] == self.iteration else \
            self.history[-1] if self.history else (self.iteration, math.nan, math.nan, self.elapsed)
        outputs.write_png(os.path.join(out, "reconstruction.png"), recon)
        outputs.write_png(os.path.join(out, "error.png"), outputs.error_map(recon, self.image))
        outputs.plot_comparison(os.path.join(out, "comparison.png"), self.image, recon, final[2], final[0])
        curve = outputs.plot_training(os.path.join(out, "psnr.png"), self.history)
        alpha, beta = self.cfg.scales()
        scale = min(1.0, EXPERT_PANEL / max(self.shape))           # bounded picture for large images
        maps = expert_maps(tuple(max(1, round(s * scale)) for s in self.shape), alpha, beta, self.cfg.tile)
        crops = expert_maps(self.shape, alpha, beta, self.cfg.tile, window=(EXPERT_CROP, EXPERT_CROP))
        if not outputs.plot_experts(os.path.join(out, "experts.png"), maps, crops, alpha, scale):
            outputs.write_png(os.path.join(out, "experts.png"), outputs.expert_mosaic(maps))
        summary = {"peak_psnr": self.best[0], "peak_iteration": self.best[1],
                   "final_psnr": final[2], "final_iteration": final[0], "iterations": self.iteration,
                   "parameters": count_params(self.params), "seconds": round(self.elapsed, 3),
                   "seconds_per_iteration": round(self.elapsed / max(self.iteration, 1), 4),
                   "psnr_plot": curve}
        outputs.write_json(os.path.join(out, "summary.json"), summary)
        return summary


def render(path, size, out_path, device="cpu", chunk=65536):
    """Evaluate a checkpoint on a ``size`` = (H, W) pixel grid and save it as PNG."""
    cfg, params, _, _ = checkpoint.load(path)
    if cfg.in_dims != 2:
        raise ValueError(f"checkpoint {path!r} is a {cfg.in_dims}-D signal; rendering needs an image")
    pixels = int(np.prod(size))
    # the float32 prediction, its float64 [0, 1] image and the 8-bit PNG, and one chunk's evaluation
    rows = min(chunk, pixels)
    need = (pixels * cfg.out_channels * (4 + 8 + 1) + rows * (cfg.out_channels + cfg.in_dims) * 4
            + step_bytes(cfg, min(rows, shards.SHARD_ROWS), np.float32, backward=False) + OVERHEAD)
    available = available_bytes()
    if available is not None and need > available:
        raise RunDirError(f"rendering {size[0]} x {size[1]} pixels needs about {need / 2 ** 30:.1f} GiB but "
                          f"{available / 2 ** 30:.1f} GiB are available; lower --size")
    xp = get_xp(device)
    dev = {k: to_device(v, xp) for k, v in params.items()}
    pred = np.empty((int(np.prod(size)), cfg.out_channels), dtype=np.float32)
    for s, block in predict_grid(dev, cfg, tuple(size), chunk):
        pred[s:s + block.shape[0]] = to_host(block)
    shape = tuple(size) + ((cfg.out_channels,) if cfg.out_channels > 1 else ())
    outputs.write_png(out_path, target_image(pred, shape))
