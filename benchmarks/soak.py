"""Crash and scale-out soak on PostgreSQL, loopback only, bounded in time.

N API processes (`verbatim serve`, no in-process worker) and M procrastinate worker
processes (`verbatim worker`) share one database. Calls are posted through the APIs, 5% of them
re-delivered (half unchanged, half changed); every --kill-every seconds a random worker gets
kill -9 and is started again, and the other workers are restarted in turn (SIGTERM: they
finish the job in hand). At the end it prints:
  lost                  calls posted but never stored, or unprocessed with no job left
  run_twice_at_once     jobs two workers executed over overlapping time spans
  stuck                 jobs still queued or running after the drain
  changed_redelivery_wins   changed re-deliveries whose content is the one stored
  calls_per_min         processed calls per minute of the run

    python benchmarks/soak.py --database-url postgresql://postgres@127.0.0.1:5432/soak \
        --calls 2000 --apis 2 --workers 3 --kill-every 20 --max-seconds 1800
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.db import make_engine, migrate, session_scope
from app.services.workspaces import create_api_key, get_or_create_workspace

LINES = ["The price is too high for our budget this year.",
         "We already use Gong and switching is a pain.",
         "How does this integrate with Salesforce?",
         "Legal will not sign a three year term.",
         "Our team spends hours every week tagging calls by hand.",
         "Can we get a pilot for one region first?"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Fleet:
    """The API and worker processes, their logs, and their deaths (for the overlap check)."""

    def __init__(self, db_url: str, logs: Path, lease: int, concurrency: int) -> None:
        self.env = {**os.environ, "VERBATIM_DATABASE_URL": db_url, "VERBATIM_WORKER": "0",
                    "VERBATIM_LOG_FORMAT": "json", "VERBATIM_WORKER_LEASE": str(lease),
                    "VERBATIM_WORKER_CONCURRENCY": str(concurrency),
                    "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        self.logs = logs
        self.workers: dict[int, subprocess.Popen] = {}
        self.worker_logs: dict[int, Path] = {}
        self.born: dict[int, float] = {}
        self.deaths: dict[int, float] = {}  # pid -> when it was killed or stopped
        self.apis: list[tuple[subprocess.Popen, str]] = []
        self.kills = self.restarts = 0
        self._n = 0

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen:
        self._n += 1
        self.last_log = self.logs / f"{name}-{self._n}.log"
        log = open(self.last_log, "w")  # noqa: SIM115
        return subprocess.Popen([sys.executable, "-m", "app.cli", *args], cwd=ROOT,
                                env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def start_api(self) -> str:
        port = _free_port()
        proc = self._spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], "api")
        url = f"http://127.0.0.1:{port}"
        self.apis.append((proc, url))
        return url

    def start_worker(self, slot: int) -> None:
        self.workers[slot] = self._spawn(["worker"], f"worker{slot}")
        self.worker_logs[slot] = self.last_log
        self.born[slot] = time.time()

    def working(self) -> list[int]:
        """Workers that have loaded their models and run a job: killing one that is still
        starting (a minute on a loaded machine) would test nothing."""
        return [slot for slot, path in self.worker_logs.items()
                if '"job_id"' in path.read_text(errors="replace")]

    def kill(self, slot: int) -> None:
        proc = self.workers[slot]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.deaths[proc.pid] = time.time()
        self.kills += 1
        self.start_worker(slot)

    def restart(self, slot: int) -> None:
        proc = self.workers[slot]
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self.deaths[proc.pid] = time.time()
        self.restarts += 1
        self.start_worker(slot)

    def stop(self) -> None:
        for proc in [*self.workers.values(), *(p for p, _ in self.apis)]:
            proc.send_signal(signal.SIGKILL)
            proc.wait()


def _wait_ready(urls: list[str], timeout: float) -> None:
    deadline = time.time() + timeout
    for url in urls:
        while True:
            try:
                if httpx.get(url + "/openapi.json", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                raise SystemExit(f"{url} did not start in {timeout:.0f} s")
            time.sleep(1)


def _call(i: int, version: int) -> dict:
    rng = random.Random(i * 7 + version)
    customer = [rng.choice(LINES) for _ in range(3)]
    if version:
        customer.append(f"Version {version} marker for call {i}.")
    utts = []
    for n, line in enumerate(customer):
        utts.append({"speaker": "Dana Rep", "start_ms": n * 10000, "end_ms": n * 10000 + 4000,
                     "text": "What would make this a fit for you?"})
        utts.append({"speaker": "Jordan Buyer", "start_ms": n * 10000 + 5000,
                     "end_ms": n * 10000 + 9000, "text": line})
    return {"external_id": f"soak-{i}", "title": f"Soak call {i}", "account": f"Acct {i % 40}",
            "participants": [{"name": "Dana Rep", "role": "rep"},
                             {"name": "Jordan Buyer", "role": "customer"}],
            "utterances": utts}


def _post(client: httpx.Client, urls: list[str], key: str, body: dict) -> int:
    for attempt in range(30):  # an API process may be busy: retry on another
        url = urls[(hash(body["external_id"]) + attempt) % len(urls)]
        try:
            r = client.post(url + "/v1/calls", json=body, timeout=60,
                            headers={"Authorization": f"Bearer {key}"})
            if r.status_code < 500:
                return r.status_code
        except httpx.HTTPError:
            pass
        time.sleep(1)
    return 0


def _chaos(fleet: Fleet, every: float, stop: threading.Event) -> None:
    """Every `every` seconds kill -9 a working worker; every other round, restart another one
    (SIGTERM, it finishes its job), so that over the run each worker is restarted in turn."""
    rng = random.Random(1)
    rounds = 0
    while not stop.wait(every):
        working = fleet.working()
        if not working:
            continue
        victim = rng.choice(working)
        fleet.kill(victim)
        rounds += 1
        others = [s for s in fleet.working() if s != victim]
        if rounds % 2 == 0 and others:
            fleet.restart(others[rounds // 2 % len(others)])


def _overlaps(logs: Path, deaths: dict[int, float], end: float) -> int:
    """Jobs whose executions by two processes overlap in time (a killed one ran until its
    death; one that lost its lease is counted, its result being dropped is not an excuse)."""
    spans: dict[int, list[tuple[float, float, int]]] = defaultdict(list)
    open_: dict[tuple[int, int], float] = {}
    for path in logs.glob("worker*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if not line.startswith("{"):
                continue
            entry = json.loads(line)
            job, pid = entry.get("job_id"), entry["pid"]
            if job is None:
                continue
            ts = datetime.fromisoformat(entry["ts"]).timestamp()
            if entry["message"].endswith("started"):
                open_[(job, pid)] = ts
            elif (job, pid) in open_:
                spans[job].append((open_.pop((job, pid)), ts, pid))
    for (job, pid), start in open_.items():
        spans[job].append((start, deaths.get(pid, end), pid))
    twice = 0
    for runs in spans.values():
        runs.sort()
        if any(b[0] < a[1] and a[2] != b[2] for a, b in itertools.pairwise(runs)):
            twice += 1
    return twice


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("VERBATIM_SOAK_DATABASE_URL"))
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--apis", type=int, default=2)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--kill-every", type=float, default=20.0)
    ap.add_argument("--redeliver", type=float, default=0.05)
    ap.add_argument("--lease", type=int, default=15,
                    help="seconds without a heartbeat before a worker counts as dead")
    ap.add_argument("--concurrency", type=int, default=2, help="jobs per worker at once")
    ap.add_argument("--max-seconds", type=float, default=1800.0)
    ap.add_argument("--logs", type=Path, default=Path("/tmp/verbatim-soak"))
    ap.add_argument("--check", action="store_true",
                    help="exit 1 unless nothing was lost, run twice or stuck (CI)")
    args = ap.parse_args()
    if not args.database_url or not args.database_url.startswith("postgres"):
        raise SystemExit("--database-url must name a PostgreSQL database (it is emptied)")
    started = time.time()
    engine = make_engine(args.database_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    migrate(engine)
    with session_scope(engine) as session:
        key = create_api_key(session=session,
                             workspace=get_or_create_workspace(session=session, name="soak"))
    args.logs.mkdir(parents=True, exist_ok=True)
    for old in args.logs.glob("*.log"):
        old.unlink()
    fleet = Fleet(args.database_url, args.logs, args.lease, args.concurrency)
    urls = [fleet.start_api() for _ in range(args.apis)]
    for slot in range(args.workers):
        fleet.start_worker(slot)
    stop = threading.Event()
    try:
        _wait_ready(urls, timeout=min(600.0, args.max_seconds))
        print(f"fleet up in {time.time() - started:.0f} s: {args.apis} APIs, "
              f"{args.workers} workers", flush=True)
        chaos = threading.Thread(target=_chaos, args=(fleet, args.kill_every, stop),
                                 daemon=True)
        t0 = time.time()
        chaos.start()
        rng = random.Random(7)
        redeliver = rng.sample(range(args.calls), int(args.calls * args.redeliver))
        changed = set(redeliver[::2])
        with httpx.Client() as client, ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda i: _post(client, urls, key, _call(i, 0)),
                                  range(args.calls)))
            again = list(pool.map(lambda i: _post(client, urls, key,
                                                  _call(i, 2 if i in changed else 0)),
                                  redeliver))
        failed_posts = sum(c not in (200, 202) for c in codes + again)
        deadline = started + args.max_seconds
        while time.time() < deadline:
            with engine.connect() as conn:
                pending = conn.execute(text(
                    "SELECT count(*) FROM job WHERE status IN ('queued', 'running')")).scalar()
            if pending == 0:
                break
            time.sleep(2)
        elapsed = time.time() - t0
        stop.set()
        chaos.join(timeout=max(5.0, min(180.0, deadline + 30 - time.time())))
        result = report(engine, args, fleet, changed, failed_posts, elapsed)
    finally:
        stop.set()
        fleet.stop()
        engine.dispose()
    broken = (result["lost"] or result["run_twice_at_once"] or result["stuck"]
              or result["failed_posts"] or result["changed_redelivery_wins"]
              != f"{len(changed)}/{len(changed)}")
    return 1 if args.check and broken else 0


def report(engine, args, fleet: Fleet, changed: set[int], failed_posts: int,
           elapsed: float) -> dict:
    with engine.connect() as conn:
        status = dict(conn.execute(text(
            "SELECT external_id, status FROM call")).all())
        # a call still has work ahead when one of its jobs is queued or running
        pending = {row[0] for row in conn.execute(text(
            "SELECT DISTINCT c.external_id FROM job j JOIN call c ON c.id = j.call_id "
            "WHERE j.status IN ('queued', 'running')"))}
        stuck = conn.execute(text(
            "SELECT count(*) FROM job WHERE status IN ('queued', 'running')")).scalar()
        failed_jobs = conn.execute(text(
            "SELECT count(*) FROM job WHERE status = 'failed'")).scalar()
        attempts = conn.execute(text("SELECT coalesce(max(attempts), 0) FROM job")).scalar()
        # procrastinate's tickets (succeeded ones are deleted): none may be left waiting
        tickets = dict(conn.execute(text(
            "SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status")).all())
        marked = {row[0] for row in conn.execute(text(
            "SELECT DISTINCT c.external_id FROM utterance u JOIN call c ON c.id = u.call_id "
            "WHERE u.text LIKE 'Version 2 marker%'"))}
    posted = {f"soak-{i}" for i in range(args.calls)}
    processed = sum(status.get(e) == "processed" for e in posted)
    # lost: never stored, or unprocessed with no job left to process it
    lost = sum(status.get(e) not in ("processed", "failed") and e not in pending
               for e in posted)
    # the changed version is the one stored, and the call was processed after it arrived
    wins = sum(f"soak-{i}" in marked and status.get(f"soak-{i}") == "processed"
               for i in changed)
    result = {
        "calls": args.calls, "apis": args.apis, "workers": args.workers,
        "processed": processed,
        "kills": fleet.kills, "rolling_restarts": fleet.restarts,
        "failed_posts": failed_posts, "lost": lost,
        "failed_calls": sum(status.get(e) == "failed" for e in posted),
        "failed_jobs": failed_jobs, "max_attempts_seen": attempts,
        "run_twice_at_once": _overlaps(args.logs, fleet.deaths, time.time()),
        "stuck": stuck, "tickets_left": tickets,
        "changed_redelivery_wins": f"{wins}/{len(changed)}",
        "calls_per_min": round(processed / (elapsed / 60), 1), "seconds": round(elapsed, 1),
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    sys.exit(main())
