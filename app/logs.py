"""Logging: plain lines for a terminal, one JSON object a line (VERBATIM_LOG_FORMAT=json) for a
log pipeline, carrying the job and call ids a record names."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime

# the ids the worker passes in `extra=`: each becomes a top-level field
FIELDS = ("job_id", "call_id", "kind", "worker_id", "seconds")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
                 "level": record.levelname.lower(), "logger": record.name,
                 "message": record.getMessage(), "pid": record.process}
        entry.update({f: getattr(record, f) for f in FIELDS if hasattr(record, f)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    if os.environ.get("VERBATIM_LOG_FORMAT", "").lower() == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
