"""What a run writes: JSON, CSV, PNG pictures and plots, each file written atomically.

Every writer produces a temporary file in the destination folder and renames it into
place, so an interrupted run never leaves a half-written file behind.
"""
import csv
import io
import json
import os
import tempfile
from contextlib import contextmanager

import numpy as np


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path`` (same suffix); rename it to ``path`` on success."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.splitext(path)[1])
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text(path, text):
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        fh.write(text)


def write_json(path, obj):
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def write_csv(path, header, rows):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    write_text(path, buf.getvalue())


def write_png(path, img):
    """Save an image in [0, 1] (H, W) or (H, W, 3) as 8-bit PNG."""
    from skimage import io as skio
    data = np.round(np.clip(img, 0.0, 1.0) * 255.0).astype(np.uint8)
    with atomic_path(path) as tmp:
        skio.imsave(tmp, data, check_contrast=False)


def error_map(recon, target, full_scale=0.1):
    """|recon - target| averaged over channels, scaled so that ``full_scale`` is white."""
    err = np.abs(recon - target)
    if err.ndim == 3:
        err = err.mean(axis=2)
    return np.clip(err / full_scale, 0.0, 1.0)


PALETTE = np.array([[0.12, 0.47, 0.71], [1.00, 0.50, 0.05], [0.17, 0.63, 0.17], [0.84, 0.15, 0.16],
                    [0.58, 0.40, 0.74], [0.55, 0.34, 0.29], [0.89, 0.47, 0.76], [0.50, 0.50, 0.50],
                    [0.74, 0.74, 0.13], [0.09, 0.75, 0.81]])


def expert_mosaic(maps, gap=4):
    """Colour pictures of per-layer expert maps (L, H, W) side by side, white gaps between.

    Expert j gets colour j of a fixed 10-colour palette (cycled beyond 10 experts).
    """
    L, H, W = maps.shape
    out = np.ones((H, L * W + (L - 1) * gap, 3))
    for i in range(L):
        out[:, i * (W + gap):i * (W + gap) + W] = PALETTE[maps[i] % len(PALETTE)]
    return out


def plot_curves(path, curves, title="PSNR during training", xlabel="iteration"):
    """A PSNR-vs-iteration plot of ``curves`` {label: (iterations, psnr)}; False without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for label, (its, vals) in curves.items():
        ax.plot(its, vals, label=label, linewidth=1.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("PSNR (dB)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if len(curves) > 1:
        ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp)
    plt.close(fig)
    return True
