"""A parallel worker's share of the cores (impl.harness.hygiene.CoreShare)."""
import os

import pytest
import torch
from threadpoolctl import threadpool_info

from impl.harness.hygiene import CoreShare


def _blas_threads() -> dict[str, int]:
    return {pool["filepath"]: pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_a_worker_computes_on_its_share_of_the_cores_and_gives_it_back():
    """As many workers as cores: torch and every BLAS pool run one thread; a second take changes nothing;
    give_back restores both exactly (twice is harmless); a bad worker count is refused by name."""
    torch_before, blas_before = torch.get_num_threads(), _blas_threads()
    share = CoreShare()
    try:
        assert share.take(len(os.sched_getaffinity(0))) == 1
        assert share.taken and torch.get_num_threads() == 1
        assert set(_blas_threads().values()) <= {1}
        share.take(1)  # already taken: the first share holds
        assert torch.get_num_threads() == 1
    finally:
        share.give_back()
    assert not share.taken
    assert torch.get_num_threads() == torch_before and _blas_threads() == blas_before
    share.give_back()
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="workers"):
            share.take(bad)


def test_a_child_started_with_same_threads_env_computes_on_the_parents_thread_counts():
    """Under a worker's share (one thread), `processes.same_threads_env` hands a child OMP_NUM_THREADS and the
    BLAS variables of 1, and a child started with it reports torch on one thread; afterwards, the full counts."""
    import subprocess
    import sys

    from impl import processes

    share = CoreShare()
    try:
        share.take(len(os.sched_getaffinity(0)))
        env = processes.same_threads_env()
        assert env["OMP_NUM_THREADS"] == "1" and env["OPENBLAS_NUM_THREADS"] == "1"
        child = subprocess.run([sys.executable, "-c", "import torch; print(torch.get_num_threads())"], env=env,
                               capture_output=True, text=True, check=True)
        assert child.stdout.strip() == "1"
    finally:
        share.give_back()
    assert processes.same_threads_env()["OMP_NUM_THREADS"] == str(torch.get_num_threads())
