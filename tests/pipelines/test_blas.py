from __future__ import annotations

import threading

from threadpoolctl import threadpool_info

from pipelines.blas import one_blas_thread


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_blas_runs_on_one_thread_until_the_last_block_ends():
    before = _blas_threads()
    with one_blas_thread:
        with one_blas_thread:  # a second extraction at the same time
            assert set(_blas_threads()) == {1}
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before


def test_overlapping_blocks_of_two_threads_restore_the_original_limit():
    before = _blas_threads()
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with one_blas_thread:
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    with one_blas_thread:
        thread.start()
        inside.wait(10)
    assert set(_blas_threads()) == {1}  # the other thread's block still runs
    release.set()
    thread.join(10)
    assert _blas_threads() == before
