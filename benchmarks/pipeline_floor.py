"""The project's per-call processing against the bare models' floor on the same texts.

    python benchmarks/pipeline_floor.py [--backend auto|onnx|torch] [--repeats 3] [--calls 44]
    python benchmarks/pipeline_floor.py --check      # mentions unchanged? (no timing)
    python benchmarks/pipeline_floor.py --snapshot   # record them after a deliberate change

For each demo call (samples/*.json), parsed and with roles resolved as on ingest, the job's model
work runs call by call: the extractor over the customer turns, each with the rep turn before it,
then the embedding of the mention quotes (app/jobs/process_call.py). The floor is the bare work on the same texts: spaCy's
`nlp.pipe` (the same pipeline object) and one encode of the turns by the same embedding backend
without any cache. Each run starts with a fresh embedder cache, so every run pays for its
encodes; runs alternate project/floor and the medians are printed with their ratio
(floor / project: 1.0 means the project adds nothing to the models' own cost).

Speed work must not change what is found. --check runs the extractor over every demo call as
the job does (customer turns with the rep turn before each) and compares its mentions with
those recorded in SNAPSHOT: exactly (the stored confidence is rounded to 4 places) and, per
candidate segment, the unrounded confidence within CONFIDENCE_TOLERANCE (batching rows
differently may move the last float bits of a matrix product). --snapshot records them anew,
for a change that is meant to alter results (a retrained model, new patterns).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

# this checkout's code, not the one the environment was installed from (an editable install)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.embed import CachedEmbedder, OnnxEmbedder, SentenceEmbedder
from pipelines.extract import Extractor
from pipelines.extraction.step7_extractor import keep_strongest
from pipelines.formats import parse
from pipelines.nlp_models import load_sentence_model, load_spacy, sentence_model_path
from pipelines.onnx_export import exported_model
from pipelines.roles import resolve_roles

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
SNAPSHOT = Path(__file__).resolve().parent / "data" / "demo_mentions.json"
CONFIDENCE_TOLERANCE = 1e-5


def customer_turns_with_context(calls: int) -> dict[str, list[tuple[str, str | None]]]:
    """Per demo call (by file name), its customer turns with the rep turn before each."""
    out = {}
    for path in sorted(SAMPLES.glob("*.json"))[:calls]:
        conv = parse(path.read_bytes(), fmt="native")
        roles = resolve_roles(conv)
        turns, last_rep = [], None
        for turn in conv.turns:
            if roles[turn.speaker].role == "rep":
                last_rep = turn.text
            elif roles[turn.speaker].role == "customer":
                turns.append((turn.text, last_rep))
        out[path.name] = turns
    return out


def extraction_record(nlp, make: Callable[[int], CachedEmbedder], calls: int) -> dict:
    """Per call and customer turn: its mentions, and every candidate segment's confidence."""
    extractor = Extractor(nlp, make(20_000))
    record = {}
    for name, turns in customer_turns_with_context(calls).items():
        scored = extractor.score([t for t, _ in turns], [c for _, c in turns])
        record[name] = [
            {
                "mentions": [
                    asdict(m) for m in keep_strongest(
                        [m for m in map(extractor.mention, segments) if m is not None],
                        extractor.model.feed_threshold)
                ],
                "segments": [[s.segment.text, s.confidence] for s in segments],
            }
            for segments in scored
        ]
    return json.loads(json.dumps(record))  # tuples become lists, as read back from the file


def compare_records(old: dict, new: dict) -> list[str]:
    """Differences worth failing on; empty when the mentions are the recorded ones."""
    problems = []
    if sorted(old) != sorted(new):
        return [f"calls differ: {sorted(set(old) ^ set(new))}"]
    worst = 0.0
    for name, recorded in old.items():
        if len(recorded) != len(new[name]):
            problems.append(f"{name}: {len(recorded)} turns recorded, {len(new[name])} now")
            continue
        for k, (a, b) in enumerate(zip(recorded, new[name], strict=True)):
            if a["mentions"] != b["mentions"]:
                problems.append(f"{name} turn {k}: mentions {a['mentions']} -> {b['mentions']}")
            if [t for t, _ in a["segments"]] != [t for t, _ in b["segments"]]:
                problems.append(f"{name} turn {k}: segments differ")
                continue
            for (_, p), (_, q) in zip(a["segments"], b["segments"], strict=True):
                worst = max(worst, abs(p - q))
    if worst > CONFIDENCE_TOLERANCE:
        problems.append(f"a segment confidence moved by {worst:.2e} (> {CONFIDENCE_TOLERANCE})")
    print(f"largest segment confidence change {worst:.2e}")
    return problems


def check(nlp, make: Callable[[int], CachedEmbedder], calls: int, snapshot: bool) -> None:
    record = extraction_record(nlp, make, calls)
    mentions = sum(len(turn["mentions"]) for turns in record.values() for turn in turns)
    if snapshot:
        SNAPSHOT.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        print(f"recorded {mentions} mentions of {len(record)} calls in {SNAPSHOT}")
        return
    problems = compare_records(json.loads(SNAPSHOT.read_text()), record)
    for line in problems[:20]:
        print(line)
    print(f"pipeline_floor check: {mentions} mentions of {len(record)} calls, "
          f"{'unchanged' if not problems else f'{len(problems)} differences'}")
    raise SystemExit(1 if problems else 0)


def embedder_factory(backend: str) -> tuple[str, Callable[[int], CachedEmbedder]]:
    folder = exported_model(sentence_model_path()) if backend in ("auto", "onnx") else None
    if backend == "onnx" and folder is None:
        raise SystemExit("no ONNX export: run python -m pipelines.onnx_export first")
    if folder is not None:
        return "onnx fp32", lambda cache: OnnxEmbedder(folder, cache_size=cache)
    model = load_sentence_model()
    return "torch fp32", lambda cache: SentenceEmbedder(model, cache_size=cache)


Turns = list[tuple[str, str | None]]


def project_run(
    nlp, make: Callable[[int], CachedEmbedder], calls: list[Turns]
) -> tuple[float, float]:
    """(wall, CPU) seconds of the job's model work over the calls."""
    embedder = make(20_000)
    extractor = Extractor(nlp, embedder)  # prototypes encoded here, outside the timing
    started, cpu = time.perf_counter(), time.process_time()
    for turns in calls:
        found = extractor.extract([t for t, _ in turns], [c for _, c in turns])
        embedder.encode([m.text for mentions in found for m in mentions])
    return time.perf_counter() - started, time.process_time() - cpu


def floor_run(
    nlp, make: Callable[[int], CachedEmbedder], calls: list[Turns]
) -> tuple[float, float]:
    """(wall, CPU) seconds of the bare models over the same (customer) texts."""
    embedder = make(0)
    started, cpu = time.perf_counter(), time.process_time()
    for turns in calls:
        texts = [t for t, _ in turns]
        list(nlp.pipe(texts, batch_size=64))
        embedder.encode(texts)
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("auto", "onnx", "torch"), default="auto")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--calls", type=int, default=44)
    parser.add_argument("--check", action="store_true", help="compare mentions with SNAPSHOT")
    parser.add_argument("--snapshot", action="store_true", help="record mentions to SNAPSHOT")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    nlp = load_spacy()
    backend, make = embedder_factory(args.backend)
    if args.check or args.snapshot:
        check(nlp, make, args.calls, args.snapshot)
        return
    calls = list(customer_turns_with_context(args.calls).values())
    words = sum(len(t.split()) for turns in calls for t, _ in turns)
    load_before = os.getloadavg()[0]
    project, floor = [], []
    for _ in range(args.repeats):
        project.append(project_run(nlp, make, calls))
        floor.append(floor_run(nlp, make, calls))
    print(f"pipeline_floor backend={backend} calls={len(calls)} customer_turns="
          f"{sum(map(len, calls))} words={words} repeats={args.repeats} "
          f"load={load_before:.2f}->{os.getloadavg()[0]:.2f}")
    # CPU seconds beside wall time: on a shared machine the wall time mostly measures the others
    for name, runs in (("project", project), ("floor  ", floor)):
        wall, cpu = (statistics.median(r[k] for r in runs) for k in (0, 1))
        print(f"{name} s={wall:.1f} (runs {', '.join(f'{r[0]:.1f}' for r in runs)}) "
              f"cpu_s={cpu:.1f} (runs {', '.join(f'{r[1]:.1f}' for r in runs)}) "
              f"words/s={words / wall:.0f}")
    ratio_wall = statistics.median(f[0] for f in floor) / statistics.median(p[0] for p in project)
    ratio_cpu = statistics.median(f[1] for f in floor) / statistics.median(p[1] for p in project)
    print(f"ratio floor/project={ratio_wall:.2f} (cpu {ratio_cpu:.2f})")


if __name__ == "__main__":
    main()
