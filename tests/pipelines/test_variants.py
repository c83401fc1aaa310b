"""Phrasing variants: near-identical quotes group under one leader, biggest group first."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.variants import group_variants

DIM = 16


def unit(X: np.ndarray) -> np.ndarray:
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def corpus():
    """Three phrasings of one objection, two of another, one loner (cosines set by construction)."""
    rng = np.random.default_rng(0)
    a, b, c = unit(rng.normal(size=(3, DIM)))
    wobble = 0.05 * unit(rng.normal(size=(6, DIM)))
    texts = [
        "too expensive for us",  # a
        "We need SSO",  # b
        "It's too expensive for us",  # a
        "Way too expensive for us",  # a
        "we need SSO first",  # b
        "When does the contract renew?",  # c
    ]
    X = unit(np.stack([a, b, a, a, b, c]) + wobble)
    return texts, X


def test_near_identical_phrasings_group_biggest_first_with_a_leader():
    texts, X = corpus()
    groups = group_variants(texts, X)
    assert [sorted(g) for g in groups] == [[0, 2, 3], [1, 4], [5]]
    assert groups[0][0] == 0  # all three equally connected: the shortest text leads
    assert groups[1][0] == 1


def test_every_row_lands_in_exactly_one_group():
    texts, X = corpus()
    flat = [i for g in group_variants(texts, X) for i in g]
    assert sorted(flat) == list(range(len(texts)))


def test_grouping_does_not_depend_on_input_order():
    texts, X = corpus()
    as_texts = [[texts[i] for i in g] for g in group_variants(texts, X)]
    perm = [5, 3, 1, 0, 4, 2]
    shuffled = group_variants([texts[i] for i in perm], X[perm])
    assert [[texts[perm[i]] for i in g] for g in shuffled] == as_texts


def test_threshold_decides_what_counts_as_a_variant():
    texts, X = corpus()
    assert len(group_variants(texts, X, threshold=0.999)) == len(texts)
    assert len(group_variants(texts, X, threshold=-1.0)) == 1


def test_members_follow_their_leader_by_similarity():
    leader = np.array([1.0, 0.0])
    X = unit(np.array([[0.9, 0.1], [1.0, 0.0], [0.95, 0.3], [0.99, 0.05]]))
    groups = group_variants(["bb", "a", "cc", "dd"], X, threshold=0.9)
    sims = X @ leader
    assert groups == [[1, *sorted([3, 0, 2], key=lambda i: -sims[i])]]


def test_empty_and_mismatched_inputs():
    assert group_variants([], np.zeros((0, DIM))) == []
    with pytest.raises(ValueError):
        group_variants(["one"], np.zeros((2, DIM)))
