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


#: Temporaries are named .tmp-<pid>-<random><suffix>: the pid tells whose they are.
TMP_PREFIX = ".tmp-"


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path`` (same suffix); rename it to ``path`` on success.

    The temporaries that processes no longer alive left in that folder (a SIGKILL, a power
    cut) are removed first.
    """
    folder = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(folder, exist_ok=True)
    remove_stale_temporaries(folder)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{TMP_PREFIX}{os.getpid()}-", suffix=os.path.splitext(path)[1])
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


def remove_stale_temporaries(folder):
    """Remove the temporaries in ``folder`` whose writer process has ended."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        pid = name[len(TMP_PREFIX):].split("-", 1)[0]
        if not name.startswith(TMP_PREFIX) or not pid.isdigit() or _alive(int(pid)):
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
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def write_csv(path, header, rows):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    write_text(path, buf.getvalue())


def write_bytes(path, data):
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)


def write_png(path, img):
    """Save an image in [0, 1] (H, W) or (H, W, 3) as 8-bit PNG.

    The PNG is encoded in memory and written as bytes, so a failed write (a full disk) is
    one OSError naming the file, never an encoder's half-closed stream.
    """
    import imageio.v3 as iio
    data = np.round(np.clip(img, 0.0, 1.0) * 255.0).astype(np.uint8)
    write_bytes(path, iio.imwrite("<bytes>", data, extension=".png"))
