"""The feed's answer cache: one computation per answer, refreshed ahead of expiry by one reader."""

import threading

from app.services.feed_cache import ALIAS_CAPACITY, REFRESH_SHARE, FeedCache

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


def due_for_refresh() -> tuple[FeedCache, Clock]:
    """A cache holding "old" under "k", past the point where it is refreshed, and its clock."""
    clock = Clock()
    cache = FeedCache(ttl_seconds=TTL, clock=clock)
    cache.get_or_compute("k", lambda: "old")
    clock.now += TTL * REFRESH_SHARE + 1
    return cache, clock


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
    cache, _ = due_for_refresh()
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


def test_a_failed_refresh_keeps_the_answer_in_hand():
    cache, clock = due_for_refresh()

    def broken():
        raise RuntimeError("database went away")

    assert cache.get_or_compute("k", broken) == "old"
    clock.now += TTL  # past its TTL: no longer served, computed afresh
    assert cache.get_or_compute("k", lambda: "new") == "new"


def test_aliases_never_push_answers_out():
    cache = FeedCache(ttl_seconds=TTL, capacity=2, clock=Clock())
    cache.get_or_compute("theirs", lambda: "their answer", alias="their raw request")
    for n in range(ALIAS_CAPACITY + 10):  # one workspace busting its cache with ?_=n
        cache.get_or_compute("mine", lambda: "my answer", alias=f"my raw request {n}")
    assert cache.peek("their raw request") is None  # its alias made way for the flood...
    assert cache.peek("theirs") == "their answer"  # ...but their answer is still there
    assert cache.peek(f"my raw request {ALIAS_CAPACITY + 9}") == "my answer"


def test_an_alias_follows_its_answer_out():
    cache = FeedCache(ttl_seconds=TTL, capacity=1, clock=Clock())
    cache.get_or_compute("a", lambda: "answer a", alias="raw a")
    cache.get_or_compute("b", lambda: "answer b")  # evicts a
    assert cache.peek("raw a") is None
