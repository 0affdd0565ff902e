"""What a person sees while a run trains: a one-line bar on a terminal, log lines elsewhere."""
import math
import sys
import time


def _fmt_time(seconds):
    if not math.isfinite(seconds):
        return "-"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """Iteration, loss and PSNR of the latest evaluation (a dash before the first), speed
    and the estimated time left.

    The bar moves every step without waiting for the device; quiet (or not a terminal)
    prints one line per evaluation instead.
    """

    def __init__(self, total, start=0, quiet=False, stream=sys.stderr):
        self.total, self.first, self.quiet, self.stream = total, start, quiet, stream
        self.bar = not quiet and stream.isatty()
        self.start = self.drawn = time.perf_counter()
        self.loss = self.value = None

    def line(self, it, now=None):
        """The bar's text at iteration ``it``."""
        now = time.perf_counter() if now is None else now
        done = int(30 * it / self.total)
        steps = it - self.first
        rate = (now - self.start) / steps if steps > 0 else math.nan
        left = rate * (self.total - it)
        loss = "-" if self.loss is None else f"{self.loss:.3e}"
        value = "-" if self.value is None else f"{self.value:.2f}"
        speed = "-" if math.isnan(rate) else f"{rate:.2f}"
        return (f"[{'#' * done}{'.' * (30 - done)}] {it}/{self.total} loss {loss} PSNR {value} dB "
                f"{speed} s/it, {_fmt_time(left)} left")

    def tick(self, it, force=False):
        now = time.perf_counter()
        if not self.bar or (now - self.drawn < 0.2 and not force):
            return
        self.drawn = now
        self.stream.write("\r" + self.line(it, now) + " ")
        self.stream.flush()

    def update(self, it, loss, value):
        self.loss, self.value = loss, value
        self.tick(it, force=True)

    def log(self, text):
        if self.bar:
            self.stream.write("\r" + " " * 110 + "\r")
        print(text, file=self.stream if self.bar else sys.stdout, flush=True)

    def close(self):
        if self.bar:
            self.stream.write("\n")
