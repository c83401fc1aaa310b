"""Per-workspace nearest-neighbour indexes of mention embeddings: a cache, the database the truth.

Each process keeps one index per workspace, built lazily from the database on first use and
kept in step by (1) the mentions a job in this process adds or deletes, once committed, (2) on
every use, the rows with an id above the highest one indexed (another process or machine wrote
them), and (3) every RECONCILE_SECONDS, a count check that falls back to comparing ids (late
commits, deletions elsewhere). A mention's embedding never changes under its id (reprocessing
deletes and inserts), so an id present in both is current. Callers still read the rows they
return from the database, so an id deleted since is never shown.

With a SQLite file the index is saved next to it (`<db>.vectors/`) so a restart does not rebuild
it; the file name carries the workspace's creation time, so a recreated database never reads an
old file. On PostgreSQL each process builds its own from the database.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlmodel import Session, func, select

from models import Mention, Workspace
from pipelines.vector_index import HnswIndex
from pipelines.vectors import unpack_many

log = logging.getLogger("verbatim.vectors")

# how often an index in use is checked against the database's count of embedded mentions
RECONCILE_SECONDS = 30.0
# an index is written to disk after this many changes (and after its first build)
SAVE_EVERY = 1_000
# embeddings read from the database at a time while building
READ_BATCH = 5_000


@dataclass
class _Entry:
    index: HnswIndex | None = None
    max_id: int = 0
    checked: float = -np.inf
    unsaved: int = 0
    path: Path | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class MentionIndexes:
    """The process's indexes, one per (database, workspace); safe to share between threads."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, int, str], _Entry] = {}
        self._lock = threading.Lock()

    def nearest(self, *, session: Session, workspace_id: int, vector: np.ndarray,
                k: int) -> tuple[np.ndarray, np.ndarray]:
        """Ids of the workspace's k mentions nearest to vector and their cosine, best first."""
        entry = self._entry(session, workspace_id, create=True)
        if entry is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        with entry.lock:
            self._sync(session, workspace_id, entry)
            if entry.index is None:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            return entry.index.search(vector, k)

    def refresh(self, *, session: Session, workspace_id: int) -> None:
        """Builds or catches up the workspace's index now (a job), not in the next request."""
        entry = self._entry(session, workspace_id, create=True)
        if entry is not None:
            with entry.lock:
                self._sync(session, workspace_id, entry)

    def forget(self, *, session: Session, workspace_id: int, ids: Iterable[int]) -> None:
        """Drops ids the caller found gone from the database."""
        entry = self._entry(session, workspace_id, create=False)
        ids = np.fromiter(ids, dtype=np.int64)
        if entry is not None and len(ids):
            with entry.lock:
                if entry.index is not None:
                    entry.index.remove(ids)
                    entry.unsaved += len(ids)

    def on_commit(self, *, session: Session, workspace_id: int, added: list[Mention],
                  removed: list[int]) -> None:
        """Applies a job's added and deleted mentions once (and only if) its session commits."""
        entry = self._entry(session, workspace_id, create=False)
        if entry is None:  # nothing built here yet: the first use reads the database anyway
            return
        ids = np.array([m.id for m in added], dtype=np.int64)
        vectors = unpack_many([m.embedding for m in added])
        gone = np.array(removed, dtype=np.int64)

        def apply(_session: Session) -> None:
            try:
                _apply(entry, ids, vectors, gone)
            except Exception:  # the commit stands; the next use reconciles with the database
                log.exception("vector index of workspace %s not updated", workspace_id)

        event.listen(session, "after_commit", apply, once=True)

    def _entry(self, session: Session, workspace_id: int, *, create: bool) -> _Entry | None:
        created = session.exec(select(Workspace.created_at)
                               .where(Workspace.id == workspace_id)).first()
        if created is None:
            return None
        url = session.get_bind().url
        key = (url.render_as_string(hide_password=True), workspace_id, created.isoformat())
        with self._lock:
            entry = self._entries.get(key)
            if entry is None and create:
                entry = _Entry(path=_index_path(url, workspace_id, created.timestamp()))
                self._entries[key] = entry
            return entry

    def _sync(self, session: Session, workspace_id: int, entry: _Entry) -> None:
        if entry.index is None and entry.path is not None:
            _load(entry)
        self._add_rows(session, entry, Mention.id > entry.max_id, workspace_id)
        if time.monotonic() - entry.checked >= RECONCILE_SECONDS:
            self._reconcile(session, workspace_id, entry)
            entry.checked = time.monotonic()
        _maybe_save(entry)

    def _add_rows(self, session: Session, entry: _Entry, condition, workspace_id: int) -> None:
        query = (select(Mention.id, Mention.embedding)
                 .where(Mention.workspace_id == workspace_id, Mention.embedding.is_not(None),
                        condition)
                 .order_by(Mention.id).execution_options(yield_per=READ_BATCH))
        batch: list[tuple[int, bytes]] = []
        for row in session.exec(query):
            batch.append((row[0], row[1]))
            if len(batch) >= READ_BATCH:
                _add_batch(entry, batch)
                batch = []
        _add_batch(entry, batch)

    def _reconcile(self, session: Session, workspace_id: int, entry: _Entry) -> None:
        """Compares ids with the database when the counts disagree; adds and removes the rest."""
        count = session.exec(select(func.count(Mention.id)).where(
            Mention.workspace_id == workspace_id, Mention.embedding.is_not(None))).one()
        held = len(entry.index) if entry.index is not None else 0
        if count == held:
            return
        stored = np.array(session.exec(select(Mention.id).where(
            Mention.workspace_id == workspace_id, Mention.embedding.is_not(None))).all(),
            dtype=np.int64)
        indexed = entry.index.ids() if entry.index is not None else np.zeros(0, dtype=np.int64)
        gone = np.setdiff1d(indexed, stored)
        missing = np.setdiff1d(stored, indexed)
        log.info("vector index of workspace %s: %d gone, %d missing", workspace_id,
                 len(gone), len(missing))
        if entry.index is not None and len(gone):
            entry.index.remove(gone)
            entry.unsaved += len(gone)
        for start in range(0, len(missing), READ_BATCH):
            chunk = [int(i) for i in missing[start:start + READ_BATCH]]
            self._add_rows(session, entry, Mention.id.in_(chunk), workspace_id)



def _apply(entry: _Entry, ids: np.ndarray, vectors: np.ndarray, gone: np.ndarray) -> None:
    with entry.lock:
        if entry.index is None:
            return
        entry.index.remove(gone)
        if len(ids):
            entry.index.add(ids, vectors)
            entry.max_id = max(entry.max_id, int(ids.max()))
        entry.unsaved += len(ids) + len(gone)
        _maybe_save(entry)


def _maybe_save(entry: _Entry) -> None:
    if entry.path is None or entry.index is None or entry.unsaved < SAVE_EVERY:
        return
    entry.index.save(entry.path)
    entry.path.with_suffix(".json").write_text(json.dumps({"max_id": entry.max_id}))
    entry.unsaved = 0


def _add_batch(entry: _Entry, rows: list[tuple[int, bytes]]) -> None:
    if not rows:
        return
    vectors = unpack_many([blob for _, blob in rows])
    if entry.index is None:
        entry.index = HnswIndex(vectors.shape[1])
        entry.unsaved = SAVE_EVERY  # a first build is worth keeping at once
    ids = np.array([i for i, _ in rows], dtype=np.int64)
    entry.index.add(ids, vectors)
    entry.max_id = max(entry.max_id, int(ids.max()))
    entry.unsaved += len(ids)


def _load(entry: _Entry) -> None:
    """The saved index, if there is a readable one; otherwise it is built from the database."""
    meta = entry.path.with_suffix(".json")
    if not (entry.path.exists() and meta.exists()):
        return
    try:
        index = HnswIndex.load(entry.path)
        max_id = int(json.loads(meta.read_text())["max_id"])
    except (ValueError, KeyError, OSError) as exc:
        log.warning("vector index %s unreadable, rebuilding it: %s", entry.path, exc)
        return
    entry.index, entry.max_id, entry.checked = index, max_id, -np.inf


def _index_path(url: URL, workspace_id: int, created: float) -> Path | None:
    """Next to a SQLite file; None (memory only) for PostgreSQL and in-memory SQLite."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    base = Path(url.database)
    return base.with_name(base.name + ".vectors") / f"ws{workspace_id}-{created:.6f}.usearch"
