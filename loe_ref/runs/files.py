"""Files written atomically: text, JSON, CSV, PNG (streamed in bands), WAV, GIF and NPY.

Every writer produces a temporary file in the destination folder and renames it into
place, so an interrupted run never leaves a half-written file behind.
"""
import csv
import io
import json
import math
import os
import re
import struct
import tempfile
import wave
import zlib
from contextlib import contextmanager

import numpy as np

#: Temporaries are named .loe_ref-tmp-<pid>-<8 random characters><suffix> (``is_temporary``):
#: the pid tells whose they are, and no file loe_ref did not write has such a name.
TMP_PREFIX = ".loe_ref-tmp-"
_TEMPORARY = re.compile(re.escape(TMP_PREFIX) + r"(\d+)-[a-z0-9_]{8}(\.[A-Za-z0-9]+)?")


def is_temporary(name):
    """The writer's pid when ``name`` is one of loe_ref's temporaries, else None."""
    match = _TEMPORARY.fullmatch(name)
    return int(match.group(1)) if match else None


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path`` (same suffix); rename it to ``path`` on success.

    As durable writers do, the temporary's data reach the disk (fsync) before the rename,
    and the folder's entry after it, so a power cut leaves the old file or the new one,
    never an empty one. loe_ref's own temporaries that processes no longer alive left in
    that folder (a SIGKILL, a power cut) are removed first; no other file is touched.
    """
    folder = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(folder, exist_ok=True)
    remove_stale_temporaries(folder)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{TMP_PREFIX}{os.getpid()}-", suffix=os.path.splitext(path)[1])
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())           # mkstemp makes 0600; give the user's usual mode
        _fsync(tmp, os.O_RDONLY)
        os.replace(tmp, path)
        _fsync(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        if exc.filename is None:                  # name the file (a full disk does not)
            raise OSError(exc.errno, f"{exc.strerror or exc} while writing {os.fspath(path)!r}") from None
        raise
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _fsync(path, flags):
    """Flush ``path`` (a file, or a folder's entries) to the disk; a folder that cannot be
    opened for it (not POSIX) is left to the system."""
    try:
        fd = os.open(path, flags)
    except OSError:
        if os.path.isdir(path):
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not os.path.isdir(path):
            raise
    finally:
        os.close(fd)


def remove_stale_temporaries(folder, everyone=False):
    """Remove loe_ref's temporaries in ``folder`` whose writer process has ended (all of
    them with ``everyone``, under a folder's lock); no other file is touched."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        pid = is_temporary(name)
        if pid is None or (not everyone and _alive(pid)):
            continue
        try:
            os.remove(os.path.join(folder, name))
        except OSError:
            pass


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True                              # someone else's process
    return True


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path, text):
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        fh.write(text)


def write_json(path, obj):
    """Strict JSON: a value that is not a finite number (a PSNR before any evaluation, an
    infinite PSNR) is written as null, never as NaN or Infinity."""
    write_text(path, json.dumps(_finite(obj), indent=2, sort_keys=True, allow_nan=False) + "\n")


def _finite(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def write_csv(path, header, rows):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    write_text(path, buf.getvalue())


def write_bytes(path, data):
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)


def to_uint8(img):
    """An image in [0, 1] as 8-bit values: round(clip(img, 0, 1) 255)."""
    return np.round(np.clip(img, 0.0, 1.0) * 255.0).astype(np.uint8)


def write_png(path, img):
    """Save an image in [0, 1], (H, W) or (H, W, 3), as an 8-bit PNG (``write_png_bands``)."""
    write_png_bands(path, img.shape, [to_uint8(img)])


def write_png_bands(path, shape, bands):
    """Write a PNG of ``shape`` = (H, W) grey or (H, W, 3) RGB from ``bands``, 8-bit arrays of
    whole rows in order, compressed as they come: a picture of any size costs the memory of
    one band (the format: W3C PNG, 2nd edition; every scanline with filter type 0).

    A write that fails (a full disk) is one OSError naming the file, and leaves no file.
    """
    height, width = int(shape[0]), int(shape[1])
    colour = 0 if len(shape) == 2 else 2
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n")
        _png_chunk(fh, b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))
        packer, rows = zlib.compressobj(6), 0
        for band in bands:
            band = np.ascontiguousarray(band, dtype=np.uint8).reshape(-1, width * (1 if colour == 0 else 3))
            rows += band.shape[0]
            data = packer.compress(np.concatenate([np.zeros((band.shape[0], 1), np.uint8), band], axis=1).tobytes())
            if data:
                _png_chunk(fh, b"IDAT", data)
        if rows != height:
            raise ValueError(f"a PNG of {height} rows was given {rows}")
        _png_chunk(fh, b"IDAT", packer.flush())
        _png_chunk(fh, b"IEND", b"")


def _png_chunk(fh, kind, data):
    fh.write(struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data)))


def write_wav(path, samples, rate):
    """Save a sound's samples in [-1, 1], (N,) or (N, C), as 16-bit PCM WAV at ``rate`` samples
    a second (rounded to a whole number, as the format stores it)."""
    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with atomic_path(path) as tmp, wave.open(tmp, "wb") as fh:
        fh.setnchannels(1 if pcm.ndim == 1 else pcm.shape[1])
        fh.setsampwidth(2)
        fh.setframerate(max(1, round(rate)))
        fh.writeframes(pcm.tobytes())


def write_gif(path, frames, rate):
    """Save a video's frames in [0, 1], (T, H, W) or (T, H, W, 3), as a looping GIF at
    ``rate`` frames a second (GIF counts in hundredths of a second); colour frames take
    Pillow's adaptive palette of 256 colours."""
    from PIL import Image
    pictures = [Image.fromarray(to_uint8(f)) for f in frames]
    if frames.ndim == 4:
        pictures = [p.quantize(256) for p in pictures]
    with atomic_path(path) as tmp:
        pictures[0].save(tmp, format="GIF", save_all=True, append_images=pictures[1:], loop=0,
                         duration=max(20, round(1000 / rate / 10) * 10))


def write_npy(path, array):
    with atomic_path(path) as tmp:
        np.save(tmp, array, allow_pickle=False)
