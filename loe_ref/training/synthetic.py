"""Signals made inside the package, for the kinds that scikit-image ships no file of: a sound,
a video and a volume, each a fixed function of nothing (no download, no random draw).

Each returns samples as its kind's files hold them (data.py: a sound's centred on 0 in
[-1, 1], pictures' in [0, 1]) and its rate (samples or frames a second; None for a volume).
"""
import numpy as np


def chirp(seconds=1.5, rate=16000):
    """A sound: a chirp rising from 220 to 1760 Hz with its third harmonic, under three
    decaying notes' envelopes (onsets 0, 0.5, 1 s), peaking at 0.9. (N,) at ``rate``."""
    t = np.arange(int(seconds * rate)) / rate
    f0, f1 = 220.0, 1760.0
    phase = 2 * np.pi * f0 * seconds / np.log(f1 / f0) * (np.exp(np.log(f1 / f0) * t / seconds) - 1)
    envelope = sum(np.where(t >= s, np.exp(-4.0 * (t - s)), 0.0) for s in (0.0, 0.5, 1.0))
    wave = envelope * (np.sin(phase) + 0.3 * np.sin(3 * phase))
    return 0.9 * wave / np.abs(wave).max(), rate


def astronaut_pan(frames=32, side=128, rate=12):
    """A video: a camera path across scikit-image's ``astronaut`` (512 x 512), a window of
    256 x 256 pixels moving diagonally by 8 pixels a frame, each frame reduced 2 x 2 to
    ``side`` (128). (T, side, side, 3)."""
    from skimage import data
    img = data.astronaut().astype(np.float64) / 255.0
    window, step = 2 * side, 8
    if window + step * (frames - 1) > img.shape[0]:
        raise ValueError(f"astronaut_pan: {frames} frames of {side} pixels leave the 512 x 512 picture")
    out = np.empty((frames, side, side, 3))
    for k in range(frames):
        crop = img[k * step:k * step + window, k * step:k * step + window]
        out[k] = crop.reshape(side, 2, side, 2, 3).mean(axis=(1, 3))
    return out, rate


#: The ellipsoids of ``ellipsoids``: centre (z, y, x), semi-axes, rotation about z (radians), value added.
ELLIPSOIDS = (((0.0, 0.0, 0.0), (0.9, 0.8, 0.65), 0.0, 0.8),
              ((0.0, -0.02, 0.0), (0.85, 0.75, 0.6), 0.0, -0.6),
              ((0.1, 0.0, 0.25), (0.25, 0.3, 0.12), 0.35, 0.5),
              ((-0.1, 0.0, -0.25), (0.3, 0.35, 0.15), -0.35, 0.4),
              ((0.35, 0.35, 0.0), (0.2, 0.06, 0.06), 0.0, 0.6),
              ((-0.3, -0.4, 0.1), (0.1, 0.1, 0.1), 0.0, 0.5),
              ((0.0, 0.45, -0.2), (0.08, 0.05, 0.05), 0.8, -0.3))


def ellipsoids(side=64):
    """A volume: a three-dimensional phantom of overlapping ellipsoids (in the manner of
    Shepp and Logan's), clipped to [0, 1]. (side, side, side)."""
    axis = (np.arange(side) + 0.5) / side * 2 - 1
    z, y, x = np.meshgrid(axis, axis, axis, indexing="ij")
    vol = np.zeros((side,) * 3)
    for (cz, cy, cx), (az, ay, ax), rot, value in ELLIPSOIDS:
        c, s = np.cos(rot), np.sin(rot)
        u, v = c * (x - cx) + s * (y - cy), -s * (x - cx) + c * (y - cy)
        vol += value * (((z - cz) / az) ** 2 + (v / ay) ** 2 + (u / ax) ** 2 <= 1.0)
    return np.clip(vol, 0.0, 1.0), None


#: The signals made here, by name: (kind, function).
SYNTHETIC = {"chirp": ("sound", chirp), "astronaut_pan": ("video", astronaut_pan), "ellipsoids": ("volume", ellipsoids)}
