import os

import numpy as np
import pytest

from loe_ref.fast import shards
from loe_ref.fast.grid import GridEvaluator
from loe_ref.fast.workers import Workers, worker_count
from loe_ref.network import Config, init_params

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="worker processes need os.fork")


@pytest.mark.parametrize("P", [1, 2049, 4096, 10000])
@pytest.mark.parametrize("count", [2, 4])
def test_workers_equal_one_process_bit_for_bit(P, count):
    """Subtrees of the shard tree summed in other processes give exactly one process's numbers."""
    cfg = Config(layers=3, hidden=8)
    rng = np.random.default_rng(P)
    params = {k: v.astype(np.float32) for k, v in init_params(cfg, 1).items()}
    p = rng.uniform(0, 1, (P, 2)).astype(np.float32)
    target = rng.uniform(-1, 1, (P, 1)).astype(np.float32)
    want_sse, want = shards.sse_and_grads(params, cfg, p, target)
    workers = Workers(count, cfg, params, 10000)
    try:
        for _ in range(2):                  # the same batch twice: nothing left over from the first
            sse, grads = workers.sse_and_grads(p, target)
            assert sse == want_sse
            assert all(np.array_equal(grads[k], want[k]) for k in want)
    finally:
        workers.close()


def test_workers_predict_the_grid_and_see_parameter_updates():
    cfg = Config(layers=2, hidden=4)
    params = init_params(cfg, 0)
    grid = GridEvaluator(cfg, (70, 90), np, np.float64)
    workers = Workers(2, cfg, params, 16, grid, np.zeros((70 * 90, 1)))
    try:
        np.testing.assert_array_equal(workers.predict_cached_grid(), grid.predict(params))
        for k in workers.params:
            workers.params[k] *= 0.5                        # an optimiser's update, in place
        halved = {k: v * 0.5 for k, v in params.items()}
        np.testing.assert_array_equal(workers.predict_cached_grid(), grid.predict(halved))
        sse, grads = workers.sse_and_grads()
        want_sse, want = shards.sse_and_grads(halved, cfg, grid.coords, np.zeros((70 * 90, 1)), plans=grid.plans)
        assert sse == want_sse and all(np.array_equal(grads[k], want[k]) for k in want)
    finally:
        workers.close()


def test_worker_count_is_a_power_of_two():
    assert [worker_count(n) for n in (1, 2, 3, 4, 7, 8)] == [1, 2, 2, 4, 4, 8]


def test_closed_workers_have_exited():
    cfg = Config(layers=1, hidden=2)
    workers = Workers(2, cfg, init_params(cfg, 0), 4)
    pids = list(workers.pids)
    workers.close()
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_a_trainer_on_two_processes_equals_one(tmp_path, monkeypatch):
    """The same run with worker processes and without: the same parameters, bit for bit."""
    import loe_ref.fast.engine as engine
    from loe_ref.training.loop import Trainer
    from loe_ref.training.options import TrainOptions
    cfg = Config(layers=3, hidden=8)
    opts = TrainOptions(image="camera", size=[64, 64], batch=4096, iters=3, lr=1e-2, schedule="cosine")
    runs = {}
    for cpus in (1, 2):
        monkeypatch.setattr(engine, "usable_cpus", lambda: cpus)
        trainer = Trainer(cfg, opts)
        assert (trainer.engine.workers is not None) == (cpus == 2)
        losses = [float(trainer.step(it)) for it in range(3)]
        runs[cpus] = (losses, {k: v.copy() for k, v in trainer.params.items()}, trainer.psnr())
        trainer.close()
    assert runs[1][0] == runs[2][0] and runs[1][2] == runs[2][2]
    assert all(np.array_equal(runs[1][1][k], runs[2][1][k]) for k in runs[1][1])


def test_a_killed_worker_is_an_error_not_a_hang():
    import signal

    from loe_ref.fast.workers import WorkerError
    cfg = Config(layers=2, hidden=4)
    params = {k: v.astype(np.float32) for k, v in init_params(cfg, 0).items()}
    workers = Workers(2, cfg, params, 4096)
    p = np.random.default_rng(0).uniform(0, 1, (4096, 2)).astype(np.float32)
    target = np.zeros((4096, 1), np.float32)
    workers.sse_and_grads(p, target)
    os.kill(workers.pids[0], signal.SIGKILL)
    os.waitpid(workers.pids[0], 0)
    with pytest.raises(WorkerError, match="ended"):
        workers.sse_and_grads(p, target)
    workers.close()


def test_the_next_batch_is_drawn_while_the_worker_finishes(tmp_path, monkeypatch):
    """With worker processes the parent draws step it + 1's batch during step it; the batch
    used is the one step it + 1 draws itself (so the run equals one process's, above)."""
    import loe_ref.fast.engine as engine
    from loe_ref.training.loop import Trainer
    from loe_ref.training.options import TrainOptions
    monkeypatch.setattr(engine, "usable_cpus", lambda: 2)
    trainer = Trainer(Config(layers=2, hidden=4), TrainOptions(image="camera", size=[64, 64], batch=4096, iters=2))
    drawn = []
    draw = trainer.batch_indices
    trainer.batch_indices = lambda it: (drawn.append(it), draw(it))[1]
    trainer.step(0)
    assert drawn == [0, 1] and trainer._ahead[0] == 1
    ahead = trainer._ahead[1]
    fresh = Trainer(Config(layers=2, hidden=4), TrainOptions(image="camera", size=[64, 64], batch=4096, iters=2))
    assert all(np.array_equal(a, b) for a, b in zip(ahead, fresh.batch(1)))
    trainer.step(1)
    assert drawn == [0, 1]                 # the last step draws nothing ahead
    trainer.close()
    fresh.close()


def _batch():
    p = np.random.default_rng(0).uniform(0, 1, (4096, 2)).astype(np.float32)
    return p, np.zeros((4096, 1), np.float32)


def test_a_stopped_worker_is_an_error_not_a_hang():
    """SIGSTOP on a worker: the parent sees it stopped, kills it and says so, in under a second."""
    import signal
    import time

    from loe_ref.fast.workers import WorkerError
    cfg = Config(layers=2, hidden=4)
    workers = Workers(2, cfg, {k: v.astype(np.float32) for k, v in init_params(cfg, 0).items()}, 4096)
    p, target = _batch()
    pid = workers.pids[0]
    os.kill(pid, signal.SIGSTOP)
    t = time.monotonic()
    with pytest.raises(WorkerError, match=f"worker process {pid} is stopped"):
        workers.sse_and_grads(p, target)
    assert time.monotonic() - t < 5
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)                   # killed and reaped
    workers.close()


def test_a_hung_worker_is_given_up_soon_after_a_stop_request(monkeypatch):
    """A worker that never answers (not stopped, just stuck) is given up STOP_GRACE seconds
    after a signal asked the run to stop, so a scheduler's SIGTERM ends the run in seconds."""
    import time

    import loe_ref.fast.workers as module
    from loe_ref.fast.workers import WorkerError
    real = Workers._work

    def stuck(self, kind, P, rank):
        if rank:
            time.sleep(600)
        return real(self, kind, P, rank)

    monkeypatch.setattr(Workers, "_work", stuck)           # inherited by the forked worker
    monkeypatch.setattr(module, "STOP_GRACE", 0.5)
    cfg = Config(layers=2, hidden=4)
    workers = Workers(2, cfg, {k: v.astype(np.float32) for k, v in init_params(cfg, 0).items()}, 4096)
    workers.stop_requested = lambda: True
    pid = workers.pids[0]
    t = time.monotonic()
    with pytest.raises(WorkerError, match=f"worker process {pid} did not finish"):
        workers.sse_and_grads(*_batch())
    assert time.monotonic() - t < 5
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
