"""The `verbatim` command: serve, worker, ingest, keys create|list|revoke, rebuild, demo."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from app.logs import configure as configure_logging
from app.settings import Settings

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    configure_logging(logging.INFO)
    return int(args.func(args) or 0)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="verbatim", description=__doc__)
    sub = p.add_subparsers(required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="serve the API (with the worker thread)")
    _serving_options(serve)
    serve.set_defaults(func=_serve)
    worker = sub.add_parser("worker", help="process queued jobs in this process (on "
                            "PostgreSQL: a procrastinate worker; run as many as you like)")
    worker.add_argument("--once", action="store_true", help="stop when the queue is empty")
    worker.add_argument("--queues", default=None,
                        help="PostgreSQL: only these queues, comma-separated (calls,rebuilds)")
    worker.add_argument("--concurrency", type=int, default=None,
                        help="PostgreSQL: jobs run at once (VERBATIM_WORKER_CONCURRENCY, 2)")
    worker.set_defaults(func=_worker)
    ingest = sub.add_parser("ingest", help="store transcript files and queue them")
    ingest.add_argument("paths", nargs="+", type=Path)
    ingest.add_argument("--workspace", default="demo")
    ingest.add_argument("--format", default=None)
    ingest.add_argument("--process", action="store_true", help="process them now")
    ingest.set_defaults(func=_ingest)
    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(required=True)
    create = keys.add_parser("create", help="create a key (and the workspace if needed)")
    create.add_argument("--workspace", required=True)
    create.set_defaults(func=_keys_create)
    listing = keys.add_parser("list", help="list a workspace's keys (id, prefix, state)")
    listing.add_argument("--workspace", required=True)
    listing.set_defaults(func=_keys_list)
    revoke = keys.add_parser("revoke", help="revoke a key, named by its id or prefix")
    revoke.add_argument("key", help="the key's id or its printed prefix (vb_...)")
    revoke.set_defaults(func=_keys_revoke)
    rebuild = sub.add_parser("rebuild", help="re-cluster a workspace now")
    rebuild.add_argument("--workspace", default="demo")
    rebuild.set_defaults(func=_rebuild)
    demo = sub.add_parser("demo", help="load the demo transcripts, process them, then serve")
    _serving_options(demo)
    demo.add_argument("--no-serve", action="store_true")
    demo.set_defaults(func=_demo)
    return p


def _serving_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    # a line per request cost a cached feed answer a fifth of its CPU; /metrics counts requests
    parser.add_argument("--access-log", action="store_true",
                        help="log every request (uvicorn's access log; off by default)")


def _engine(settings: Settings):
    from app.db import make_engine, migrate

    engine = make_engine(settings.database_url)
    migrate(engine)
    return engine


def _serve(args: argparse.Namespace, models=None) -> int:
    import uvicorn

    from app.main import create_app

    app = create_app(Settings.from_env(), models=models)
    print(f"verbatim serving at http://{args.host}:{args.port}  (API docs: /docs)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info",
                access_log=args.access_log)
    return 0


def _worker(args: argparse.Namespace) -> int:
    from app.nlp import load_models
    from app.worker import Worker

    settings = Settings.from_env()
    engine = _engine(settings)
    if engine.dialect.name == "postgresql":
        return _ticket_worker(args, engine, settings, load_models())
    worker = Worker(engine, load_models(), settings.worker_poll_seconds,
                    lease_seconds=settings.worker_lease_seconds)
    if args.once:
        worker.recover()
        print(f"processed {worker.run_until_idle()} jobs")
        return 0
    signal.signal(signal.SIGTERM, lambda *_: worker.request_stop())
    try:
        worker.run_forever()
    except KeyboardInterrupt:
        pass
    return 0


def _ticket_worker(args: argparse.Namespace, engine, settings: Settings, models) -> int:
    from app.pg_worker import TicketWorker

    queues = [q.strip() for q in args.queues.split(",") if q.strip()] if args.queues else None
    worker = TicketWorker(engine, models, lease_seconds=settings.worker_lease_seconds,
                          concurrency=args.concurrency or settings.worker_concurrency,
                          queues=queues)
    if args.once:
        print(f"processed {worker.run_until_idle()} jobs")
        return 0
    worker.run_forever()  # SIGTERM or Ctrl-C: stops after the jobs in hand
    return 0


def _keys_create(args: argparse.Namespace) -> int:
    from app.db import session_scope
    from app.services.workspaces import create_api_key, get_or_create_workspace

    with session_scope(_engine(Settings.from_env())) as session:
        workspace = get_or_create_workspace(session=session, name=args.workspace)
        key = create_api_key(session=session, workspace=workspace)
    print(f"workspace {args.workspace!r}: new API key (shown once):")
    print(key)
    return 0


def _keys_list(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from app.db import session_scope
    from app.services.keys import list_keys
    from models import Workspace

    with session_scope(_engine(Settings.from_env())) as session:
        workspace = session.exec(select(Workspace).where(Workspace.name == args.workspace)).first()
        if workspace is None:
            print(f"no workspace {args.workspace!r}", file=sys.stderr)
            return 1
        for key in list_keys(session=session, workspace_id=workspace.id):
            state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
            print(f"{key.id}\t{key.prefix}...\tcreated {key.created_at:%Y-%m-%d %H:%M}\t{state}")
    return 0


def _keys_revoke(args: argparse.Namespace) -> int:
    from app.db import session_scope
    from app.errors import VerbatimError
    from app.services.keys import find_key, revoke_key, workspace_name

    with session_scope(_engine(Settings.from_env())) as session:
        try:
            key = find_key(session=session, ref=args.key)
        except VerbatimError as exc:
            print(exc.message, file=sys.stderr)
            return 1
        revoke_key(session=session, workspace_id=key.workspace_id, key_id=key.id)
        print(f"key {key.id} ({key.prefix}...) of workspace "
              f"{workspace_name(session=session, key=key)!r} is revoked")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from app.loader import ingest_files

    settings = Settings.from_env()
    engine = _engine(settings)
    failed = ingest_files(engine=engine, settings=settings, workspace=args.workspace,
                          paths=args.paths, fmt=args.format)
    if args.process:
        _process(engine, settings)
    return 1 if failed else 0


def _process(engine, settings: Settings, models=None):
    from app.nlp import load_models
    from app.worker import Worker, in_process_workers

    if models is None:
        print("loading models (spaCy, all-MiniLM-L6-v2)...", flush=True)
        models = load_models()
    runner = in_process_workers(engine, models, settings)[0]
    runner.recover()
    if isinstance(runner, Worker):  # SQLite: one job at a time, with a progress bar
        _run_with_progress(engine, runner)
    else:
        runner.run_until_idle()
    return models


# what the progress bar says while the next queued job of a kind runs
_DOING = {"process_call": "processing calls", "roles": "re-deciding roles",
          "rebuild": "clustering themes"}


def _run_with_progress(engine, worker) -> int:
    """Runs every queued job, with a bar that names the work and grows as jobs are queued
    (processed calls queue the clustering rebuild)."""
    from sqlmodel import Session, func, select
    from tqdm import tqdm

    from models import Job

    def queued() -> tuple[int, str | None]:
        with Session(engine) as session:
            count = session.exec(select(func.count()).where(Job.status == "queued")).one()
            kind = session.exec(select(Job.kind).where(Job.status == "queued")
                                .order_by(Job.priority, Job.id)).first()
        return count, kind

    done = 0
    # the bar reports each job; the worker's per-job log lines would only break it up
    worker_log = logging.getLogger("verbatim.worker")
    level, worker_log.level = worker_log.level, max(worker_log.level, logging.WARNING)
    try:
        with tqdm(unit="job", desc="processing") as bar:
            while True:
                left, kind = queued()
                bar.total = done + left
                bar.set_description(_DOING.get(kind or "", "processing"))
                if not worker.run_once():
                    break
                done += 1
                bar.update(1)
    finally:
        worker_log.setLevel(level)
    return done


def _rebuild(args: argparse.Namespace) -> int:
    from app.db import session_scope
    from app.services.clusters import request_rebuild
    from app.services.workspaces import get_or_create_workspace

    settings = Settings.from_env()
    engine = _engine(settings)
    with session_scope(engine) as session:
        workspace = get_or_create_workspace(session=session, name=args.workspace)
        job = request_rebuild(session=session, workspace_id=workspace.id)
    _process(engine, settings)
    print(f"rebuild job {job.id} finished")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from app.loader import load_demo

    settings = Settings.from_env()
    engine = _engine(settings)
    key, models = load_demo(engine=engine, settings=settings, samples=SAMPLES,
                            process=_process)
    print(f"\n  demo workspace ready — sign in at http://{args.host}:{args.port} with API key:"
          f"\n  {key}\n", flush=True)
    if args.no_serve:
        return 0
    engine.dispose()
    return _serve(args, models=models)


if __name__ == "__main__":
    sys.exit(main())
