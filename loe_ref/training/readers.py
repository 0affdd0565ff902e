"""Signal files by format: each format's size from its header alone, and its samples decoded.

``size(path, fmt)`` reads no sample, so memory can be checked before decoding (data.py);
``decode(path, fmt)`` returns the raw samples (their file's dtype) and the rate (samples
or frames a second, None where the file has none). Formats: "wav" (sound), "gif" and
"frames" (a folder of numbered pictures) and "av" (MP4 and other containers, through the
optional PyAV) for video, "tiff" (multi-page: a volume or a video), "npy" (any kind), and
"picture" (any single image Pillow or scikit-image reads).
"""
import math
import os
import re
import warnings

import numpy as np

#: Picture files a folder of frames may hold.
FRAME_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp")
#: Containers read through PyAV.
AV_EXTENSIONS = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")


class ReaderError(ValueError):
    """A file that cannot be read as the signal it is taken for."""


def file_format(path):
    """The format of ``path``: from its extension, "frames" for a folder."""
    if os.path.isdir(path):
        return "frames"
    ext = os.path.splitext(path)[1].lower()
    return {".wav": "wav", ".gif": "gif", ".tif": "tiff", ".tiff": "tiff", ".npy": "npy"}.get(
        ext, "av" if ext in AV_EXTENSIONS else "picture")


def frame_files(folder):
    """The picture files of ``folder`` in the order of the last number in their names."""
    names = [n for n in os.listdir(folder) if os.path.splitext(n)[1].lower() in FRAME_EXTENSIONS]
    numbered = [(int(m[-1]), n) for n in names if (m := re.findall(r"\d+", n))]
    if len(numbered) < 2 or len(numbered) != len(names):
        raise ReaderError(f"folder {folder!r} holds {len(numbered)} numbered pictures and {len(names) - len(numbered)} "
                          f"others; a video as frames is a folder of at least two pictures numbered in order "
                          f"(frame_001.png, frame_002.png, ...)")
    return [os.path.join(folder, n) for _, n in sorted(numbered)]


def size(path, fmt):
    """The raw shape of the samples of ``path`` (e.g. (N, C), (T, H, W, C)) from headers only,
    or None when the header does not tell."""
    try:
        if fmt == "wav":
            from scipy.io import wavfile
            return wavfile.read(path, mmap=True)[1].shape
        if fmt == "npy":
            with open(path, "rb") as fh:
                version = np.lib.format.read_magic(fh)
                read = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                    np.lib.format.read_array_header_2_0
                return read(fh)[0]
        if fmt == "tiff":
            import tifffile
            with tifffile.TiffFile(path) as tif:
                return tuple(tif.series[0].shape)
        if fmt == "av":
            av = _pyav(path)
            with av.open(path) as container:
                stream = container.streams.video[0]
                frames = stream_frames(stream, container.duration)
                return (frames, stream.height, stream.width, 3) if frames else None
        if fmt in ("gif", "frames", "picture"):
            from PIL import Image
            files = frame_files(path) if fmt == "frames" else [path]
            with Image.open(files[0]) as im:
                width, height = im.size
                bands = 3 if im.mode in ("CMYK", "P") else len(im.getbands())
                frames = len(files) if fmt == "frames" else getattr(im, "n_frames", 1)
            return ((frames,) if frames > 1 or fmt != "picture" else ()) + (height, width, bands)
    except ReaderError:
        raise
    except Exception:
        return None            # the decoder will say what is wrong
    return None


def stream_frames(stream, container_duration):
    """A video stream's frame count: its header's, else its duration (the stream's, else the
    container's, in microseconds) times its frame rate, rounded up; None when neither tells."""
    if stream.frames:
        return int(stream.frames)
    rate = stream.average_rate or stream.guessed_rate
    if stream.duration and stream.time_base:
        seconds = float(stream.duration * stream.time_base)
    else:
        seconds = container_duration / 1e6 if container_duration else None
    return math.ceil(seconds * float(rate)) if rate and seconds else None


def decode(path, fmt):
    """(raw samples, rate) of ``path``: the file's own dtype; sounds (N, C), videos (T, H, W[, C])."""
    try:
        if fmt == "wav":
            from scipy.io import wavfile
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                rate, samples = wavfile.read(path)
            short = [str(w.message) for w in caught if "EOF" in str(w.message)]
            if short:
                raise ReaderError(f"{path!r} is cut short: {short[0].rstrip('.')}")
            return (samples[:, None] if samples.ndim == 1 else samples), float(rate)
        if fmt == "npy":
            return np.load(path, allow_pickle=False), None
        if fmt == "tiff":
            import tifffile
            return tifffile.imread(path), None
        if fmt == "gif":
            return _gif(path)
        if fmt == "frames":
            from PIL import Image
            frames = []
            for f in frame_files(path):
                with Image.open(f) as im:
                    frames.append(np.asarray(im.convert("RGB") if im.mode in ("P", "CMYK") else im))
            if len({f.shape for f in frames}) > 1:
                raise ReaderError(f"the frames of {path!r} differ in size or channels "
                                  f"({sorted({f.shape for f in frames})[:3]}); every frame must match")
            return np.stack(frames), None
        if fmt == "av":
            return _av(path)
    except ReaderError:
        raise
    except Exception as exc:
        reason = (str(exc).splitlines() or [""])[0].rstrip(".")
        raise ReaderError(f"cannot read {path!r} ({type(exc).__name__}: {reason})") from None
    raise ReaderError(f"cannot read {path!r} as {fmt}")


def _gif(path):
    from PIL import Image, ImageSequence
    with Image.open(path) as im:
        frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
        duration = im.info.get("duration")
    return np.stack(frames), (1000.0 / duration if duration else None)


def _pyav(path):
    """PyAV's module, or a ReaderError naming the install command where it is missing."""
    try:
        import av
    except ImportError:
        raise ReaderError(f"reading {os.path.splitext(path)[1]} video needs PyAV, which is not installed: "
                          f"pip install av (or give the frames as a folder, a GIF or an .npy array)") from None
    return av


def _av(path):
    _pyav(path)
    import imageio.v3 as iio
    frames = iio.imread(path, plugin="pyav")
    meta = iio.immeta(path, plugin="pyav")
    return frames, meta.get("fps")
