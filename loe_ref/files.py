"""Files written atomically: text, JSON, CSV and PNG.

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
        os.chmod(tmp, 0o666 & ~_umask())           # mkstemp makes 0600; give the user's usual mode
        os.replace(tmp, path)
    except OSError as exc:
        if exc.filename is None:                  # name the file (a full disk does not)
            raise OSError(exc.errno, f"{exc.strerror or exc} while writing {os.fspath(path)!r}") from None
        raise
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
