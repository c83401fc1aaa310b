"""Clustering and rebuilds at 10k and 100k mentions: time, peak memory, quality, stability.

    python benchmarks/cluster_scale.py [--sizes 10000,100000] [--full-fit] [--rebuild]
                                       [--database URL] [--skip-clustering] [--stability]

The corpora are synthetic but built from real text: rows sampled (with replacement) from the
BANKING77 train embeddings, each moved by Gaussian noise of norm ~0.3 (cosine ~0.96 to its source)
and renormalised, so topics keep their real shape and sizes while no two rows are identical; a
row's gold label is its source's intent, its text the source's text.

Every measurement runs in its own freshly spawned process, so the peak RSS printed is that
process's own (the interpreter, numpy, scikit-learn, hdbscan and umap included, ~250 MB idle).

- always: `cluster_embeddings` as a rebuild calls it (fitted on a sample above FIT_SAMPLE rows):
  seconds, peak RSS, clusters, coverage, NMI to the gold intents;
- --full-fit: the same rows fitted whole (`fit_sample=None`), and the NMI between the two
  clusterings (noise counted as one more cluster): theme quality against the full fit;
- --rebuild: `rebuild_kind` on a database (a temporary SQLite file, or --database URL, e.g.
  postgresql://postgres@127.0.0.1:5432/test_rebuild, whose public schema is emptied) holding the
  n mentions as one kind without categories (one group of n rows: the worst case; categories
  split it), three times in one fresh process: a first build (with numba's compilation where
  UMAP runs), a refit over its clusters (ids matched, clusters updated), then, after WARM_SHARE
  more mentions arrived, a rebuild left to decide (a warm start from WARM_START_MIN mentions up);
  peak RSS is the process's so far, load the 1-minute load average after the step;
- --stability: the same rows shuffled must give the very same labels; then 10% new mentions
  arrive and match_clusters says how many cluster ids survive.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from cluster_eval import embed_cached, read_labelled
from feed_load import reset_database
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from pipelines.cluster import FIT_SAMPLE, ClusterConfig, ClusterResult, cluster_embeddings
from pipelines.cluster_identity import PrevCluster, match_clusters

DEFAULT_INPUT = Path(__file__).resolve().parents[2] / "shared/eval/banking77/train.csv"
NOISE_NORM = 0.3
NEW_SHARE = 0.1
# mentions added before the warm-start step of --rebuild: under REFIT_SHARE
WARM_SHARE = 0.05
MENTIONS_PER_CALL = 50


def synthetic(base: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n rows drawn from base, each perturbed by noise of norm ~NOISE_NORM, unit length; and
    the index of each row's source."""
    sources = rng.integers(0, len(base), n)
    noise = rng.normal(0.0, NOISE_NORM / np.sqrt(base.shape[1]), (n, base.shape[1]))
    X = (base[sources] + noise).astype(np.float32)
    return X / np.linalg.norm(X, axis=1, keepdims=True), sources


def max_rss_mb() -> float:
    """This process's peak RSS. getrusage's also counts the parent's peak before the spawn
    (Linux keeps it across the exec): 1.7 GB where a 100k rebuild itself peaked under 1 GB,
    the parent having made the synthetic corpus in float64. /proc's VmHWM is the process's own."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def in_fresh_process(fn: Callable, *args):
    """fn(*args) in a newly spawned process: (its result, (wall, CPU) seconds, peak RSS MB).

    CPU seconds (user + system) say what the run costs on an idle machine when other work
    shares the cores; the wall clock is what a user waits."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_timed, fn, *args).result()


def _timed(fn: Callable, *args):
    start, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    return result, Seconds(time.perf_counter() - start, time.process_time() - cpu), max_rss_mb()


@dataclass(frozen=True)
class Seconds:
    wall: float
    cpu: float

    def __str__(self) -> str:
        return f"{self.wall:6.1f}s (CPU {self.cpu:6.1f}s)"


def _cluster_file(path: str, config: ClusterConfig) -> ClusterResult:
    return cluster_embeddings(np.load(path), config)


def nmi(a: np.ndarray, b: np.ndarray) -> float:
    return float(normalized_mutual_info_score(a, b))


def measure_clustering(path: Path, gold: np.ndarray, full_fit: bool) -> ClusterResult:
    config = ClusterConfig()
    result, seconds, rss = in_fresh_process(_cluster_file, str(path), config)
    n = len(gold)
    fitted = f"sample of {config.fit_sample:,}" if n > config.fit_sample else "all rows"
    print(f"cluster n={n:>7,} (fit on {fitted}): {seconds}  peak RSS {rss:6.0f} MB  "
          f"clusters={result.n_clusters:4d}  coverage={np.mean(result.labels >= 0):.3f}  "
          f"NMI(gold)={nmi(gold, result.labels):.3f}", flush=True)
    if full_fit and n > config.fit_sample:
        full, seconds, rss = in_fresh_process(_cluster_file, str(path),
                                              replace(config, fit_sample=None))
        print(f"  full fit n={n:>7,}: {seconds}  peak RSS {rss:6.0f} MB  "
              f"clusters={full.n_clusters:4d}  coverage={np.mean(full.labels >= 0):.3f}  "
              f"NMI(gold)={nmi(gold, full.labels):.3f}  "
              f"NMI(sampled, full)={nmi(full.labels, result.labels):.3f}  "
              f"ARI(sampled, full)={adjusted_rand_score(full.labels, result.labels):.3f}",
              flush=True)
    return result


def _write_workspace(db_url: str, path: str, texts: list[str]) -> None:
    """A workspace of len(texts) objection mentions with the vectors at path, MENTIONS_PER_CALL
    per call (one utterance each); bulk inserts, not timed."""
    from sqlmodel import Session

    from app.db import make_engine, migrate
    from models import Workspace

    reset_database(db_url)
    engine = make_engine(db_url)
    migrate(engine)
    with Session(engine) as session:
        session.add(Workspace(name="scale"))
        session.commit()
    engine.dispose()
    _add_mentions(db_url, path, texts)


def _add_mentions(db_url: str, path: str, texts: list[str]) -> None:
    """The vectors at path as new objection mentions of workspace 1, on calls of their own."""
    from sqlalchemy import insert
    from sqlmodel import Session, func, select

    from app.db import make_engine
    from models import Call, Mention, Utterance
    from pipelines.vectors import pack

    X = np.load(path)
    engine = make_engine(db_url)
    with Session(engine) as session:
        first = session.exec(select(func.coalesce(func.max(Call.id), 0))).one() + 1
        calls = (len(X) + MENTIONS_PER_CALL - 1) // MENTIONS_PER_CALL
        session.execute(insert(Call), [
            {"id": first + c, "workspace_id": 1, "external_id": f"c{first + c}",
             "content_hash": "-", "raw_payload": "", "status": "processed"}
            for c in range(calls)])
        session.execute(insert(Utterance), [
            {"id": first + c, "workspace_id": 1, "call_id": first + c, "idx": 0, "speaker": "Jo",
             "text": "-"} for c in range(calls)])
        for start in range(0, len(X), 10_000):
            session.execute(insert(Mention), [
                {"workspace_id": 1, "call_id": first + i // MENTIONS_PER_CALL,
                 "utterance_id": first + i // MENTIONS_PER_CALL, "kind": "objection",
                 "text": texts[i], "start_char": 0, "end_char": len(texts[i]), "speaker": "Jo",
                 "key_phrases": [], "embedding": pack(X[i])}
                for i in range(start, min(start + 10_000, len(X)))])
        session.commit()
    engine.dispose()


REBUILD_STEPS = (("first build", True), ("refit", True), (f"+{WARM_SHARE:.0%}", None))


def _rebuilds(db_url: str, new_path: str,
              new_texts: list[str]) -> list[tuple[str, Seconds, float, int, float]]:
    """A first build, a refit over its clusters (ids matched), then, once WARM_SHARE more
    mentions arrived (not timed), a rebuild left to decide (a warm start at and above
    WARM_START_MIN mentions): (what it did, seconds, peak RSS so far, members, load) each, in
    one process."""
    from sqlmodel import Session, func, select

    from app.db import make_engine
    from app.jobs.rebuild import rebuild_kind
    from app.jobs.warm_start import last_fit
    from models import ClusterMember

    engine = make_engine(db_url)
    steps = []
    for name, refit in REBUILD_STEPS:
        if refit is None:
            _add_mentions(db_url, new_path, new_texts)
        start, cpu = time.perf_counter(), time.process_time()
        with Session(engine) as session:
            fitted = last_fit(session=session, workspace_id=1, kind="objection")
            rebuild_kind(session=session, workspace_id=1, kind="objection", job_id=None,
                         refit=refit)
            session.commit()
            members = session.exec(select(func.count(ClusterMember.mention_id))).one()
            if refit is None:  # a warm start records no fit
                warm = last_fit(session=session, workspace_id=1, kind="objection") == fitted
                name += ", warm start" if warm else ", refit"
        seconds = Seconds(time.perf_counter() - start, time.process_time() - cpu)
        steps.append((name, seconds, max_rss_mb(), int(members), os.getloadavg()[0]))
    engine.dispose()
    return steps


def measure_rebuild(path: Path, texts: list[str], new_path: Path, new_texts: list[str],
                    database: str | None) -> None:
    """The first step includes numba's compilation where UMAP runs (a process's first use)."""
    with tempfile.TemporaryDirectory() as tmp:
        db_url = database or f"sqlite:///{tmp}/scale.db"
        where = "PostgreSQL" if db_url.startswith("postgresql") else "SQLite"
        in_fresh_process(_write_workspace, db_url, str(path), texts)
        steps, _, _ = in_fresh_process(_rebuilds, db_url, str(new_path), new_texts)
        for (_, refit), (name, seconds, rss, members, load) in zip(REBUILD_STEPS, steps,
                                                                    strict=True):
            n = len(texts) + (len(new_texts) if refit is None else 0)
            print(f"rebuild_kind n={n:>7,} ({name}, {where}): {seconds}  "
                  f"peak RSS {rss:6.0f} MB  members={members:,} ({members / n:.1%} in a theme)"
                  f"  load {load:.1f}", flush=True)


def previous_clusters(result: ClusterResult) -> list[PrevCluster]:
    return [
        PrevCluster(
            id=f"c{label}",
            members=frozenset(str(i) for i in np.flatnonzero(result.labels == label)),
            centroid=result.centroids[label],
        )
        for label in range(result.n_clusters)
    ]


def measure_stability(X: np.ndarray, first: ClusterResult, extra: np.ndarray) -> None:
    """Same rows shuffled: identical labels? Then +NEW_SHARE rows: share of old ids kept."""
    config = ClusterConfig()
    perm = np.random.default_rng(len(X)).permutation(len(X))
    shuffled = cluster_embeddings(X[perm], config).labels
    back = np.empty_like(shuffled)
    back[perm] = shuffled
    print(f"  shuffled input: ARI={adjusted_rand_score(first.labels, back):.4f}  "
          f"identical label numbers={bool(np.array_equal(first.labels, back))}", flush=True)
    grown = cluster_embeddings(np.vstack([X, extra]), config)
    members = {label: {str(i) for i in np.flatnonzero(grown.labels == label)}
               for label in range(grown.n_clusters)}
    prev = previous_clusters(first)
    matching = match_clusters(prev, members, grown.centroids)
    kept = sum(1 for v in matching.ids.values() if v is not None)
    print(f"  +{NEW_SHARE:.0%} new mentions: ids kept {kept / max(len(prev), 1):.1%} "
          f"({len(prev)} old -> {grown.n_clusters} new clusters, {grown.n_clusters - kept} "
          f"brand new, {len(matching.splits)} splits, {len(matching.merges)} merges, "
          f"{len(matching.disappeared)} old ids gone)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--full-fit", action="store_true", help="compare with a fit on all rows")
    parser.add_argument("--rebuild", action="store_true",
                        help="time rebuild_kind: a first build, a refit, a warm start")
    parser.add_argument("--database", default=None,
                        help="database URL for --rebuild (its public schema is emptied first "
                             "on PostgreSQL); a temporary SQLite file when absent")
    parser.add_argument("--skip-clustering", action="store_true",
                        help="only the --rebuild lines, not the clustering-alone measurement")
    parser.add_argument("--stability", action="store_true", help="shuffle and growth checks")
    args = parser.parse_args()

    texts, intents = read_labelled(args.input, "text", "category", None)
    base = embed_cached(args.input, texts)
    gold_of = np.unique(intents, return_inverse=True)[1]
    print(f"synthetic corpora from {len(base)} real embeddings of {args.input.name}; "
          f"fit sample above {FIT_SAMPLE:,} rows")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            X, sources = synthetic(base, n, rng)
            path = Path(tmp) / f"x{n}.npy"
            np.save(path, X)
            if not args.skip_clustering or args.stability:
                result = measure_clustering(path, gold_of[sources], args.full_fit)
            if args.rebuild:
                new, new_sources = synthetic(base, round(n * WARM_SHARE), rng)
                new_path = Path(tmp) / f"new{n}.npy"
                np.save(new_path, new)
                measure_rebuild(path, [texts[s] for s in sources], new_path,
                                [texts[s] for s in new_sources], args.database)
            if args.stability:
                measure_stability(X, result, synthetic(base, int(n * NEW_SHARE), rng)[0])


if __name__ == "__main__":
    main()
