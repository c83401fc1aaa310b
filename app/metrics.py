"""Prometheus metrics at /metrics: request latency by route, jobs by kind and state, queue
depth, job processing seconds, model load time. Job counts are read from the database at
scrape time, so they cover every worker process, not only this one's."""

from __future__ import annotations

import time

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models import Job
from models.job import JOB_STATUSES


class Metrics:
    """One registry per app, so that several apps in one process (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "verbatim_http_request_seconds", "Request latency by route template",
            ["method", "route", "status"], registry=self.registry)
        self.job_seconds = Histogram(
            "verbatim_job_seconds", "Seconds a job took in this process's workers",
            ["kind", "outcome"], registry=self.registry,
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900))
        self.model_load = Gauge("verbatim_model_load_seconds",
                                "Seconds this process took to load its models",
                                registry=self.registry)

    def watch_jobs(self, engine: Engine) -> None:
        self.registry.register(_JobCollector(engine))


class _JobCollector:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self):
        jobs = GaugeMetricFamily("verbatim_jobs", "Jobs by kind and state",
                                 labels=["kind", "state"])
        depth = GaugeMetricFamily("verbatim_queue_depth", "Jobs waiting to run, by kind",
                                  labels=["kind"])
        with Session(self.engine) as session:
            rows = session.execute(select(Job.kind, Job.status, func.count())
                                   .group_by(Job.kind, Job.status)).all()
        counts = {(kind, status): n for kind, status, n in rows}
        for kind in sorted({k for k, _ in counts}):
            for state in JOB_STATUSES:
                jobs.add_metric([kind, state], counts.get((kind, state), 0))
            depth.add_metric([kind], counts.get((kind, "queued"), 0))
        yield jobs
        yield depth


router = APIRouter(include_in_schema=False)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus text format; meant for the internal network (no key needed)."""
    return Response(generate_latest(request.app.state.metrics.registry),
                    media_type=CONTENT_TYPE_LATEST)


def install_metrics(app: FastAPI, metrics: Metrics) -> None:
    app.state.metrics = metrics
    app.include_router(router)

    @app.middleware("http")
    async def _timed(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        metrics.requests.labels(request.method, route_template(request),
                                str(response.status_code)).observe(time.perf_counter() - started)
        return response


def route_template(request: Request) -> str:
    """/v1/calls/{call_id}, never /v1/calls/42: one label value per route, not per id."""
    if request.scope.get("route") is None:
        return "unmatched"
    names = {str(v): k for k, v in request.path_params.items()}
    return "/".join(f"{{{names[p]}}}" if p in names else p for p in request.url.path.split("/"))
