"""Worker processes for the CPU: the subtrees of a batch's shards computed in parallel.

docs/fast.md, "Worker processes". Python threads could not share this work: a shard makes a few
hundred NumPy calls, and two threads handing the interpreter lock to each other at every
call ran 1.2 x faster than one thread instead of 2 x (docs/performance.md, "The training
step against its floor").
So the training loop forks ``count - 1`` processes that share the parameters' memory.
Each step the parent writes the batch into shared arrays and every process (the parent
included) sums one subtree of the shard tree (shards.py); the parent adds the subtrees
along the same tree, so the numbers equal one process's bit for bit. Evaluations over a
cached pixel grid are split the same way.

Linux/POSIX only (``os.fork``); elsewhere, or with one usable CPU, nothing is forked.
A worker ignores the signals that stop a run (the parent stops it) and exits when the
parent's end of its pipe closes, however the parent ends.
"""
import ctypes
import math
import mmap
import os
import select
import signal
import time
import weakref

import numpy as np

from . import shards
from .flat import flat_views


class WorkerError(RuntimeError):
    """A worker process ended, failed, stopped or hung, so the step's gradient is incomplete."""


#: Seconds between checks on the workers while the parent waits for their replies.
POLL_SECONDS = 0.2
#: Seconds the workers may still take to finish a command once a signal asked the run to end.
STOP_GRACE = 5.0


def _is_stopped(pid):
    """True when process ``pid`` is stopped (state T or t in /proc/<pid>/stat; Linux only)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("T", "t")
    except (OSError, IndexError):
        return False


#: The parent's ends of every live worker's pipes, closed in each new worker after the fork.
_PARENT_FDS = set()


def _die_with_parent():
    """Ask Linux to end this worker when its parent ends (prctl PR_SET_PDEATHSIG), if it can."""
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def shared_array(shape, dtype):
    """A zeroed array in anonymous shared memory: writes on either side of a fork are seen by both."""
    dtype = np.dtype(dtype)
    nbytes = max(int(np.prod(shape)) * dtype.itemsize, 1)
    return np.frombuffer(mmap.mmap(-1, nbytes), dtype=dtype, count=int(np.prod(shape))).reshape(shape)


def worker_count(cpus):
    """Processes worth forking: the largest power of two up to ``cpus`` (the shard tree is binary)."""
    return 1 << int(math.log2(max(cpus, 1)))


class Workers:
    """The parent and ``count - 1`` forked workers; the parameters live in shared memory.

    ``params``: host arrays, copied into shared memory; ``self.params`` holds the views
    that the caller must use from now on (updates in place are seen by the workers).
    ``batch``: the largest batch; ``grid``: a grid.GridEvaluator with cached plans,
    or None; ``grid_target`` (pixels, C): the grid's targets, for full-image steps.
    """

    def __init__(self, count, cfg, params, batch, grid=None, grid_target=None):
        self.cfg, self.count, self.grid, self.grid_target = cfg, count, grid, grid_target
        self.depth = int(math.log2(count))
        dtype = params["W_out"].dtype
        self.flat = shared_array((sum(v.size for v in params.values()),), dtype)
        self.params = flat_views(params, self.flat)
        for k, v in params.items():
            self.params[k][...] = v
        self.p = shared_array((batch, cfg.in_dims), dtype)
        self.target = shared_array((batch, cfg.out_channels), dtype)
        self.experts = shared_array((batch, cfg.layers), np.int16 if cfg.n_experts < 2 ** 15 else np.int64)
        self.grads = [flat_views(params, g) for g in shared_array((count, self.flat.size), dtype)]   # subtree sums
        self.sse = shared_array((count,), dtype)
        self.pred = None if grid is None or grid.plans is None else \
            shared_array((grid.coords.shape[0], cfg.out_channels), dtype)
        self.pipes, self.pids = [], []
        self.stop_requested = lambda: False    # set by the training loop: has a signal asked to stop?
        for rank in range(1, count):
            parent_end, child_end = os.pipe(), os.pipe()          # (commands to the child), (replies)
            pid = os.fork()
            if pid == 0:                                             # the worker
                os.close(parent_end[1])
                os.close(child_end[0])
                for fd in _PARENT_FDS:           # other workers' pipes: their EOF must reach them
                    os.close(fd)
                self._serve(rank, parent_end[0], child_end[1])
            os.close(parent_end[0])
            os.close(child_end[1])
            self.pipes.append((child_end[0], parent_end[1]))
            _PARENT_FDS.update((child_end[0], parent_end[1]))
            self.pids.append(pid)
        self._finalizer = weakref.finalize(self, _close, self.pipes, self.pids)

    def _serve(self, rank, commands, replies):
        """The worker's loop: one command, one byte in reply, until "quit" or the pipe closes."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        _die_with_parent()
        code = 0
        try:
            while True:
                msg = os.read(commands, 64)
                if not msg or msg == b"quit":
                    break
                kind, P = msg.decode().split()
                try:
                    self._work(kind, int(P), rank)
                    os.write(replies, b"0")
                except Exception:                          # reported to the parent, which raises
                    os.write(replies, b"1")
        except OSError:
            code = 1
        finally:
            os._exit(code)

    def _work(self, kind, P, rank):
        """This process's subtree of the shards of a batch of P points (or of the grid)."""
        nodes = self._nodes(P)
        if rank >= len(nodes):
            return None
        node = nodes[rank]
        if kind in ("grads", "grads-experts", "grid-grads"):
            if kind in ("grads", "grads-experts"):
                experts = self.experts[:P] if kind == "grads-experts" else None
                sse, grads = shards.sse_and_grads(self.params, self.cfg, self.p[:P], self.target[:P], node=node,
                                                  experts=experts)
            else:
                sse, grads = shards.sse_and_grads(self.params, self.cfg, self.grid.coords, self.grid_target,
                                                  plans=self.grid.plans, node=node)
            if rank == 0:
                return sse, grads
            self.sse[rank] = sse
            for k, g in grads.items():
                self.grads[rank][k][...] = g
        else:
            shards.predict(self.params, self.cfg, self.grid.coords, plans=self.grid.plans, node=node,
                           out=self.pred)
        return None

    def _nodes(self, P):
        return shards.subtrees(0, len(shards.shard_ranges(P, np)), self.depth)

    def _run(self, kind, P, meanwhile=None):
        try:
            for _, w in self.pipes:
                os.write(w, f"{kind} {P}".encode())
        except BrokenPipeError:
            raise WorkerError("a worker process has ended; the run cannot go on") from None
        started = time.monotonic()
        done = False
        try:
            mine = self._work(kind, P, 0)
            if meanwhile is not None:
                meanwhile()
            replies = self._replies(kind, time.monotonic() - started)
            done = True
        finally:
            if not done:              # an error or a second signal: no worker is waited for
                self.close()
        if any(reply != b"0" for reply in replies):
            ended = sum(reply == b"" for reply in replies)
            raise WorkerError(f"{ended} worker process(es) ended and {len(replies) - ended} failed during a "
                              f"{kind!r} command; the run cannot go on"
                              if ended else f"a worker process failed during a {kind!r} command")
        return mine

    def _replies(self, kind, own_seconds):
        """Each worker's one-byte reply (b"" when it ended), waiting at most a while for each.

        A worker that is stopped (SIGSTOP, state T in /proc) is an error at once; once
        ``stop_requested()`` says a signal asked the run to end, the workers get
        ``STOP_GRACE`` seconds, or three times the parent's own share of the command,
        before they count as stuck. Stuck or stopped workers are killed (``close``)."""
        replies = {}
        waiting = {r: pid for (r, _), pid in zip(self.pipes, self.pids)}
        stop_seen = None
        while waiting:
            ready, _, _ = select.select(list(waiting), [], [], POLL_SECONDS)
            for r in ready:
                replies[r] = os.read(r, 1)
                del waiting[r]
            stopped = [pid for pid in waiting.values() if _is_stopped(pid)]
            if stopped:
                self.close()
                raise WorkerError(f"worker process {stopped[0]} is stopped (SIGSTOP) during a {kind!r} command; "
                                  f"the run cannot go on")
            if waiting and stop_seen is None and self.stop_requested():
                stop_seen = time.monotonic()
            if waiting and stop_seen is not None and \
                    time.monotonic() - stop_seen > max(STOP_GRACE, 3 * own_seconds):
                pids = sorted(waiting.values())
                self.close()
                raise WorkerError(f"worker process {pids[0]} did not finish a {kind!r} command within "
                                  f"{max(STOP_GRACE, 3 * own_seconds):.0f} s of the signal to stop; "
                                  f"the run cannot go on")
        return [replies[r] for r, _ in self.pipes]

    def sse_and_grads(self, p=None, target=None, experts=None, meanwhile=None):
        """shards.sse_and_grads of the batch (of the whole grid when p is None), its subtrees
        shared among the processes; ``experts``: the batch's nearest experts, if looked up.
        ``meanwhile()`` runs in the parent once its own subtree is done, while the workers
        may still be busy (the next batch is drawn there)."""
        if p is None:
            P = self.grid_target.shape[0]
            mine = self._run("grid-grads", P)
        else:
            P = p.shape[0]
            self.p[:P], self.target[:P] = p, target
            if experts is not None:
                self.experts[:P] = experts
            mine = self._run("grads" if experts is None else "grads-experts", P, meanwhile)
        nodes = self._nodes(P)
        known = {nodes[0]: mine}
        for rank in range(1, len(nodes)):
            known[nodes[rank]] = (self.sse[rank], self.grads[rank])
        return shards.tree_sum(0, len(shards.shard_ranges(P, np)), None, shards.add_sse_grads,
                               self.depth, known)

    def predict_cached_grid(self):
        """f over the cached grid (pixels, C), its shards shared among the processes."""
        self._run("predict", self.grid.coords.shape[0])
        return self.pred.copy()

    def close(self):
        """End the workers (closing their pipes) and reap them."""
        self._finalizer()


def _close(pipes, pids):
    """Close every pipe (a worker exits at its end of file) and reap the workers; one that has
    not exited within a second (stopped, or stuck in a command) is killed."""
    for r, w in pipes:
        try:
            os.write(w, b"quit")
        except OSError:
            pass
        os.close(w)
        os.close(r)
        _PARENT_FDS.difference_update((r, w))
    deadline = time.monotonic() + 1.0
    for pid in pids:
        try:
            while os.waitpid(pid, os.WNOHANG) == (0, 0):
                if time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    break
                time.sleep(0.01)
        except (ChildProcessError, ProcessLookupError):
            pass
    pipes.clear()
    pids.clear()
