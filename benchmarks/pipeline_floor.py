"""The project's per-call processing against the bare models' floor on the same texts.

    python benchmarks/pipeline_floor.py [--backend auto|onnx|torch] [--repeats 3] [--calls 44]

For each demo call (samples/*.json), parsed and with roles resolved as on ingest, the job's model
work runs call by call: the extractor over the customer turns, then the embedding of the mention
quotes (app/jobs/process_call.py). The floor is the bare work on the same texts: spaCy's
`nlp.pipe` (the same pipeline object) and one encode of the turns by the same embedding backend
without any cache. Each run starts with a fresh embedder cache, so every run pays for its
encodes; runs alternate project/floor and the medians are printed with their ratio
(floor / project: 1.0 means the project adds nothing to the models' own cost).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from pipelines.embed import CachedEmbedder, OnnxEmbedder, SentenceEmbedder
from pipelines.extract import Extractor
from pipelines.formats import parse
from pipelines.nlp_models import load_sentence_model, load_spacy, sentence_model_path
from pipelines.onnx_export import exported_model
from pipelines.roles import resolve_roles

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def customer_turns(calls: int) -> list[list[str]]:
    """Per demo call, the customer's turns, as the job would pick them."""
    out = []
    for path in sorted(SAMPLES.glob("*.json"))[:calls]:
        conv = parse(path.read_bytes(), fmt="native")
        roles = resolve_roles(conv)
        out.append([t.text for t in conv.turns if roles[t.speaker].role == "customer"])
    return out


def embedder_factory(backend: str) -> tuple[str, Callable[[int], CachedEmbedder]]:
    folder = exported_model(sentence_model_path()) if backend in ("auto", "onnx") else None
    if backend == "onnx" and folder is None:
        raise SystemExit("no ONNX export: run python -m pipelines.onnx_export first")
    if folder is not None:
        return "onnx fp32", lambda cache: OnnxEmbedder(folder, cache_size=cache)
    model = load_sentence_model()
    return "torch fp32", lambda cache: SentenceEmbedder(model, cache_size=cache)


def project_run(nlp, make: Callable[[int], CachedEmbedder], calls: list[list[str]]) -> float:
    embedder = make(20_000)
    extractor = Extractor(nlp, embedder)  # prototypes encoded here, outside the timing
    started = time.perf_counter()
    for texts in calls:
        found = extractor.extract(texts)
        embedder.encode([m.text for mentions in found for m in mentions])
    return time.perf_counter() - started


def floor_run(nlp, make: Callable[[int], CachedEmbedder], calls: list[list[str]]) -> float:
    embedder = make(0)
    started = time.perf_counter()
    for texts in calls:
        list(nlp.pipe(texts, batch_size=64))
        embedder.encode(texts)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("auto", "onnx", "torch"), default="auto")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--calls", type=int, default=44)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    nlp = load_spacy()
    backend, make = embedder_factory(args.backend)
    calls = customer_turns(args.calls)
    words = sum(len(t.split()) for texts in calls for t in texts)
    load_before = os.getloadavg()[0]
    project, floor = [], []
    for _ in range(args.repeats):
        project.append(project_run(nlp, make, calls))
        floor.append(floor_run(nlp, make, calls))
    p, f = statistics.median(project), statistics.median(floor)
    print(f"pipeline_floor backend={backend} calls={len(calls)} customer_turns="
          f"{sum(map(len, calls))} words={words} repeats={args.repeats} "
          f"load={load_before:.2f}->{os.getloadavg()[0]:.2f}")
    print(f"project s={p:.1f} (runs {', '.join(f'{x:.1f}' for x in project)}) words/s={words / p:.0f}")
    print(f"floor   s={f:.1f} (runs {', '.join(f'{x:.1f}' for x in floor)}) words/s={words / f:.0f}")
    print(f"ratio floor/project={f / p:.2f}")


if __name__ == "__main__":
    main()
