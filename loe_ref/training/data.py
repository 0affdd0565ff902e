"""Signals to fit: scikit-image's bundled pictures by name, or any image file.

Targets are pixel values scaled to [-1, 1] (docs/method.md, section 6), as a (P, C) array
in the pixel order of ``grids.pixel_coords``.
"""
import hashlib
import os

import numpy as np

from ..fast.memory import check_load

#: scikit-image pictures that ship inside the package (no download), by their function name.
BUNDLED = ("astronaut", "brick", "camera", "cat", "chelsea", "checkerboard", "clock", "coffee",
           "coins", "colorwheel", "grass", "gravel", "horse", "hubble_deep_field",
           "immunohistochemistry", "logo", "microaneurysms", "moon", "page", "retina", "rocket",
           "shepp_logan_phantom", "text")


class ImageError(ValueError):
    """An image name or file that cannot be used."""


def image_size(source):
    """(height, width, channels) of an image from its header alone, or None when unknown.

    Image files are opened with Pillow, which reads the header without decoding the pixels;
    bundled pictures are small and report None.
    """
    if not os.path.exists(source):
        return None
    _regular_file(source)
    try:
        from PIL import Image
        with Image.open(source) as im:
            width, height = im.size
            return height, width, 3 if im.mode == "CMYK" else len(im.getbands())
    except Exception:
        return None          # not an image Pillow knows: the reader will say what is wrong


def _regular_file(source):
    """Refuse a path that is not a regular file (a FIFO would block the reader for ever)."""
    if not os.path.isfile(source):
        raise ImageError(f"image {source!r} is not a regular file (a folder, a pipe or a device); "
                         f"give an image file or a bundled picture")


def _pillow_mode(source):
    """Pillow's mode of the image file (e.g. "RGB", "CMYK"), or None when Pillow cannot tell."""
    try:
        from PIL import Image
        with Image.open(source) as im:
            return im.mode
    except Exception:
        return None


def load_image(source):
    """An image as float64 in [0, 1], shape (H, W) for grey or (H, W, 3) for colour.

    ``source`` is the name of a bundled scikit-image picture or a path to an image file.
    """
    if os.path.exists(source):
        _regular_file(source)
        from skimage import io
        try:
            if _pillow_mode(source) == "CMYK":          # converted as Pillow does, not read as RGBA
                from PIL import Image
                with Image.open(source) as im:
                    img = np.asarray(im.convert("RGB"))
            else:
                img = io.imread(source)
        except Exception as exc:
            reason = (str(exc).splitlines() or [""])[0].rstrip(".")
            raise ImageError(f"cannot read image file {source!r} ({type(exc).__name__}: {reason})") from None
    elif source in BUNDLED:
        from skimage import data
        img = getattr(data, source)()
    else:
        raise ImageError(f"unknown image {source!r}: not a file, and not a bundled picture "
                         f"({', '.join(BUNDLED)})")
    return _to_unit_float(np.asarray(img), source)


def _to_unit_float(img, source):
    if img.ndim == 3 and img.shape[2] in (2, 4):          # drop alpha
        img = img[..., :-1]
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3)) or min(img.shape[:2]) < 2:
        raise ImageError(f"image {source!r} has shape {img.shape}; expected (H, W) grey or (H, W, 3) RGB")
    if img.dtype == bool:
        return img.astype(np.float64)
    if np.issubdtype(img.dtype, np.integer):
        return img.astype(np.float64) / np.iinfo(img.dtype).max
    if np.issubdtype(img.dtype, np.floating):
        bad = np.argwhere(~np.isfinite(img))
        if bad.size:
            at = tuple(int(v) for v in bad[0])
            raise ImageError(f"image {source!r} has a non-finite value ({img[at]}) at pixel {at[:2]}"
                             f"{f' channel {at[2]}' if len(at) > 2 else ''}; pixel values must be finite numbers")
        return np.clip(img.astype(np.float64), 0.0, 1.0)
    raise ImageError(f"image {source!r} has unsupported pixel type {img.dtype}")


def image_fingerprint(values):
    """sha256 (hex) of an image's values as trained: the same pixels give the same text."""
    return hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()


def image_target(img):
    """(P, C) targets in [-1, 1] from an image in [0, 1] of shape (H, W) or (H, W, C)."""
    chans = 1 if img.ndim == 2 else img.shape[2]
    return (2.0 * img - 1.0).reshape(-1, chans)


def target_image(values, shape):
    """Back from (P, C) values in [-1, 1] to an image in [0, 1] of ``shape`` (clipped)."""
    img = np.clip((np.asarray(values, dtype=np.float64) + 1.0) * 0.5, 0.0, 1.0)
    return img.reshape(shape)


def prepare_image(source, size=None):
    """The image ``source`` in [0, 1], resized to ``size`` = (H, W) when given.

    The image's header is read first, and a load or resize that cannot fit in the
    available memory is refused (memory.MemoryLimitError) before any pixel is decoded.
    """
    check_load(image_size(source), tuple(size) if size else None)
    img = load_image(source)
    if size and tuple(size) != img.shape[:2]:
        from skimage.transform import resize
        img = resize(img, tuple(size) + img.shape[2:], order=1, anti_aliasing=True)
    return img
