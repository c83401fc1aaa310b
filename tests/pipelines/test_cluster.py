"""Clustering on synthetic blobs: recovery, order invariance, noise adoption, merging, tiny inputs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from pipelines.cluster import (
    STRAY_COSINE,
    ClusterConfig,
    adopt_noise,
    assign_to_centroids,
    best_candidate,
    canonical_order,
    cluster_embeddings,
    hdbscan_sizes,
    linkage_cuts,
    merge_near_duplicates,
    size_candidates,
)

DIM = 384
PCA = ClusterConfig(reducer="pca")


def unit(X: np.ndarray) -> np.ndarray:
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)


def random_directions(k: int, rng: np.random.Generator) -> np.ndarray:
    return unit(rng.normal(size=(k, DIM)))


def around(center: np.ndarray, n: int, spread: float, rng: np.random.Generator) -> np.ndarray:
    """n unit vectors whose cosine to center is about 1 / sqrt(1 + spread**2)."""
    noise = rng.normal(0.0, spread / np.sqrt(DIM), size=(n, DIM))
    return unit(center + noise)


def blobs(sizes: list[int], seed: int = 0, spread: float = 0.4):
    rng = np.random.default_rng(seed)
    centers = random_directions(len(sizes), rng)
    X = np.vstack([around(c, n, spread, rng) for c, n in zip(centers, sizes, strict=True)])
    truth = np.repeat(np.arange(len(sizes)), sizes)
    return X, truth, centers


def test_recovers_blobs_with_centroids_in_the_original_space():
    X, truth, centers = blobs([300, 200, 120, 80])
    result = cluster_embeddings(X, PCA)
    assert adjusted_rand_score(truth, result.labels) > 0.99
    assert result.centroids.shape == (4, DIM)
    np.testing.assert_allclose(np.linalg.norm(result.centroids, axis=1), 1.0, atol=1e-5)
    # each centroid points at one true center
    assert (result.centroids @ centers.T).max(axis=1).min() > 0.9


def test_same_rows_in_any_order_give_the_same_labels_numbers_included():
    X, _, _ = blobs([250, 150, 150, 60], seed=1)
    first = cluster_embeddings(X, PCA)
    for seed in range(3):
        perm = np.random.default_rng(seed).permutation(len(X))
        again = cluster_embeddings(X[perm], PCA)
        np.testing.assert_array_equal(again.labels, first.labels[perm])
        np.testing.assert_array_equal(again.strength, first.strength[perm])
        np.testing.assert_array_equal(again.centroids, first.centroids)


def test_clusters_are_numbered_largest_first():
    X, _, _ = blobs([60, 300, 150], seed=2)
    labels = cluster_embeddings(X, PCA).labels
    sizes = np.bincount(labels[labels >= 0]).tolist()
    assert sizes == sorted(sizes, reverse=True) and len(sizes) == 3


def test_near_points_join_by_threshold_and_outliers_stay_noise():
    rng = np.random.default_rng(3)
    a, b = random_directions(2, rng)
    core = np.vstack([around(a, 200, 0.3, rng), around(b, 200, 0.3, rng)])
    # each pushed off a in its own direction (cosine to a ~0.86): far from any dense region, so
    # density calls them noise, but similar enough to come home
    bridge = unit(a + 0.6 * random_directions(3, rng))
    outliers = random_directions(4, rng)  # cosine ~0 to everything
    X = np.vstack([core, bridge, outliers])
    result = cluster_embeddings(X, PCA)
    home = np.bincount(result.labels[:200]).argmax()
    assert (result.labels[400:403] == home).all()
    assert (result.labels[403:] == -1).all()
    assert (result.strength[403:] == 0).all()


def test_noise_is_adopted_by_the_nearest_centroid_at_or_above_threshold():
    rng = np.random.default_rng(4)
    a, b = random_directions(2, rng)
    X = np.vstack([around(a, 20, 0.2, rng), around(b, 20, 0.2, rng)])
    near_b = unit(b + 0.6 * random_directions(1, rng))  # cosine to b ~0.86
    X = np.vstack([X, near_b, random_directions(1, rng)])
    labels = np.array([0] * 20 + [1] * 20 + [-1, -1])
    assert adopt_noise(X, labels, threshold=0.5).tolist()[-2:] == [1, -1]
    assert adopt_noise(X, labels, threshold=0.95).tolist()[-2:] == [-1, -1]
    assert adopt_noise(X, labels, threshold=0.5)[:40].tolist() == labels[:40].tolist()


def test_strength_is_a_confidence_between_zero_and_one():
    X, _, _ = blobs([200, 100], seed=4)
    result = cluster_embeddings(X, PCA)
    assert ((result.strength >= 0) & (result.strength <= 1)).all()
    assert (result.strength[result.labels >= 0] > 0.5).all()


def test_clusters_with_near_identical_centroids_merge():
    rng = np.random.default_rng(5)
    a = random_directions(1, rng)[0]
    b = unit((a + 0.9 * random_directions(1, rng)[0])[None])[0]  # cosine(a, b) ~0.74
    X = np.vstack([around(a, 150, 0.2, rng), around(b, 150, 0.2, rng)])
    assert cluster_embeddings(X, PCA).n_clusters == 2
    merged = cluster_embeddings(X, ClusterConfig(reducer="pca", merge_threshold=0.6))
    assert merged.n_clusters == 1
    assert (merged.labels == 0).all()


def test_merge_near_duplicates_is_transitive_and_keeps_noise():
    rng = np.random.default_rng(6)
    a, far = random_directions(2, rng)
    X = np.vstack([around(a, 4, 0.05, rng), around(a, 4, 0.05, rng), around(far, 4, 0.05, rng)])
    X = np.vstack([X, random_directions(1, rng)])
    labels = np.array([0] * 4 + [1] * 4 + [2] * 4 + [-1])
    merged = merge_near_duplicates(X, labels, threshold=0.95)
    assert merged.tolist() == [0] * 8 + [1] * 4 + [-1]


@pytest.mark.parametrize("n", [0, 1, 2, 5, 7])
def test_tiny_inputs_do_not_crash(n):
    X = random_directions(max(n, 1), np.random.default_rng(n))[:n]
    result = cluster_embeddings(X, PCA)
    assert result.labels.shape == (n,)
    assert result.strength.shape == (n,)
    assert (result.labels == -1).all()  # random directions share nothing


def test_tiny_input_groups_what_is_similar():
    rng = np.random.default_rng(7)
    center = random_directions(1, rng)[0]
    X = np.vstack([around(center, 3, 0.1, rng), random_directions(2, rng)])
    result = cluster_embeddings(X, PCA)
    assert result.labels.tolist() == [0, 0, 0, -1, -1]


def test_structureless_input_is_all_noise():
    X = random_directions(60, np.random.default_rng(8))
    result = cluster_embeddings(X, PCA)
    assert (result.labels == -1).all()
    assert result.centroids.shape == (0, DIM)


def test_one_repeated_quote_is_one_cluster():
    row = random_directions(1, np.random.default_rng(9))
    result = cluster_embeddings(np.repeat(row, 25, axis=0), PCA)
    assert (result.labels == 0).all()
    np.testing.assert_allclose(result.strength, 1.0, atol=1e-5)


def test_assign_to_centroids_between_rebuilds():
    rng = np.random.default_rng(10)
    centroids = random_directions(3, rng)
    X = np.vstack([around(centroids[2], 1, 0.2, rng), around(centroids[0], 1, 0.2, rng)])
    X = np.vstack([X, random_directions(1, rng)])
    labels, sims = assign_to_centroids(X, centroids, threshold=0.5)
    assert labels.tolist() == [2, 0, -1]
    assert sims[0] > 0.9 and sims[2] < 0.5
    empty, _ = assign_to_centroids(X, np.zeros((0, DIM)), threshold=0.5)
    assert empty.tolist() == [-1, -1, -1]


def test_sizes_tried_span_small_to_sublinear_in_n():
    for n in (8, 100, 400, 4_500, 10_000, 1_000_000):
        sizes = size_candidates(n)
        assert sizes[0] == 3 and sizes[-1] == hdbscan_sizes(n)[0]
        assert sizes == sorted(set(sizes)) and len(sizes) <= 8
    # a theme of 30 among 4.5k points is never below every size tried
    assert hdbscan_sizes(4_500)[0] <= 40 and hdbscan_sizes(1_000_000)[0] <= 600
    assert size_candidates(500, ClusterConfig(min_cluster_size=12)) == [12]
    assert all(1 <= hdbscan_sizes(n)[1] <= hdbscan_sizes(n)[0] for n in (8, 100, 10_000))


@pytest.mark.parametrize("sizes", [[150] * 4, [8] * 40], ids=["few-large", "many-small"])
def test_few_large_and_many_small_themes_are_both_found(sizes):
    X, truth, _ = blobs(sizes, seed=5, spread=0.5)
    labels = cluster_embeddings(X, PCA).labels
    assert adjusted_rand_score(truth, labels) > 0.9
    assert np.mean(labels >= 0) > 0.95


def test_config_rejects_unknown_reducers():
    with pytest.raises(ValueError, match="reducer"):
        ClusterConfig(reducer="tsne")


def _spread(cosine: float, n: int, offset: int) -> np.ndarray:
    """n unit rows whose pairwise cosine is exactly `cosine` (a shared axis plus private ones)."""
    X = np.zeros((n, DIM))
    X[:, offset] = np.sqrt(cosine)
    X[np.arange(n), offset + 1 + np.arange(n)] = np.sqrt(1 - cosine)
    return X


def test_a_theme_of_freely_worded_quotes_survives_and_random_pairs_dissolve():
    from pipelines.cluster import _dissolve_loose

    # one demo objection theme's quotes sit at a median pairwise cosine of 0.30; random in-domain
    # sentences at 0.21-0.24
    X = np.vstack([_spread(0.28, 6, 0), _spread(0.2, 6, 100)])
    labels = np.repeat([0, 1], 6)
    assert _dissolve_loose(X, labels).tolist() == [0] * 6 + [-1] * 6


def test_a_sampled_fit_places_every_row_whatever_the_row_order():
    X, truth, _ = blobs([60, 50, 40, 40, 30], seed=5)
    sampled = ClusterConfig(reducer="pca", fit_sample=60)  # 220 rows: a few dozen per blob fitted
    first = cluster_embeddings(X, sampled)
    assert adjusted_rand_score(truth, first.labels) == 1.0
    assert (first.labels >= 0).all() and first.n_clusters == 5
    perm = np.random.default_rng(1).permutation(len(X))
    again = cluster_embeddings(X[perm], sampled)
    assert np.array_equal(again.labels, first.labels[perm])
    assert np.allclose(again.centroids, first.centroids)


def test_sets_up_to_the_sample_size_are_fitted_whole():
    X, _, _ = blobs([40, 30, 30], seed=6)
    whole = cluster_embeddings(X, ClusterConfig(reducer="pca", fit_sample=None))
    at_threshold = cluster_embeddings(X, ClusterConfig(reducer="pca", fit_sample=len(X)))
    assert np.array_equal(whole.labels, at_threshold.labels)
    with pytest.raises(ValueError, match="fit_sample"):
        ClusterConfig(fit_sample=5)


def test_canonical_order_is_a_lexsort_on_every_column():
    """Rows tied on the first columns are ordered by the later ones; exact repeats keep their
    input order, as in one stable lexsort of the whole array."""
    rng = np.random.default_rng(5)
    X = np.round(unit(rng.normal(size=(400, DIM))), 2)
    X[:60, :8] = X[60:120, :8]  # tied on the sorted-first columns, different after them
    X[200:260] = X[300:360]  # exact repeats
    X[10, -1] = X[70, -1] + 0.5  # tied on every column but the last
    assert np.array_equal(canonical_order(X), np.lexsort(X.T[::-1]))
    assert np.array_equal(canonical_order(X[:1]), [0])


def test_umap_compilation_is_kept_on_disk():
    """A UMAP fit compiles (or loads) its layout through numba's on-disk cache."""
    import umap.layouts

    X, _, _ = blobs([20, 20], seed=4)
    cluster_embeddings(X, ClusterConfig(reducer="umap"))
    stats = umap.layouts._nb_optimize_layout_euclidean_single_epoch.stats
    assert stats.cache_path is not None
    assert sum(stats.cache_hits.values()) + sum(stats.cache_misses.values()) > 0


def test_fragments_of_one_theme_rejoin_below_the_merge_threshold():
    # UMAP and leaf selection cut a big theme into fragments whose centroids sit at cosine
    # 0.8-0.9 (BANKING77's biggest intents): a looser merge that separates better wins
    rng = np.random.default_rng(0)
    a, other = random_directions(2, rng)
    b = unit((a + 0.55 * random_directions(1, rng)[0])[None])[0]  # cosine(a, b) ~0.88
    X = np.vstack([around(a, 60, 0.2, rng), around(b, 60, 0.2, rng), around(other, 120, 0.4, rng)])
    labels = cluster_embeddings(X, PCA).labels
    assert adjusted_rand_score(np.repeat([0, 1], 120), labels) == 1.0


def test_from_a_thousand_rows_the_fewest_clusters_nearly_as_well_separated_win():
    # candidates as (separation, clusters): a theme split into fragments scores about the same
    scores, clusters = [0.24, 0.235, 0.20], [220, 130, 80]
    assert best_candidate(scores, clusters, n=3080) == 1
    assert best_candidate(scores, clusters, n=500) == 0
    # nothing separated (fewer than two clusters everywhere): the first candidate
    assert best_candidate([-1.0, -1.0], [1, 0], n=3080) == 0


def test_a_small_set_finds_themes_looser_than_the_adoption_threshold():
    # two themes of six freely worded quotes (pairwise cosine 0.4, under the 0.5 a noise row
    # needs to be adopted) and six unrelated rows: under 30 rows an average linkage decides, cut
    # where its groups are best separated rather than at 0.5 only
    rng = np.random.default_rng(11)
    X = np.vstack([_spread(0.4, 6, 0), _spread(0.4, 6, 100), random_directions(6, rng)])
    labels = cluster_embeddings(X, PCA).labels
    assert sorted(labels[:12].tolist()) == [0] * 6 + [1] * 6
    assert labels[0] != labels[6]
    assert (labels[12:] == -1).all()


def test_linkage_cuts_run_from_the_adoption_threshold_down_to_the_stray_cosine():
    cuts = linkage_cuts(ClusterConfig())
    assert cuts[0] == ClusterConfig().assign_threshold and cuts[-1] == STRAY_COSINE
    assert cuts == sorted(cuts, reverse=True)
