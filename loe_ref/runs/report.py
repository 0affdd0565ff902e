"""A run's record and pictures: metrics.csv, summary.json and the PNGs of its folder.

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
from ..training.data import target_image
from ..training.recipes import equivalents
from . import figures, folder
from .files import to_uint8, write_csv, write_json, write_png, write_png_bands

# Side of the zoomed crop of experts.png, in image pixels.
EXPERT_CROP = 64



def write_metrics(out, history):
    """metrics.csv: one row per evaluation (iteration, loss, PSNR, seconds)."""
    write_csv(os.path.join(out, folder.METRICS), ["iteration", "loss", "psnr", "seconds"], history)


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
            "batch": trainer.opts.batch, "pixels": pixels,
            "equivalents": equivalents(trainer.iteration, pixels, trainer.opts.batch),
            "cpu": cpu_name() if trainer.opts.device == "cpu" else trainer.opts.device,
            "history": [row._asdict() for row in trainer.history]}


def write(out, trainer, stop=None):
    """summary.json and metrics.csv of ``trainer``'s run in folder ``out``, then its pictures:
    reconstruction, error map, comparison, training curves and expert maps. The record comes
    first; once ``stop()`` says a signal asked the run to end, the pictures left are skipped
    (the summary names them). Returns the summary."""
    result = dict(summary(trainer), psnr_plot=figures.available())
    write_metrics(out, trainer.history)
    write_json(os.path.join(out, folder.SUMMARY), result)
    skipped = [name for name, draw in _pictures(out, trainer) if (stop is not None and stop()) or draw()]
    if skipped:
        result["pictures_skipped"] = skipped
        write_json(os.path.join(out, folder.SUMMARY), result)
    return result


def _pictures(out, trainer):
    """(file name, draw()) of each picture, in the order they are drawn; draw() returns None.

    The reconstruction and the error map are streamed to their PNGs a band of rows at a
    time (``band_rows``), so a large image costs one band and its 8-bit error map; the
    comparison shows every k-th pixel of images wider than ``COMPARISON_SIDE``."""
    cfg, image, shape = trainer.cfg, trainer.image, trainer.image.shape[:2]
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
                recon = target_image(to_host(block), (-1,) + image.shape[1:])          # (rows, W[, C]) in [0, 1]
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
        maps = expert_maps(tuple(max(1, round(s * scale)) for s in shape), alpha, beta, cfg.tile)
        crops = expert_maps(shape, alpha, beta, cfg.tile, window=(EXPERT_CROP, EXPERT_CROP))
        if not figures.plot_experts(path("experts"), maps, crops, alpha, scale, layers=list(shown + 1)):
            write_png(path("experts"), figures.expert_mosaic(maps))

    return [(folder.PICTURES[k], f) for k, f in (("reconstruction", reconstruction), ("error", error),
                                                  ("comparison", comparison), ("curves", curves),
                                                  ("experts", experts))]


def band_rows(width, chunk):
    """Rows of a band of about ``chunk`` pixels (at least one row)."""
    return max(1, chunk // width)
