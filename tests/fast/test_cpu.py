import os

import pytest

from loe_ref.fast import cpu


def test_usable_cpus_without_affinity(monkeypatch):
    """macOS and Windows have no os.sched_getaffinity: fall back to the CPU count."""
    assert cpu.usable_cpus() >= 1
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert cpu.usable_cpus() == 3
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert cpu.usable_cpus() == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setenv("LOE_REF_CPUS", "2")
    assert cpu.usable_cpus() == 2
    monkeypatch.setenv("LOE_REF_CPUS", "zero")
    with pytest.raises(cpu.CpuError, match="LOE_REF_CPUS='zero' must be a positive integer"):
        cpu.usable_cpus()


def test_single_threaded_blas_holds_blas_to_one_thread():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=None):
        cpu.single_threaded_blas()
        assert all(i["num_threads"] == 1 for i in cpu.blas_info())


def test_keep_freed_memory_respects_the_users_setting(monkeypatch):
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")
    assert cpu.keep_freed_memory() is False
