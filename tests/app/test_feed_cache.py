"""The feed's answer cache: one computation per answer, refreshed ahead of expiry by one reader."""

import threading

from app.services.feed_cache import REFRESH_SHARE, FeedCache

TTL = 30.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counting(values):
    calls = []

    def compute():
        calls.append(1)
        return values[len(calls) - 1]

    return compute, calls


def test_a_fresh_answer_is_computed_once():
    cache = FeedCache(ttl_seconds=TTL, clock=Clock())
    compute, calls = counting(["a", "b"])
    assert cache.get_or_compute("k", compute) == "a"
    assert cache.get_or_compute("k", compute) == "a"
    assert len(calls) == 1


def test_an_answer_due_for_refresh_is_recomputed_by_the_next_reader():
    clock = Clock()
    cache = FeedCache(ttl_seconds=TTL, clock=clock)
    compute, calls = counting(["old", "new"])
    cache.get_or_compute("k", compute)
    clock.now += TTL * REFRESH_SHARE - 1
    assert cache.get_or_compute("k", compute) == "old"  # not yet due
    clock.now += 2
    assert cache.get_or_compute("k", compute) == "new"
    assert len(calls) == 2


def test_while_one_reader_refreshes_the_others_keep_the_answer_in_hand():
    clock = Clock()
    cache = FeedCache(ttl_seconds=TTL, clock=clock)
    cache.get_or_compute("k", lambda: "old")
    clock.now += TTL * REFRESH_SHARE + 1
    started, release = threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(10)
        return "new"

    refresher = threading.Thread(target=lambda: cache.get_or_compute("k", slow))
    refresher.start()
    assert started.wait(10)
    # another reader neither waits for the refresh nor starts one of its own
    assert cache.get_or_compute("k", lambda: "second computation") == "old"
    release.set()
    refresher.join(10)
    assert cache.get_or_compute("k", lambda: "third computation") == "new"


def test_an_expired_answer_is_never_served():
    clock = Clock()
    cache = FeedCache(ttl_seconds=TTL, clock=clock)
    cache.get_or_compute("k", lambda: "old", alias="raw")
    clock.now += TTL + 1
    assert cache.peek("raw") is None
    assert cache.peek("k") is None
    assert cache.get_or_compute("k", lambda: "new") == "new"


def test_peek_sends_the_first_reader_of_a_due_answer_to_refresh_it():
    clock = Clock()
    cache = FeedCache(ttl_seconds=TTL, clock=clock)
    cache.get_or_compute("k", lambda: "old", alias="raw")
    assert cache.peek("raw") == "old"
    clock.now += TTL * REFRESH_SHARE + 1
    assert cache.peek("raw") is None  # this reader takes the route
    assert cache.peek("raw") == "old"  # the next ones are served meanwhile
    assert cache.get_or_compute("k", lambda: "new", alias="raw") == "new"
    assert cache.peek("raw") == "new"


def test_readers_of_a_missing_answer_share_one_computation():
    cache = FeedCache(ttl_seconds=TTL, clock=Clock())
    calls, answers = [], []
    gate = threading.Barrier(4)

    def compute():
        calls.append(1)
        return "a"

    def read():
        gate.wait(10)
        answers.append(cache.get_or_compute("k", compute))

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert answers == ["a"] * 4
    assert len(calls) == 1
