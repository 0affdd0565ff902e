"""The signals that end a run, caught so that the last good state is kept.

docs/runs.md. Ctrl-C, SIGTERM and SIGHUP only ask the training loop to stop after its
step, so the checkpoint and summary always describe one whole step; work with no step to
finish (a render) is interrupted so that its temporary file is removed on the way out.
"""
import signal
import threading


class _Handlers:
    """Installs ``self._handle`` for SIGINT, SIGTERM and SIGHUP within the block (main thread
    only), and restores the previous handlers after it. A signal the process inherited as
    ignored (nohup's SIGHUP) stays ignored."""
    SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")

    def __enter__(self):
        self.previous = {}
        if threading.current_thread() is threading.main_thread():
            for name in self.SIGNALS:
                sig = getattr(signal, name, None)
                if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
                    self.previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


class StopSignals(_Handlers):
    """Within the block, SIGINT, SIGTERM and SIGHUP ask to stop instead of killing.

    ``requested`` is the first signal's number (None until one comes); the training loop
    stops after the step in progress. A second signal aborts at once with
    KeyboardInterrupt, which still removes temporary files on its way out.
    ``exit_code`` is the shell's convention, 128 + the signal number.
    """

    def __init__(self, on_first=None):
        self.requested, self.on_first = None, on_first

    def _handle(self, signum, frame):
        if self.requested is not None:
            raise KeyboardInterrupt
        self.requested = signum
        if self.on_first:
            self.on_first(signal.Signals(signum).name)

    @property
    def exit_code(self):
        return 0 if self.requested is None else 128 + int(self.requested)


class InterruptSignals(_Handlers):
    """Within the block, SIGTERM and SIGHUP interrupt like Ctrl-C (KeyboardInterrupt), so
    the temporary file of a write in progress is removed on the way out (for work that has
    no step to finish, such as a render). ``received``: the signal's number, or None."""

    def __init__(self):
        self.received = None

    def _handle(self, signum, frame):
        self.received = signum
        raise KeyboardInterrupt
