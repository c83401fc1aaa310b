"""The feed under load: an N-mention workspace, a real server, C clients for S seconds a target.

    python benchmarks/feed_load.py --mentions 100000 --clients 50 --seconds 30 \
        [--database postgresql://...]   # default: a SQLite file under benchmarks/.cache

Prints, per target (API feed plain, API feed filtered, the web feed page), one line:
    feed_load TARGET clients=C p50=… p95=… p99=… rps=… errors=… rss_mb=… server_cpu_us=…
    client_cpu_us=…
latencies in milliseconds, rss_mb the server's peak resident memory while that target ran
(summed over its processes), then the CPU time (user and system) per answer of the server and
of this load generator: on a shared machine the latencies move with everything else running,
the CPU per answer much less.

The workspace. Objection quotes are the 1,487 labelled ones of benchmarks/data/labelled (with
their categories), each in four wordings (a filler before or after it); every wording is embedded
once with the project's embedder and cached in benchmarks/.cache. Calls (one per ~6 mentions,
dated over the last 180 days, with accounts, deal stages, outcomes, tags and role confidences
drawn at random) each get ~6 sampled quotes and a ~8 KB raw payload. Themes are synthetic but
realistic: k-means on the wordings' embeddings (about one theme per 700 mentions), the 80% of
mentions closest to their centre are members with their cosine as similarity and their lead in
quote order as a rebuild writes it, the rest sit in their category's other group. Rows are
inserted in bulk (not through the pipeline); the feed's summaries are then built by the
rebuild's own code (app/services/rollups.py), timed.

The server is started as `verbatim serve` starts it (its worker threads idle: no jobs). Each
client is a keep-alive HTTP/1.1 connection sending its next request when the last one answered.
A --database URL is emptied first (unless --reuse). VERBATIM_FEED_CACHE_SECONDS=0 in the
environment measures every request computed afresh.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Self

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CACHE = ROOT / "benchmarks/.cache"
LABELLED = ROOT / "benchmarks/data/labelled"
WORDINGS = (("", ""), ("Honestly, ", ""), ("", " — that's the thing for us."), ("I mean, ", ""))
MENTIONS_PER_CALL = 6
MENTIONS_PER_THEME = 700
THEMED_SHARE = 0.8
PAYLOAD_BYTES = 8_000
DAYS = 180


@dataclass(frozen=True)
class Corpus:
    texts: list[str]
    categories: list[str]
    vectors: np.ndarray  # unit rows, float32


def load_corpus() -> Corpus:
    """Every labelled objection quote in each wording, embedded once (cached on disk)."""
    quotes: dict[str, str] = {}
    for path in sorted(LABELLED.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            if row.get("objection") and row.get("quote") and row.get("category"):
                quotes.setdefault(row["quote"], row["category"])
    texts = [f"{pre}{q[0].lower() if pre else q[0]}{q[1:]}{post}"
             for q in quotes for pre, post in WORDINGS]
    categories = [c for c in quotes.values() for _ in WORDINGS]
    cache = CACHE / "feed_load_vectors.npz"
    if cache.exists():
        stored = np.load(cache, allow_pickle=False)
        if list(stored["texts"]) == texts:
            return Corpus(texts, categories, stored["vectors"])
    from pipelines.nlp_models import load_embedder

    print(f"embedding {len(texts)} wordings once (cached in {cache})", flush=True)
    vectors = np.asarray(load_embedder().encode(texts), dtype=np.float32)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(cache, texts=np.array(texts), vectors=vectors)
    return Corpus(texts, categories, vectors)


def themes_of(corpus: Corpus, n_mentions: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per wording: its k-means theme (-1: left in its category's other group) and its cosine
    to the theme's centre."""
    from sklearn.cluster import KMeans

    k = int(np.clip(n_mentions // MENTIONS_PER_THEME, 10, len(corpus.texts) // 20))
    km = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(corpus.vectors)
    centres = km.cluster_centers_ / np.linalg.norm(km.cluster_centers_, axis=1, keepdims=True)
    sims = np.einsum("ij,ij->i", corpus.vectors, centres[km.labels_])
    labels = km.labels_.copy()
    labels[sims < np.quantile(sims, 1 - THEMED_SHARE)] = -1
    return labels, sims


def build_workspace(url: str, n_mentions: int, seed: int = 7) -> str:
    """Writes the workspace and returns an API key for it."""
    from sqlalchemy import text
    from sqlmodel import Session

    from app.db import make_engine, migrate
    from app.services import rollups
    from app.services.feed import quote_lead
    from app.services.workspaces import create_api_key, get_or_create_workspace
    from models import Call, ClusterMember, Mention, Utterance

    corpus = load_corpus()
    labels, sims = themes_of(corpus, n_mentions, seed)
    rng = random.Random(seed)
    engine = make_engine(url)
    migrate(engine)
    start = time.perf_counter()
    now = datetime.now(UTC)
    with Session(engine) as session:
        ws = get_or_create_workspace(session=session, name="feed-load")
        key = create_api_key(session=session, workspace=ws)
        theme_ids = _insert_themes(session, ws.id, corpus, labels)
        n_calls = max(1, n_mentions // MENTIONS_PER_CALL)
        accounts = [f"Account {i}" for i in range(max(1, n_calls // 3))]
        payload = json.dumps({"utterances": [{"speaker": "Jo", "text": "x" * 90}] * 80})
        payload = payload[:PAYLOAD_BYTES]
        calls = [{"workspace_id": ws.id, "external_id": f"load-{i}", "content_hash": f"{i:064d}",
                      "title": f"Call {i}", "raw_payload": payload, "status": "processed",
                      "started_at": now - timedelta(days=rng.uniform(0, DAYS)),
                      "account": rng.choice(accounts),
                      "deal_stage": rng.choice(("discovery", "demo", "proposal", "negotiation")),
                      "outcome": rng.choice(("won", "lost", "open", "open", None)),
                      "tags": rng.sample(("smb", "enterprise", "eu", "us", "inbound", "partner"),
                                      rng.randrange(3)),
                      "role_confidence": 0.6 if rng.random() < 0.15 else 0.9,
                      "created_at": now, "updated_at": now}
                 for i in range(n_calls)]
        call_ids = _bulk(session, Call, calls)
        per_call = [0] * n_calls
        for i in range(n_mentions):
            per_call[i % n_calls] += 1
        utts, picks = [], []
        for call_id, count in zip(call_ids, per_call, strict=True):
            for j in range(count):
                w = rng.randrange(len(corpus.texts))
                picks.append((call_id, w))
                utts.append({"workspace_id": ws.id, "call_id": call_id, "idx": j, "speaker": "Jo",
                                 "role": "customer", "start_ms": j * 30_000, "text": corpus.texts[w]})
        utt_ids = _bulk(session, Utterance, utts)
        vectors = {w: corpus.vectors[w].tobytes() for w in {w for _, w in picks}}
        mentions = [{"workspace_id": ws.id, "call_id": call_id, "utterance_id": utt_id,
                         "kind": "objection", "category": corpus.categories[w],
                         "confidence": rng.choice((0.4, 0.8, 0.9, 0.95)), "text": corpus.texts[w],
                         "start_char": 0, "end_char": len(corpus.texts[w]), "start_ms": 0, "speaker": "Jo",
                         "key_phrases": [], "embedding": vectors[w], "created_at": now}
                    for (call_id, w), utt_id in zip(picks, utt_ids, strict=True)]
        mention_ids = _bulk(session, Mention, mentions)
        members = [{"mention_id": mid, "cluster_id": theme_ids[labels[w]], "workspace_id": ws.id,
                        "similarity": float(sims[w]),
                        "lead": quote_lead(float(sims[w]), m["confidence"], m["kind"])}
                   for mid, m, (_, w) in zip(mention_ids, mentions, picks, strict=True)
                   if labels[w] >= 0]
        _bulk(session, ClusterMember, members, returning=False)
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE"))  # as autovacuum would after a bulk load
            session.commit()
        print(f"built {n_calls} calls, {len(mentions)} mentions, {len(theme_ids)} themes, "
              f"{len(members)} members in {time.perf_counter() - start:.1f}s", flush=True)
        start = time.perf_counter()
        for kind in ("objection", "question", "pain"):
            rollups.rebuild_kind(session=session, workspace_id=ws.id, kind=kind)
        rollups.rebuild_tags(session=session, workspace_id=ws.id)
        session.commit()
        print(f"feed summaries rebuilt in {time.perf_counter() - start:.1f}s", flush=True)
    engine.dispose()
    return key


def new_key(url: str) -> str:
    from app.db import make_engine, session_scope
    from app.services.workspaces import create_api_key, get_or_create_workspace

    engine = make_engine(url)
    with session_scope(engine) as session:
        key = create_api_key(session=session,
                             workspace=get_or_create_workspace(session=session, name="feed-load"))
    engine.dispose()
    return key


def _insert_themes(session, workspace_id: int, corpus: Corpus, labels: np.ndarray) -> dict:
    from collections import Counter

    from models import Cluster

    ids = {}
    for label in sorted(set(labels.tolist()) - {-1}):
        members = np.flatnonzero(labels == label)
        category = Counter(corpus.categories[i] for i in members).most_common(1)[0][0]
        cluster = Cluster(workspace_id=workspace_id, kind="objection",
                          label=corpus.texts[members[0]][:80], category=category,
                          keywords=[category], size=len(members))
        session.add(cluster)
        session.flush()
        ids[label] = cluster.id
    return ids


def _bulk(session, model, rows: list[dict], returning: bool = True, chunk: int = 5000) -> list:
    from sqlalchemy import insert

    ids: list = []
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        if returning:
            result = session.execute(insert(model).returning(model.id, sort_by_parameter_order=True),
                                     part)
            ids.extend(r[0] for r in result)
        else:
            session.execute(insert(model), part)
    return ids


def reset_database(url: str) -> None:
    """A PostgreSQL database is emptied; a SQLite file is deleted."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    from sqlalchemy import text

    from app.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def start_server(url: str, port: int) -> subprocess.Popen:
    env = dict(os.environ, VERBATIM_DATABASE_URL=url, HF_HUB_OFFLINE="1",
               VERBATIM_SESSION_SECRET="feed-load-benchmark")
    code = "import sys; from app.cli import main; sys.exit(main())"
    server = subprocess.Popen([sys.executable, "-c", code, "serve", "--host", "127.0.0.1",
                               "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited before serving")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)
            return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("the server did not start within 300 s")


def page_cookie(port: int, key: str) -> str:
    """Signs in on the web page as a person would and returns the session cookie."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(f"http://127.0.0.1:{port}/login").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    if csrf is None:
        raise SystemExit("no csrf field on the login page")
    form = urllib.parse.urlencode({"csrf": csrf.group(1), "api_key": key, "next": "/"}).encode()
    opener.open(f"http://127.0.0.1:{port}/login", data=form)
    return "; ".join(f"{c.name}={c.value}" for c in jar)


class RssPeak:
    """The server's peak resident memory (summed over its processes), sampled every 50 ms while
    a target runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kb, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, sum(_rss_kb(p) for p in _processes(self.pid)))
            self._stop.wait(0.05)


def _processes(pid: int) -> list[int]:
    """A process and its descendants (the server's workers, when it has some)."""
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        try:
            todo += map(int, Path(f"/proc/{found[-1]}/task/{found[-1]}/children").read_text()
                        .split())
        except OSError:  # gone meanwhile
            continue
    return found


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    """User and system CPU of a process and its descendants so far."""
    total = 0
    for p in _processes(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Client(asyncio.Protocol):
    """One keep-alive connection that sends its next request once the last answer is read whole.

    Lean on purpose (a protocol, not a stream reader read a line at a time): on a machine of
    two cores the load generator's own CPU is taken from the server's. An answer counts once every byte its
    Content-Length announces has arrived; one that is not a 200, that cannot be framed (no
    Content-Length) or that carries bytes beyond it is an error, as is a connection lost
    before its answer.
    """

    def __init__(self, request: bytes, until: float, latencies: list[float],
                 errors: list[int]) -> None:
        self.request, self.until, self.latencies, self.errors = request, until, latencies, errors
        self.done: asyncio.Future = asyncio.get_running_loop().create_future()
        self.buffer = bytearray()
        self.expected: int | None = None  # the whole answer's size, once its head is read
        self.status = 0
        self.started = 0.0
        self.hung_up = False  # by this client, after its last answer or a broken one
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._send()

    def _send(self) -> None:
        self.started = time.perf_counter()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.expected is None and not self._read_head():
            return
        if len(self.buffer) < self.expected:
            return
        self.latencies.append(time.perf_counter() - self.started)
        framed = self.status > 0 and len(self.buffer) == self.expected
        if self.status != 200 or not framed:
            self.errors.append(self.status)
        self.buffer.clear()
        self.expected = None
        if framed and time.perf_counter() < self.until:
            self._send()
        else:
            self.hung_up = True
            self.transport.close()

    def _read_head(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self.buffer[:end]).lower()
        self.status = int(head[9:12])  # "http/1.1 200 ok"
        at = head.find(b"\r\ncontent-length:")
        if at < 0 and self.status not in (204, 304):  # no way to tell the whole answer came
            self.status = -1
        line_end = head.find(b"\r\n", at + 2)
        length = 0 if at < 0 else int(head[at + 17:line_end if line_end >= 0 else None])
        self.expected = end + 4 + length
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.hung_up:
            self.errors.append(-1)  # the server (or a broken answer) closed it first
        self.done.set_result(None)


async def _drive(port: int, request: bytes, clients: int, seconds: float) -> tuple[list, list]:
    latencies: list[float] = []
    errors: list[int] = []
    until = time.perf_counter() + seconds
    loop = asyncio.get_running_loop()
    connections = []
    for _ in range(clients):
        try:
            _, client = await loop.create_connection(
                lambda: _Client(request, until, latencies, errors), "127.0.0.1", port)
        except OSError:
            errors.append(-1)
            continue
        connections.append(client)
    await asyncio.gather(*(c.done for c in connections))
    return latencies, errors


def run_target(name: str, port: int, path: str, headers: dict[str, str], clients: int,
               seconds: float, pid: int) -> str:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n".encode()
    asyncio.run(_drive(port, request, 2, 2.0))  # warm: first answers, caches, connections
    with RssPeak(pid) as rss:
        started, server_cpu, own_cpu = time.perf_counter(), _cpu_seconds(pid), _own_cpu_seconds()
        latencies, errors = asyncio.run(_drive(port, request, clients, seconds))
        elapsed = time.perf_counter() - started
        server_cpu, own_cpu = _cpu_seconds(pid) - server_cpu, _own_cpu_seconds() - own_cpu
    ms = sorted(x * 1000 for x in latencies) or [float("nan")]
    per_request = 1e6 / max(1, len(latencies))

    def pct(q: float) -> float:
        return ms[min(len(ms) - 1, int(q * len(ms)))]

    return (f"feed_load {name} clients={clients} p50={statistics.median(ms):.1f} "
            f"p95={pct(0.95):.1f} p99={pct(0.99):.1f} rps={len(latencies) / elapsed:.1f} "
            f"errors={len(errors)} rss_mb={rss.peak_kb / 1024:.0f} "
            f"server_cpu_us={server_cpu * per_request:.0f} "
            f"client_cpu_us={own_cpu * per_request:.0f}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--database", default=None,
                        help="a PostgreSQL URL to empty and use (default: a SQLite file)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the workspace the last run built there (a new key for it)")
    args = parser.parse_args()
    url = args.database or f"sqlite:///{CACHE / f'feed_load_{args.mentions}.db'}"
    CACHE.mkdir(parents=True, exist_ok=True)
    if args.reuse:
        key = new_key(url)
    else:
        reset_database(url)
        key = build_workspace(url, args.mentions)
    port = free_port()
    server = start_server(url, port)
    try:
        api = {"Authorization": f"Bearer {key}"}
        since = (datetime.now(UTC) - timedelta(days=90)).date().isoformat()
        targets = [
            ("api_plain", "/v1/feed/objections?limit=20", api),
            ("api_filtered", (f"/v1/feed/objections?limit=20&outcome=lost&since={since}"
                             "&tags=enterprise&roles=confident"), api),
            ("page", "/", {"Cookie": page_cookie(port, key)}),
        ]
        for name, path, headers in targets:
            print(run_target(name, port, path, headers, args.clients, args.seconds, server.pid),
                  flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
