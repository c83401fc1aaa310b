"""Cluster ids across rebuilds: kept, new, split, merged, disappeared; always the same answer."""

from __future__ import annotations

import numpy as np

from pipelines.cluster_identity import Matching, PrevCluster, match_clusters

DIM = 8


def direction(i: int) -> np.ndarray:
    v = np.zeros(DIM)
    v[i] = 1.0
    return v


def ids(prefix: str, n: int) -> set[str]:
    return {f"{prefix}{i}" for i in range(n)}


def prev(cid: str, members: set[str], axis: int) -> PrevCluster:
    return PrevCluster(id=cid, members=frozenset(members), centroid=direction(axis))


def centroids(*axes: int) -> np.ndarray:
    return np.stack([direction(a) for a in axes])


def test_unchanged_and_grown_clusters_keep_their_ids():
    old = [prev("A", ids("a", 30), 0), prev("B", ids("b", 20), 1)]
    new = {0: ids("a", 30) | ids("fresh", 5), 1: ids("b", 20)}
    matching = match_clusters(old, new, centroids(0, 1))
    assert matching == Matching(ids={0: "A", 1: "B"})


def test_a_cluster_of_unseen_mentions_is_new():
    old = [prev("A", ids("a", 30), 0)]
    matching = match_clusters(old, {0: ids("a", 30), 1: ids("n", 12)}, centroids(0, 2))
    assert matching.ids == {0: "A", 1: None}


def test_split_the_biggest_piece_keeps_the_id():
    old = [prev("A", ids("a", 100), 0)]
    members = sorted(ids("a", 100))
    new = {0: set(members[:40]), 1: set(members[40:])}
    matching = match_clusters(old, new, centroids(0, 0))
    assert matching.ids == {0: None, 1: "A"}
    assert matching.splits == {"A": (1, 0)}
    assert matching.merges == {}
    assert matching.disappeared == ()


def test_merge_the_part_with_most_shared_members_keeps_the_id():
    old = [prev("A", ids("a", 40), 0), prev("B", ids("b", 60), 1), prev("C", ids("c", 10), 2)]
    new = {0: ids("a", 40) | ids("b", 60), 1: ids("c", 10)}
    between = 0.4 * direction(0) + 0.6 * direction(1)
    matching = match_clusters(old, new, np.stack([between, direction(2)]))
    assert matching.ids == {0: "B", 1: "C"}
    assert matching.merges == {0: ("B", "A")}
    assert matching.disappeared == ("A",)


def test_clusters_whose_members_are_gone_disappear():
    old = [prev("A", ids("a", 30), 0), prev("B", ids("b", 20), 1)]
    matching = match_clusters(old, {0: ids("a", 30)}, centroids(0))
    assert matching.ids == {0: "A"}
    assert matching.disappeared == ("B",)


def test_without_shared_members_a_near_identical_centroid_keeps_the_id():
    old = [prev("A", ids("a", 30), 0), prev("B", ids("b", 30), 1)]
    new = {0: ids("x", 30), 1: ids("y", 30)}  # mentions re-extracted under new keys
    nearly_b = direction(1) + 0.1 * direction(3)
    matching = match_clusters(old, new, np.stack([nearly_b, direction(5)]))
    assert matching.ids == {0: "B", 1: None}
    assert matching.disappeared == ("A",)


def test_shared_members_do_not_keep_an_id_when_the_centroid_moved_away():
    old = [prev("A", ids("a", 30), 0)]
    matching = match_clusters(old, {0: ids("a", 30)}, centroids(4))
    assert matching.ids == {0: None}


def test_a_minor_overlap_does_not_keep_an_id():
    old = [prev("A", ids("a", 100), 0)]
    new = {0: ids("a", 10) | ids("other", 50)}
    # 10 of A's 100 members and 10 of the new cluster's 10 pre-existing members: a majority of the
    # new cluster came from A, so it may keep the id...
    assert match_clusters(old, new, centroids(0)).ids == {0: "A"}
    # ...but not when most of its pre-existing members came from elsewhere.
    old.append(prev("B", ids("other", 50), 0))
    assert match_clusters(old, new, centroids(0)).ids == {0: "B"}


def test_the_answer_does_not_depend_on_input_order():
    old = [prev("A", ids("a", 50), 0), prev("B", ids("b", 50), 1), prev("C", ids("c", 8), 2)]
    a, b = sorted(ids("a", 50)), sorted(ids("b", 50))
    new = {0: set(a[:25]), 1: set(a[25:]), 2: set(b) | ids("c", 8), 3: ids("n", 9)}
    cents = centroids(0, 0, 1, 3)
    first = match_clusters(old, new, cents)
    shuffled_new = {k: new[k] for k in (3, 1, 2, 0)}
    assert match_clusters(list(reversed(old)), shuffled_new, cents) == first
    assert first.ids[2] == "B" and first.ids[3] is None
    assert sorted(v for v in first.ids.values() if v) == ["A", "B"]
    assert first.splits == {"A": (0, 1)}  # a tie: the lower new label keeps the id
    assert first.merges == {2: ("B", "C")}
    assert first.disappeared == ("C",)


def test_a_few_old_members_among_new_mentions_are_not_a_split():
    old = [prev("A", ids("a", 100), 0)]
    members = sorted(ids("a", 100))
    new = {0: set(members[:95]), 1: set(members[95:]) | ids("n", 40)}
    matching = match_clusters(old, new, centroids(0, 0))
    assert matching.ids == {0: "A", 1: None}
    assert matching.splits == {}
