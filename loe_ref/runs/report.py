"""A run's record and pictures: metrics.csv, summary.json and the PNGs of its folder.

summary.json is the run's result as the scripts read it: the peak and final PSNR, the
time (``seconds`` of training, evaluations included, and ``evaluation_seconds`` of them), the CPU, the budget (batch, pixels, full-image equivalents) and the whole history
of evaluations. metrics.csv holds the same history, rewritten at every evaluation, so a
run in progress can be followed.
"""
import os

from ..backend import to_host
from ..fast.cpu import cpu_name
from ..grids import expert_maps
from ..network import param_count
from ..training.data import target_image
from ..training.recipes import equivalents
from . import figures, folder
from .files import write_csv, write_json, write_png

# Largest side of one layer's panel in experts.png; larger images are sampled at this size.
EXPERT_PANEL = 512
# Side of the zoomed crop of experts.png, in image pixels.
EXPERT_CROP = 64


def write_metrics(out, history):
    """metrics.csv: one row per evaluation (iteration, loss, PSNR, seconds)."""
    write_csv(os.path.join(out, folder.METRICS), ["iteration", "loss", "psnr", "seconds"], history)


def summary(trainer):
    """The run's result as a JSON-ready dict."""
    final = trainer.final_row()
    pixels = int(trainer.target.shape[0])
    return {"peak_psnr": trainer.best[0], "peak_iteration": trainer.best[1],
            "final_psnr": final.psnr, "final_iteration": final.iteration, "iterations": trainer.iteration,
            "parameters": param_count(trainer.cfg), "seconds": round(trainer.elapsed, 3),
            "seconds_per_iteration": round(trainer.elapsed / max(trainer.iteration, 1), 4),
            "evaluation_seconds": round(trainer.evaluation_seconds, 3),
            "batch": trainer.opts.batch, "pixels": pixels,
            "equivalents": equivalents(trainer.iteration, pixels, trainer.opts.batch),
            "cpu": cpu_name() if trainer.opts.device == "cpu" else trainer.opts.device,
            "history": [row._asdict() for row in trainer.history]}


def write(out, trainer):
    """Reconstruction, error map, comparison, training curves, expert maps and summary.json
    of ``trainer``'s run in folder ``out``; returns the summary."""
    cfg, image, shape = trainer.cfg, trainer.image, trainer.image.shape[:2]
    recon = target_image(to_host(trainer.predict_image()), image.shape)
    final = trainer.final_row()
    write_png(os.path.join(out, folder.PICTURES["reconstruction"]), recon)
    write_png(os.path.join(out, folder.PICTURES["error"]), figures.error_map(recon, image))
    figures.plot_comparison(os.path.join(out, folder.PICTURES["comparison"]), image, recon, final.psnr, final.iteration)
    curve = figures.plot_training(os.path.join(out, folder.PICTURES["curves"]), trainer.history)
    alpha, beta = cfg.scales()
    scale = min(1.0, EXPERT_PANEL / max(shape))           # bounded picture for large images
    maps = expert_maps(tuple(max(1, round(s * scale)) for s in shape), alpha, beta, cfg.tile)
    crops = expert_maps(shape, alpha, beta, cfg.tile, window=(EXPERT_CROP, EXPERT_CROP))
    if not figures.plot_experts(os.path.join(out, folder.PICTURES["experts"]), maps, crops, alpha, scale):
        write_png(os.path.join(out, folder.PICTURES["experts"]), figures.expert_mosaic(maps))
    result = dict(summary(trainer), psnr_plot=curve)
    write_json(os.path.join(out, folder.SUMMARY), result)
    return result

