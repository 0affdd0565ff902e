"""A run's pictures: error map, comparison, training curves and expert maps of an image; the
waveforms of a sound, a strip of a video's frames and a volume's orthogonal slices.

matplotlib is optional: every plot returns False where it is not installed (the caller
then writes a plain PNG where one is needed). Files are written atomically (files.py).
"""
import io

import numpy as np

from .files import write_bytes


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


def available():
    """True where matplotlib is installed (the plots are drawn)."""
    return _pyplot() is not None


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend, or None where it is not installed."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _save(fig, path):
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    write_bytes(path, buf.getvalue())


def plot_comparison(path, target, recon, psnr_db, iteration, full_scale=0.1):
    """Target, reconstruction and |error| side by side, the error with its colour bar.

    Images in [0, 1], (H, W) or (H, W, 3). False without matplotlib.
    """
    plt = _pyplot()
    if plt is None:
        return False
    err = np.abs(recon - target)
    err = err.mean(axis=2) if err.ndim == 3 else err
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.4), dpi=110)
    grey = {"cmap": "gray", "vmin": 0, "vmax": 1} if target.ndim == 2 else {}
    for ax, img, name in zip(axes, (target, recon, err), ("target", "reconstruction", "|error|")):
        shown = ax.imshow(img, interpolation="nearest", **(grey if name != "|error|" else
                                                            {"cmap": "magma", "vmin": 0, "vmax": full_scale}))
        ax.set_title(name)
        ax.set_axis_off()
    bar = fig.colorbar(shown, ax=axes[2], fraction=0.046, pad=0.04)
    bar.set_label(f"absolute error on the [0, 1] scale (clipped at {full_scale:g})")
    fig.suptitle(f"PSNR {psnr_db:.2f} dB at iteration {iteration}")
    _save(fig, path)
    return True


def plot_experts(path, maps, crops, alpha, scale, layers=None):
    """Each layer's expert map (top) and a zoomed crop of its top-left pixels (bottom).

    maps (L, h, w): the whole image sampled at ``scale`` panel pixels per image pixel;
    crops (L, ch, cw): the top-left ch x cw image pixels at full resolution, marked by a
    box on the whole view (the finest layers alias at panel size); ``layers``: the numbers
    (1-based) of the L layers shown, 1..L by default. False without matplotlib.
    """
    plt = _pyplot()
    if plt is None:
        return False
    L, ch, cw = crops.shape
    layers = range(1, L + 1) if layers is None else layers
    fig, axes = plt.subplots(2, L, figsize=(1.9 * L, 4.6), dpi=110, squeeze=False)
    for i in range(L):
        top, bottom = axes[0, i], axes[1, i]
        top.imshow(PALETTE[maps[i] % len(PALETTE)], interpolation="nearest")
        top.add_patch(plt.Rectangle((-0.5, -0.5), cw * scale, ch * scale, fill=False, ec="black", lw=1.2))
        top.set_title(f"layer {layers[i]}, alpha {alpha[i]:g}", fontsize=8)
        bottom.imshow(PALETTE[crops[i] % len(PALETTE)], interpolation="nearest")
        bottom.set_title(f"top-left {ch} x {cw} px", fontsize=7)
        for ax in (top, bottom):
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle("expert of every pixel, layer by layer (colour = expert index; box = zoomed crop)", fontsize=9)
    fig.tight_layout()
    _save(fig, path)
    return True


def plot_training(path, history):
    """PSNR and training loss against the iteration, from rows (iteration, loss, psnr, seconds)."""
    plt = _pyplot()
    if plt is None:
        return False
    its = [r[0] for r in history]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    ax.plot(its, [r[2] for r in history], color="tab:blue", linewidth=1.2, label="PSNR (whole image)")
    ax.set_xlabel("iteration")
    ax.set_ylabel("PSNR (dB)", color="tab:blue")
    ax.grid(alpha=0.3)
    loss_ax = ax.twinx()
    loss_ax.plot(its, [r[1] for r in history], color="tab:orange", linewidth=1.0, label="training loss (batch MSE)")
    loss_ax.set_yscale("log")
    loss_ax.set_ylabel("training loss (MSE on [-1, 1])", color="tab:orange")
    ax.set_title("PSNR and training loss")
    fig.legend(loc="lower center", ncol=2, fontsize=8)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    _save(fig, path)
    return True


def plot_curves(path, curves, title="PSNR during training", xlabel="iteration"):
    """A PSNR-vs-iteration plot of ``curves`` {label: (iterations, psnr)}; False without matplotlib."""
    plt = _pyplot()
    if plt is None:
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
    _save(fig, path)
    return True


def _mosaic(rows, gap=4):
    """Pictures in [0, 1] (h, w) or (h, w, 3) laid out in rows on white, gaps between; every
    picture is padded on white to the largest height and width."""
    colour = any(p.ndim == 3 for row in rows for p in row)
    h = max(p.shape[0] for row in rows for p in row)
    w = max(p.shape[1] for row in rows for p in row)
    cols = max(len(row) for row in rows)
    out = np.ones((len(rows) * (h + gap) - gap, cols * (w + gap) - gap) + ((3,) if colour else ()))
    for r, row in enumerate(rows):
        for c, p in enumerate(row):
            p = np.repeat(p[..., None], 3, axis=2) if colour and p.ndim == 2 else p
            out[r * (h + gap):r * (h + gap) + p.shape[0], c * (w + gap):c * (w + gap) + p.shape[1]] = p
    return out


def frame_strip(target, recon, count=8):
    """A video's target (top), reconstruction (middle) and error map (bottom) at ``count``
    evenly spaced frames, as one picture in [0, 1]; frames (T, H, W[, 3]) in [0, 1]."""
    shown = np.unique(np.linspace(0, target.shape[0] - 1, min(count, target.shape[0])).round().astype(int))
    return _mosaic([[target[k] for k in shown], [recon[k] for k in shown],
                    [error_map(recon[k], target[k]) for k in shown]])


def volume_slices(target, recon):
    """A volume's mid-slices across each of its three axes (columns), target, reconstruction
    and error map (rows), as one picture in [0, 1]; volumes (D, H, W[, 3]) in [0, 1]."""
    def mids(v):
        return [np.take(v, v.shape[k] // 2, axis=k) for k in range(3)]
    return _mosaic([mids(target), mids(recon), [error_map(r, t) for r, t in zip(mids(recon), mids(target))]])


def plot_waveforms(path, target, recon, rate, psnr_db, iteration, window=0.02):
    """A sound's target and reconstruction overlaid with their error below, whole (left) and
    in a ``window`` of seconds around the middle (right); samples (N, C) in [-1, 1], the
    first channel shown. False without matplotlib."""
    plt = _pyplot()
    if plt is None:
        return False
    t = np.arange(target.shape[0]) / rate
    half = max(2, int(window * rate) // 2)
    mid = target.shape[0] // 2
    zoom = slice(max(0, mid - half), mid + half)
    fig, axes = plt.subplots(2, 2, figsize=(12, 5.5), dpi=110, sharex="col",
                             gridspec_kw={"height_ratios": (2, 1)})
    for col, part in enumerate((slice(None), zoom)):
        top, bottom = axes[0, col], axes[1, col]
        top.plot(t[part], target[part, 0], color="black", linewidth=0.8, label="target")
        top.plot(t[part], recon[part, 0], color="tab:blue", linewidth=0.8, alpha=0.8, label="reconstruction")
        bottom.plot(t[part], recon[part, 0] - target[part, 0], color="tab:red", linewidth=0.8)
        top.set_title("whole sound" if col == 0 else f"{1000 * (zoom.stop - zoom.start) / rate:.0f} ms around the "
                      f"middle", fontsize=9)
        bottom.set_xlabel("time (s)")
        top.grid(alpha=0.3)
        bottom.grid(alpha=0.3)
    axes[0, 0].set_ylabel("sample")
    axes[1, 0].set_ylabel("error")
    axes[0, 0].legend(fontsize=8, loc="upper right")
    fig.suptitle(f"PSNR {psnr_db:.2f} dB at iteration {iteration} (channel 1 of {target.shape[1]})")
    fig.tight_layout()
    _save(fig, path)
    return True
