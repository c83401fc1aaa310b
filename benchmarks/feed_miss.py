"""What a feed cache miss costs: each target computed afresh in this process, with its SQL.

    python benchmarks/feed_miss.py --mentions 10000 [--database postgresql://...] [--reuse]

Builds (or, with --reuse, keeps) feed_load.py's N-mention workspace and computes each target as
its route does on a miss (API feed plain, API feed filtered, the web feed page's view), --repeat
times. Prints per target one line, then where the time went, step by step (each step's queries
and the reading of their rows; `rest`: ranking, the answer's JSON or HTML):
    feed_miss TARGET mentions=N median=… min=… cpu=… [db_cpu=…]
      STEP … ms
milliseconds, medians over the repeats; cpu is this process's CPU time per answer, db_cpu the
PostgreSQL server process's own (when it runs on this machine), so that both can be compared
on a machine whose wall times other work inflates.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feed_load import CACHE, build_workspace, reset_database

# the steps of a miss, by the modules that call them: each one's time includes its SQL and the
# reading of its rows (SQLite computes a result while it is fetched, so statement hooks miss it)
STEPS = {
    "app.services.feed_view": ("feed_groups", "theme_quotes", "other_quotes"),
    "app.web.feed": ("feed_groups", "theme_quotes", "other_quotes", "weekly_mentions", "facets",
                     "quote_views", "progress"),
}


class StepClock:
    """Wraps each step so that its wall time is summed under its name; the rest is `rest`."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)

    def attach(self) -> None:
        import importlib

        for module_name, names in STEPS.items():
            module = importlib.import_module(module_name)
            for name in names:
                setattr(module, name, self._timed(name, getattr(module, name)))

    def _timed(self, name: str, function):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.spent[name] += time.perf_counter() - start

        return timed


def targets(workspace_id: int, now: datetime) -> dict:
    """Each target as its route computes it on a miss."""
    from app.services.feed import FeedFilters
    from app.services.feed_view import feed_page
    from app.web.feed import feed_view
    from app.web.filters import FeedQuery

    page = {"kind": "objections", "sort": "score", "limit": 20, "quotes": 5, "cursor": None,
            "themes": 10, "now": now}
    filtered = FeedFilters(outcome="lost", since=now - timedelta(days=90), tags=("enterprise",),
                           confident_roles=True)
    return {
        "api_plain": lambda s: feed_page(session=s, workspace_id=workspace_id,
                                         filters=FeedFilters(), **page).model_dump_json(),
        "api_filtered": lambda s: feed_page(session=s, workspace_id=workspace_id,
                                            filters=filtered, **page).model_dump_json(),
        "page": lambda s: feed_view(session=s, workspace_id=workspace_id, query=FeedQuery(),
                                    now=now),
    }


class ServerClock:
    """CPU time of the PostgreSQL process serving a session, from /proc (nanoseconds of run
    time in its schedstat); None where the server is not a process of this machine."""

    def __init__(self, session) -> None:
        from sqlalchemy import text

        self.path = None
        if session.get_bind().dialect.name == "postgresql":
            pid = session.exec(text("SELECT pg_backend_pid()")).scalar_one()
            self.path = Path(f"/proc/{pid}/schedstat")

    def seconds(self) -> float | None:
        try:
            return int(self.path.read_text().split()[0]) / 1e9 if self.path else None
        except OSError:
            return None


def measure(url: str, mentions: int, repeat: int) -> None:
    from sqlmodel import Session, select

    from app.db import make_engine
    from models import Workspace

    engine = make_engine(url)
    clock = StepClock()
    clock.attach()
    now = datetime.now(UTC)
    with Session(engine) as session:
        workspace_id = session.exec(select(Workspace.id).where(
            Workspace.name == "feed-load")).one()
    for name, compute in targets(workspace_id, now).items():
        walls, cpus, db_cpus = [], [], []
        spent: dict[str, list[float]] = defaultdict(list)
        for _ in range(repeat):
            clock.spent.clear()
            with Session(engine) as session:
                server = ServerClock(session)
                db_cpu = server.seconds()
                wall, cpu = time.perf_counter(), time.process_time()
                compute(session)
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
                if db_cpu is not None and (db_after := server.seconds()) is not None:
                    db_cpus.append(db_after - db_cpu)
            for step, seconds in clock.spent.items():
                spent[step].append(seconds)
            spent["rest"].append(walls[-1] - sum(clock.spent.values()))
        print(f"feed_miss {name} mentions={mentions} median={statistics.median(walls) * 1e3:.0f} "
              f"min={min(walls) * 1e3:.0f} cpu={statistics.median(cpus) * 1e3:.0f}"
              + (f" db_cpu={statistics.median(db_cpus) * 1e3:.0f}" if db_cpus else ""),
              flush=True)
        for step, seconds in sorted(spent.items(), key=lambda kv: -statistics.median(kv[1])):
            print(f"  {step:<16} {statistics.median(seconds) * 1e3:7.1f} ms", flush=True)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database", default=None,
                        help="a PostgreSQL URL to empty and use (default: a SQLite file)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the workspace the last run built there")
    args = parser.parse_args()
    url = args.database or f"sqlite:///{CACHE / f'feed_load_{args.mentions}.db'}"
    CACHE.mkdir(parents=True, exist_ok=True)
    if not args.reuse:
        reset_database(url)
        build_workspace(url, args.mentions)
    measure(url, args.mentions, args.repeat)


if __name__ == "__main__":
    main()
