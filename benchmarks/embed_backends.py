"""Embedding backends side by side: speed, and how far each moves the vectors from torch fp32.

    python benchmarks/embed_backends.py [--banking 1500] [--repeats 2]

Texts: every utterance of the 44 demo calls plus the first BANKING77 train questions. Backends:
sentence-transformers on torch (the fp32 reference), the ONNX fp32 export the app uses, and two
dynamic int8 quantisations of it (per tensor; per channel, MatMul only). Printed per backend:
texts/s (best of the repeats, each text encoded once per pass, no cache), cosine to the torch
vectors (mean, min, 1st percentile) and nearest-neighbour agreement: the share of sample texts
whose nearest other text is the same under both backends. The product keeps a backend only at
cosine >= 0.99 and agreement >= 0.98 (issue 13).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from pipelines import onnx_export
from pipelines.embed import CachedEmbedder, OnnxEmbedder, SentenceEmbedder
from pipelines.nlp_models import load_sentence_model, sentence_model_path

ROOT = Path(__file__).resolve().parents[1]
BANKING = ROOT.parent / "shared/eval/banking77/train.csv"
NN_SAMPLE = 1500
GATE_COSINE, GATE_NN = 0.99, 0.98


def corpus(banking: int) -> list[str]:
    texts = [u["text"] for path in sorted((ROOT / "samples").glob("*.json"))
             for u in json.loads(path.read_text())["utterances"]]
    if banking and BANKING.exists():
        with open(BANKING, newline="") as fh:
            texts += [row["text"] for row in csv.DictReader(fh)][:banking]
    return list(dict.fromkeys(texts))


def fp32_folder(work: Path) -> Path:
    """The installed export, or a fresh one in `work` when install has not made one."""
    source = sentence_model_path()
    folder = onnx_export.exported_model(source)
    if folder is None:
        onnx_export.export(source, work)
        folder = onnx_export.exported_model(source, work)
    assert folder is not None
    return folder


def int8_folder(fp32: Path, work: Path, *, per_channel: bool) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder = work / ("int8-per-channel" if per_channel else "int8")
    folder.mkdir()
    for name in ("meta.json", "tokenizer.json"):
        shutil.copyfile(fp32 / name, folder / name)
    quantize_dynamic(str(fp32 / "model.onnx"), str(folder / "model.onnx"),
                     weight_type=QuantType.QInt8, per_channel=per_channel,
                     op_types_to_quantize=["MatMul"] if per_channel else None)
    return folder


def timed(embedder: CachedEmbedder, texts: list[str], repeats: int) -> tuple[np.ndarray, float]:
    embedder.encode(texts[:64])  # warm-up: first-run allocations and graph set-up
    best, vectors = float("inf"), np.empty(0)
    for _ in range(repeats):
        started = time.perf_counter()
        vectors = embedder.encode(texts)
        best = min(best, time.perf_counter() - started)
    return vectors, len(texts) / best


def nn_agreement(reference: np.ndarray, vectors: np.ndarray) -> float:
    ref_sim, sim = reference @ reference.T, vectors @ vectors.T
    np.fill_diagonal(ref_sim, -2)
    np.fill_diagonal(sim, -2)
    return float((ref_sim.argmax(1) == sim.argmax(1)).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--banking", type=int, default=1500, help="BANKING77 questions to add")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    texts = corpus(args.banking)
    rng = np.random.default_rng(0)
    sample = rng.choice(len(texts), size=min(NN_SAMPLE, len(texts)), replace=False)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        fp32 = fp32_folder(work)
        backends = {
            "torch fp32 (sentence-transformers)": SentenceEmbedder(load_sentence_model(),
                                                                   cache_size=0),
            "onnx fp32": OnnxEmbedder(fp32, cache_size=0),
            "onnx int8 per-tensor": OnnxEmbedder(int8_folder(fp32, work, per_channel=False),
                                                 cache_size=0),
            "onnx int8 per-channel MatMul": OnnxEmbedder(
                int8_folder(fp32, work, per_channel=True), cache_size=0),
        }
        print(f"embed_backends texts={len(texts)} nn_sample={len(sample)} repeats={args.repeats} "
              f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f}")
        print(f"{'backend':<36} {'texts/s':>8} {'cos mean':>9} {'cos min':>8} {'cos p1':>8} "
              f"{'NN agree':>9}  gate")
        reference: np.ndarray | None = None
        for name, embedder in backends.items():
            vectors, rate = timed(embedder, texts, args.repeats)
            reference = vectors if reference is None else reference
            cos = (vectors * reference).sum(axis=1)
            nn = nn_agreement(reference[sample], vectors[sample])
            verdict = "pass" if cos.min() >= GATE_COSINE and nn >= GATE_NN else "FAIL"
            print(f"{name:<36} {rate:>8.0f} {cos.mean():>9.4f} {cos.min():>8.4f} "
                  f"{np.percentile(cos, 1):>8.4f} {nn:>9.3f}  {verdict}")
        print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
