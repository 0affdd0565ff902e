"""A run's record and pictures: metrics.csv, summary.json and the pictures of its folder
(an image's PNGs; a sound's waveforms and WAV; a video's frames, per-frame PSNR and GIF; a
volume's slices and array).

summary.json is the run's result as the scripts read it: the peak and final PSNR, the
time (``seconds`` of training, evaluations included, and ``evaluation_seconds`` of them), the CPU, the budget (batch, pixels, full-image equivalents) and the whole history
of evaluations. metrics.csv holds the same history, rewritten at every evaluation, so a
run in progress can be followed.
"""
import math
import os

import numpy as np

from ..backend import to_host
from ..fast.cpu import cpu_name
from ..fast.memory import COMPARISON_SIDE, EXPERT_LAYERS, EXPERT_PANEL
from ..grids import expert_maps
from ..network import param_count
from ..training.data import target_values
from ..training.recipes import equivalents
from . import figures, folder
from .files import to_uint8, write_csv, write_gif, write_json, write_npy, write_png, write_png_bands, write_wav

# Side of the zoomed crop of experts.png, in image pixels.
EXPERT_CROP = 64
#: The rates of the sound and the GIF when the signal has none (samples, frames a second).
DEFAULT_RATE = {"sound": 16000, "video": 12}


def write_metrics(out, history):
    """metrics.csv: one row per evaluation (iteration, loss, PSNR, seconds), and a video's PSNR
    of every frame (psnr_frame_0, psnr_frame_1, ...)."""
    frames = len(history[-1].frames) if history and history[-1].frames else 0
    header = ["iteration", "loss", "psnr", "seconds"] + [f"psnr_frame_{k}" for k in range(frames)]
    write_csv(os.path.join(out, folder.METRICS), header, [list(row[:4]) + list(row.frames or [])[:frames]
                                                          for row in history])


def summary(trainer):
    """The run's result as a JSON-ready dict."""
    final = trainer.final_row()
    pixels = int(trainer.target.shape[0])
    evaluated = math.isfinite(trainer.best[0])
    return {"peak_psnr": trainer.best[0] if evaluated else None, "peak_iteration": trainer.best[1] if evaluated else None,
            "final_psnr": final.psnr, "final_iteration": final.iteration, "iterations": trainer.iteration,
            "parameters": param_count(trainer.cfg), "seconds": round(trainer.elapsed, 3),
            "seconds_per_iteration": round(trainer.elapsed / max(trainer.iteration, 1), 4),
            "evaluation_seconds": round(trainer.evaluation_seconds, 3),
            "batch": trainer.opts.batch, "pixels": pixels, "kind": trainer.signal.kind,
            "shape": list(trainer.shape),
            "equivalents": equivalents(trainer.iteration, pixels, trainer.opts.batch),
            "cpu": cpu_name() if trainer.opts.device == "cpu" else trainer.opts.device,
            "history": [{k: v for k, v in row._asdict().items() if k != "frames" or v is not None}
                        for row in trainer.history]}


def write(out, trainer, stop=None):
    """summary.json and metrics.csv of ``trainer``'s run in folder ``out``, then its pictures
    (an image's reconstruction, error map, comparison and expert maps; the other kinds' in
    ``_signal_pictures``) and training curves. The record comes first; once ``stop()``
    says a signal asked the run to end, the pictures left are skipped (the summary names
    them). A video's summary adds the PSNR of every frame at the last step. Returns the summary."""
    result = dict(summary(trainer), psnr_plot=figures.available())
    if trainer.signal.kind == "image":
        pictures = _pictures(out, trainer)
    else:
        recon = target_values(to_host(trainer.engine.predict_image()), trainer.signal.values.shape)
        if trainer.signal.kind == "video":
            result["frame_psnr"] = trainer.final_row().frames
        pictures = _signal_pictures(out, trainer, recon)
    write_metrics(out, trainer.history)
    write_json(os.path.join(out, folder.SUMMARY), result)
    skipped = [name for name, draw in pictures if (stop is not None and stop()) or draw()]
    if skipped:
        result["pictures_skipped"] = skipped
        write_json(os.path.join(out, folder.SUMMARY), result)
    return result


def _signal_pictures(out, trainer, recon):
    """(file name, draw()) of each picture of a sound, video or volume from its whole
    reconstruction ``recon`` in [0, 1] (shaped like the signal's values)."""
    signal, final = trainer.signal, trainer.final_row()
    target = signal.values
    rate = signal.rate or DEFAULT_RATE.get(signal.kind)

    def path(kind):
        return os.path.join(out, folder.PICTURES[kind])

    def curves():
        figures.plot_training(path("curves"), trainer.history)

    if signal.kind == "sound":
        def as_samples(v):
            return (2.0 * v - 1.0).reshape(v.shape[0], -1)
        draws = {"sound": lambda: write_wav(path("sound"), 2.0 * recon - 1.0, rate),
                 "waveforms": lambda: figures.plot_waveforms(path("waveforms"), as_samples(target), as_samples(recon),
                                                             rate, final.psnr, final.iteration)}
    elif signal.kind == "video":
        draws = {"frames": lambda: write_png(path("frames"), figures.frame_strip(target, recon)),
                 "video": lambda: write_gif(path("video"), recon, rate)}
    else:
        draws = {"slices": lambda: write_png(path("slices"), figures.volume_slices(target, recon)),
                 "volume": lambda: write_npy(path("volume"), recon.astype(np.float32))}
    draws["curves"] = curves

    def quiet(draw):
        return lambda: draw() and None
    return [(folder.PICTURES[k], quiet(f)) for k, f in draws.items()]


def _pictures(out, trainer):
    """(file name, draw()) of each picture, in the order they are drawn; draw() returns None.

    The reconstruction and the error map are streamed to their PNGs a band of rows at a
    time (``band_rows``), so a large image costs one band and its 8-bit error map; the
    comparison shows every k-th pixel of images wider than ``COMPARISON_SIDE``."""
    cfg, image, shape = trainer.cfg, trainer.signal.values, trainer.shape
    final = trainer.final_row()
    step = max(1, math.ceil(max(shape) / COMPARISON_SIDE))
    kept = {}

    def path(kind):
        return os.path.join(out, folder.PICTURES[kind])

    def reconstruction():
        rows = band_rows(shape[1], trainer.opts.chunk)
        error = np.empty(shape, np.uint8)
        small = []

        def bands():
            for k, block in enumerate(trainer.engine.predictions(rows)):
                r0 = k * rows
                recon = target_values(to_host(block), (-1,) + image.shape[1:])          # (rows, W[, C]) in [0, 1]
                error[r0:r0 + recon.shape[0]] = to_uint8(figures.error_map(recon, image[r0:r0 + recon.shape[0]]))
                small.append(recon[(-r0) % step::step, ::step])
                yield to_uint8(recon)

        write_png_bands(path("reconstruction"), image.shape, bands())
        kept["error"], kept["small"] = error, np.concatenate(small)

    def error():
        write_png_bands(path("error"), shape, [kept["error"]])

    def comparison():
        figures.plot_comparison(path("comparison"), image[::step, ::step], kept["small"], final.psnr,
                                final.iteration)

    def curves():
        figures.plot_training(path("curves"), trainer.history)

    def experts():
        alpha, beta = cfg.scales()
        shown = np.unique(np.linspace(0, cfg.layers - 1, min(cfg.layers, EXPERT_LAYERS)).round().astype(int))
        alpha, beta = alpha[shown], beta[shown]
        scale = min(1.0, EXPERT_PANEL / max(shape))           # bounded picture for large images
        maps = expert_maps(tuple(max(1, round(s * scale)) for s in shape), alpha, beta, cfg.tile,
                           scale=cfg.axis_scales())
        crops = expert_maps(shape, alpha, beta, cfg.tile, window=(EXPERT_CROP, EXPERT_CROP), scale=cfg.axis_scales())
        if not figures.plot_experts(path("experts"), maps, crops, alpha, scale, layers=list(shown + 1)):
            write_png(path("experts"), figures.expert_mosaic(maps))

    return [(folder.PICTURES[k], f) for k, f in (("reconstruction", reconstruction), ("error", error),
                                                  ("comparison", comparison), ("curves", curves),
                                                  ("experts", experts))]


def band_rows(width, chunk):
    """Rows of a band of about ``chunk`` pixels (at least one row)."""
    return max(1, chunk // width)
