"""Loading transcript files from disk (the CLI's ingest and the demo)."""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine
from tqdm import tqdm

from app.db import session_scope
from app.errors import VerbatimError
from app.services.ingest import ingest_bytes
from app.services.workspaces import create_api_key, get_or_create_workspace
from app.settings import Settings
from pipelines.types import CallMeta, ParseError

_TYPES = {".vtt": "text/vtt", ".srt": "application/x-subrip", ".txt": "text/plain",
          ".json": "application/json"}


def _files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        out.extend(sorted(q for q in p.iterdir() if q.suffix in _TYPES) if p.is_dir() else [p])
    return out


def ingest_files(*, engine: Engine, settings: Settings, workspace: str, paths: list[Path],
                 fmt: str | None = None) -> int:
    """Stores each file as a call (idempotent); returns how many failed."""
    with session_scope(engine) as session:
        workspace_id = get_or_create_workspace(session=session, name=workspace).id
    failed = 0
    for path in tqdm(_files(paths), desc="ingest", unit="call"):
        content_type = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
        try:
            with session_scope(engine) as session:
                ingest_bytes(session=session, workspace_id=workspace_id,
                             body=path.read_bytes(), content_type=content_type, fmt=fmt,
                             meta=CallMeta(), settings=settings)
        except (ParseError, VerbatimError, OSError) as exc:
            failed += 1
            tqdm.write(f"{path}: {getattr(exc, 'message', exc)}")
    return failed


def load_demo(*, engine: Engine, settings: Settings, samples: Path,
              process: Callable) -> tuple[str, object]:
    """Creates the demo workspace and a key, loads the samples and processes them."""
    with session_scope(engine) as session:
        workspace = get_or_create_workspace(session=session, name="demo")
        if not workspace.own_domains:
            workspace.own_domains = ["relayhq.com"]
        key = create_api_key(session=session, workspace=workspace)
    ingest_files(engine=engine, settings=settings, workspace="demo", paths=[samples])
    started = time.perf_counter()
    models = process(engine, settings)
    print(f"demo processed in {time.perf_counter() - started:.1f} s", flush=True)
    return key, models
