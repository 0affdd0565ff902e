"""Signals to fit: images, sounds, videos and volumes, from files or by name.

A signal is its kind, its values in [0, 1] on a regular grid of d = 1 (sound), 2 (image) or
3 (video, volume) axes, shaped like the grid for one channel and with channels last
otherwise, and its rate (samples or frames a second, where it has one). Targets are the
values scaled to [-1, 1] (docs/method.md, section 6), as a (P, C) array in the sample order
of ``grids.pixel_coords``; a sound's samples in [-1, 1] are its targets as they are.
"""
import hashlib
import os
from collections import namedtuple

import numpy as np

from ..fast.memory import check_load
from . import readers, synthetic

#: scikit-image pictures that ship inside the package (no download), by their function name.
BUNDLED = ("astronaut", "brick", "camera", "cat", "chelsea", "checkerboard", "clock", "coffee",
           "coins", "colorwheel", "grass", "gravel", "horse", "hubble_deep_field",
           "immunohistochemistry", "logo", "microaneurysms", "moon", "page", "retina", "rocket",
           "shepp_logan_phantom", "text")
#: The kinds of signal and their coordinate dims d.
KINDS = {"sound": 1, "image": 2, "video": 3, "volume": 3}
#: The largest number of channels a signal may have (a sound's; pictures have 1 or 3).
MAX_CHANNELS = 16

#: kind, values (float64 in [0, 1]: grid shape, or grid shape + (C,) for C > 1 channels), rate (or
#: None), and the grid as recorded, before any resampling (``prepare_signal``'s ``size``).
Signal = namedtuple("Signal", "kind values rate recorded")


class ImageError(ValueError):
    """A signal's name or file that cannot be used (for any kind of signal)."""


def _regular_file(source):
    """Refuse a path that is neither a regular file nor a folder (a FIFO would block the reader for ever)."""
    if not (os.path.isfile(source) or os.path.isdir(source)):
        raise ImageError(f"signal {source!r} is not a regular file (a pipe or a device); give a file, a folder "
                         f"of frames or a bundled name")


def signal_kind(source, kind=None):
    """The kind of signal ``source`` holds: ``kind`` when given, else the name's, else from the
    file's format and its header's shape (an .npy or TIFF of (N,) is a sound, (H, W[, 3]) an
    image, (D, H, W) a volume, (T, H, W, C) a video)."""
    if kind is not None:
        if kind not in KINDS:
            raise ImageError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
        return kind
    if source in synthetic.SYNTHETIC and not os.path.exists(source):
        return synthetic.SYNTHETIC[source][0]
    if not os.path.exists(source):
        return "image"
    _regular_file(source)
    fmt = readers.file_format(source)
    if fmt == "wav":
        return "sound"
    if fmt in ("frames", "av"):
        return "video"
    shape = readers.size(source, fmt)
    if shape is None or fmt == "picture":
        return "image"
    if fmt == "gif":
        return "video" if shape[0] > 1 else "image"
    if len(shape) == 1:
        return "sound"
    if len(shape) == 2 or (len(shape) == 3 and shape[2] in (3, 4)):
        return "image"
    return "volume" if len(shape) == 3 else "video"


def signal_size(source, kind):
    """(grid sizes..., channels) of the file ``source`` from its header, or None when unknown
    (bundled and made signals are small)."""
    if not os.path.exists(source):
        return None
    _regular_file(source)
    fmt = readers.file_format(source)
    shape = readers.size(source, fmt)
    if shape is None:
        return None
    d = KINDS[kind]
    if fmt == "gif" and kind == "image":
        shape = shape[1:]
    return tuple(shape[:d]) + (int(np.prod(shape[d:], dtype=np.int64)) if len(shape) > d else 1,)


def load_signal(source, kind):
    """The signal ``source`` of ``kind`` (signal_kind): a bundled picture's or a made signal's
    name, or a file or folder; values in [0, 1] as described in the module's docstring."""
    if os.path.exists(source):
        _regular_file(source)
        fmt = readers.file_format(source)
        if kind == "image" and fmt == "picture":
            values = _to_unit_float(_read_picture(source), source)
            return Signal(kind, values, None, values.shape[:2])
        try:
            raw, rate = readers.decode(source, fmt)
        except readers.ReaderError as exc:
            raise ImageError(str(exc)) from None
        if kind == "image" and fmt == "gif":
            raw = raw[0]
    elif source in synthetic.SYNTHETIC:
        made, fn = synthetic.SYNTHETIC[source]
        if made != kind:
            raise ImageError(f"{source!r} is a made {made}, not of kind {kind}; leave `kind` out or give {made}")
        raw, rate = fn()
    elif source in BUNDLED and kind == "image":
        from skimage import data
        raw, rate = getattr(data, source)(), None
    else:
        known = BUNDLED if kind == "image" else [n for n, (k, _) in synthetic.SYNTHETIC.items() if k == kind]
        raise ImageError(f"unknown {kind} {source!r}: not a file, and not a bundled {kind} ({', '.join(known)})")
    values = _unit_values(np.asarray(raw), source, kind)
    return Signal(kind, values, rate, values.shape[:KINDS[kind]])


def _read_picture(source):
    """An image file's pixels, CMYK converted as Pillow does (not read as RGBA)."""
    from skimage import io
    try:
        if _pillow_mode(source) == "CMYK":
            from PIL import Image
            with Image.open(source) as im:
                return np.asarray(im.convert("RGB"))
        return io.imread(source)
    except Exception as exc:
        reason = (str(exc).splitlines() or [""])[0].rstrip(".")
        raise ImageError(f"cannot read image file {source!r} ({type(exc).__name__}: {reason})") from None


def _pillow_mode(source):
    """Pillow's mode of the image file (e.g. "RGB", "CMYK"), or None when Pillow cannot tell."""
    try:
        from PIL import Image
        with Image.open(source) as im:
            return im.mode
    except Exception:
        return None


def load_image(source):
    """An image as float64 in [0, 1], shape (H, W) for grey or (H, W, 3) for colour."""
    return load_signal(source, "image").values


def _unit_values(raw, source, kind):
    """``raw`` samples as float64 in [0, 1] of the kind's shape; refused in one line otherwise."""
    if kind == "image":
        return _to_unit_float(raw, source)
    if kind == "sound":
        return _sound_values(raw, source)
    d = KINDS[kind]
    img = raw
    if img.ndim == d + 1 and img.shape[-1] in (2, 4):          # drop alpha
        img = img[..., :-1]
    if img.ndim == d + 1 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim not in (d, d + 1) or min(img.shape[:d]) < 2 or (img.ndim == d + 1 and img.shape[-1] != 3):
        layout = "(T, H, W) or (T, H, W, 3)" if kind == "video" else "(D, H, W)"
        raise ImageError(f"{kind} {source!r} has shape {raw.shape}; expected {layout}, every size at least 2")
    return _unit_float(img, source, kind)


def _sound_values(raw, source):
    """A sound's samples (N,) or (N, C) in [0, 1]: signed integers and floats are centred on 0
    (float samples clipped to [-1, 1]), unsigned ones on half their range, as WAV files store them."""
    s = raw[:, None] if raw.ndim == 1 else raw
    if s.ndim != 2 or s.shape[0] < 2 or not 1 <= s.shape[1] <= MAX_CHANNELS:
        raise ImageError(f"sound {source!r} has shape {raw.shape}; expected (N,) or (N, C) samples with N >= 2 "
                         f"and 1 <= C <= {MAX_CHANNELS}")
    if np.issubdtype(s.dtype, np.unsignedinteger):
        half = (np.iinfo(s.dtype).max + 1) / 2
        centred = (s.astype(np.float64) - half) / half
    elif np.issubdtype(s.dtype, np.signedinteger):
        centred = s.astype(np.float64) / (np.iinfo(s.dtype).max + 1.0)
    elif np.issubdtype(s.dtype, np.floating):
        _check_finite(raw, source, "sound")
        centred = np.clip(s.astype(np.float64), -1.0, 1.0)
    else:
        raise ImageError(f"sound {source!r} has unsupported sample type {s.dtype}")
    unit = (centred + 1.0) * 0.5
    return unit[:, 0] if unit.shape[1] == 1 else unit


def _check_finite(values, source, kind):
    bad = np.argwhere(~np.isfinite(values))
    if bad.size:
        at = tuple(int(v) for v in bad[0])
        d = KINDS[kind]
        where = f"{'pixel' if kind == 'image' else 'sample'} {at[:d]}{f' channel {at[d]}' if len(at) > d else ''}"
        raise ImageError(f"{kind} {source!r} has a non-finite value ({values[at]}) at {where}; values must be "
                         f"finite numbers")


def _unit_float(img, source, kind):
    """Samples as float64 in [0, 1]: booleans as they are, unsigned integers over their
    range, signed ones from their type's least to its greatest value, floats clipped."""
    if img.dtype == bool:
        return img.astype(np.float64)
    if np.issubdtype(img.dtype, np.unsignedinteger):
        return img.astype(np.float64) / np.iinfo(img.dtype).max
    if np.issubdtype(img.dtype, np.signedinteger):
        info = np.iinfo(img.dtype)
        return (img.astype(np.float64) - info.min) / (float(info.max) - info.min)
    if np.issubdtype(img.dtype, np.floating):
        _check_finite(img, source, kind)
        return np.clip(img.astype(np.float64), 0.0, 1.0)
    raise ImageError(f"{kind} {source!r} has unsupported value type {img.dtype}")


def _to_unit_float(img, source):
    """An image's pixels as float64 in [0, 1], (H, W) grey or (H, W, 3) RGB (alpha dropped)."""
    if img.ndim == 3 and img.shape[2] in (2, 4):          # drop alpha
        img = img[..., :-1]
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3)) or min(img.shape[:2]) < 2:
        raise ImageError(f"image {source!r} has shape {img.shape}; expected (H, W) grey or (H, W, 3) RGB")
    return _unit_float(img, source, "image")


def grid_shape(values, d):
    """The grid of a signal's ``values`` with d coordinate dims: their first d sizes."""
    return tuple(values.shape[:d])


def signal_fingerprint(values):
    """sha256 (hex) of a signal's values as trained: the same samples give the same text."""
    return hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()


def signal_target(values, d):
    """(P, C) targets in [-1, 1] from a signal's ``values`` in [0, 1] with d coordinate dims."""
    chans = 1 if values.ndim == d else values.shape[d]
    return (2.0 * values - 1.0).reshape(-1, chans)


def target_values(values, shape):
    """Back from (P, C) values in [-1, 1] to a signal's values in [0, 1] of ``shape`` (clipped)."""
    out = np.clip((np.asarray(values, dtype=np.float64) + 1.0) * 0.5, 0.0, 1.0)
    return out.reshape(shape)


def prepare_signal(source, size=None, kind=None):
    """The Signal ``source`` (of ``kind``, else signal_kind's), resampled to ``size`` (one
    size per coordinate dim of the kind: N; H W; T H W or D H W) when given.

    The file's header is read first, and a load or resampling that cannot fit in the
    available memory is refused (memory.MemoryLimitError) before any sample is decoded.
    """
    kind = signal_kind(source, kind)
    d = KINDS[kind]
    if size and len(size) != d:
        raise ImageError(f"`size` {' '.join(map(str, size))} gives {len(size)} sizes; a {kind} takes {d} "
                         f"({'N' if d == 1 else 'H W' if d == 2 else 'T H W' if kind == 'video' else 'D H W'})")
    check_load(signal_size(source, kind), tuple(size) if size else None, kind=kind)
    signal = load_signal(source, kind)
    values = signal.values
    if size and tuple(size) != grid_shape(values, d):
        from skimage.transform import resize
        channels = values.shape[d:] if kind != "sound" else values.shape[1:] or (1,)
        values = resize(values.reshape(values.shape[:d] + channels), tuple(size) + channels, order=1,
                        anti_aliasing=True)
        values = values[..., 0] if kind == "sound" and values.shape[-1] == 1 else values
        rate = signal.rate * size[0] / signal.values.shape[0] if signal.rate and kind in ("sound", "video") else \
            signal.rate
        signal = Signal(kind, values, rate, signal.recorded)
    return signal
