"""Themes: found within categories, kept when several calls say the same thing, order-free."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.cluster import ClusterConfig
from pipelines.themes import evict_unlikely, extend_themes, find_themes, keep_spread
from tests.pipelines.test_cluster import around, random_directions

PCA = ClusterConfig(reducer="pca")


def test_a_theme_needs_three_mentions_from_two_calls():
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2, -1])
    calls = np.array([1, 2, 3, 4, 4, 4, 5, 6, 7])
    # 0: three mentions, three calls; 1: one call only; 2: two mentions
    assert keep_spread(labels, calls).tolist() == [0, 0, 0, -1, -1, -1, -1, -1, -1]


def test_each_category_is_clustered_on_its_own_and_the_rest_is_other():
    rng = np.random.default_rng(0)
    a, b, c = random_directions(3, rng)
    X = np.vstack([around(a, 12, 0.3, rng), around(b, 12, 0.3, rng), around(c, 2, 0.3, rng)])
    categories = ["price"] * 12 + ["contract"] * 12 + ["price"] * 2
    calls = list(range(26))
    result = find_themes(X, categories, calls, PCA)
    assert len(set(result.labels[:12])) == 1 and len(set(result.labels[12:24])) == 1
    assert result.labels[0] != result.labels[12] and result.labels[0] >= 0
    assert (result.labels[24:] == -1).all()  # two mentions are not a theme: the other group


def test_one_call_repeating_a_point_is_not_a_theme():
    rng = np.random.default_rng(1)
    X = around(random_directions(1, rng)[0], 6, 0.2, rng)
    result = find_themes(X, ["price"] * 6, [7] * 6, PCA)
    assert (result.labels == -1).all() and result.n_clusters == 0


def test_a_theme_spans_two_categories_when_its_members_do():
    rng = np.random.default_rng(2)
    center = random_directions(1, rng)[0]
    X = around(center, 10, 0.1, rng)
    result = find_themes(X, ["competitor"] * 5 + ["contract"] * 5, list(range(10)), PCA)
    assert result.n_clusters == 1 and (result.labels == 0).all()


def test_a_mention_filed_under_another_category_joins_its_theme():
    # the extractor put one price objection under timing, where nothing else says it
    rng = np.random.default_rng(4)
    center, far = random_directions(2, rng)
    X = np.vstack([around(center, 13, 0.3, rng), far[None, :]])
    result = find_themes(X, ["price"] * 12 + ["timing"] * 2, list(range(14)), PCA)
    assert (result.labels[:13] == 0).all() and result.labels[13] == -1


@pytest.mark.parametrize("seed", [0, 1])
def test_order_of_rows_does_not_matter(seed):
    rng = np.random.default_rng(3)
    centers = random_directions(3, rng)
    X = np.vstack([around(c, 40, 0.4, rng) for c in centers])
    categories = ["price"] * 60 + ["timing"] * 60
    calls = [i % 9 for i in range(120)]
    first = find_themes(X, categories, calls, PCA)
    perm = np.random.default_rng(seed).permutation(120)
    again = find_themes(X[perm], [categories[i] for i in perm], [calls[i] for i in perm], PCA)
    np.testing.assert_array_equal(again.labels, first.labels[perm])


def test_an_unlikely_member_far_from_its_theme_leaves_it():
    # eight rows on the theme's point, two at cosine ~0.4 from its centroid
    X = np.array([[1.0, 0.0, 0.0]] * 8 + [[0.3, 0.95, 0.0], [0.3, 0.0, 0.95]], dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    labels = np.zeros(10, dtype=np.int64)
    # row 8 is more likely small talk than an objection, row 9 likely an objection
    confidences = np.array([0.9] * 8 + [0.28, 0.8])
    assert evict_unlikely(X, labels, confidences, 0.5).tolist() == [0] * 8 + [-1, 0]
    # as close as an adopted row must be, an unlikely mention stays
    assert evict_unlikely(X, labels, confidences, 0.3).tolist() == [0] * 10


def test_mismatched_inputs_are_refused():
    with pytest.raises(ValueError):
        find_themes(np.zeros((2, 4)), ["a"], [1, 2])
    with pytest.raises(ValueError):
        find_themes(np.zeros((2, 4)), ["a", "a"], [1, 2], confidences=[0.9])


def test_a_warm_start_places_new_rows_keeps_old_ones_and_numbers():
    rng = np.random.default_rng(3)
    a, b, c, far = random_directions(4, rng)
    X = np.vstack([around(a, 6, 0.3, rng), around(b, 6, 0.3, rng), around(c, 3, 0.3, rng),
                   around(b, 2, 0.3, rng), around(a, 1, 0.3, rng), far[None, :]])
    old = [0] * 6 + [1] * 6 + [2] * 3  # theme 2 keeps three rows but from one call only
    labels = np.array(old + [-1] * 4)
    new = np.array([False] * 15 + [True, True, False, True])  # row 17: an old row in other
    calls = list(range(12)) + [20, 20, 20] + [30, 31, 32, 33]
    centroids = np.vstack([a, b, c])
    result = extend_themes(X, labels, new, centroids, calls)
    assert result.labels.tolist() == [0] * 6 + [1] * 6 + [-1] * 3 + [1, 1, -1, -1]
    assert result.centroids.shape == (2, X.shape[1])  # theme 2 dissolved: numbers 0, 1 kept
    grown_b = X[[*range(6, 12), 15, 16]].sum(axis=0)
    assert np.allclose(result.centroids[1], grown_b / np.linalg.norm(grown_b), atol=1e-5)
    assert (result.strength[result.labels >= 0] > 0.5).all()
    with pytest.raises(ValueError):
        extend_themes(X, labels[:-1], new, centroids, calls)
