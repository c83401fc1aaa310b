"""Export the shipped all-MiniLM-L6-v2 to ONNX at install time, and keep it only if it agrees.

`python -m pipelines.onnx_export` (also `make install`) traces the transformer from the weights the
model package ships (nothing is downloaded), runs the result on fixed sentences next to the
sentence-transformers pipeline and writes it to the model folder only when every sentence's
vector keeps a cosine of at least GATE_COSINE to the original. At run time `load_embedder` uses
the exported model when it is there and was made from the installed weights.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

GATE_COSINE = 0.99
MODEL_DIR_ENV = "VERBATIM_MODEL_DIR"
EXPORT_NAME = "all-MiniLM-L6-v2-onnx"
ONNX_OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")

# Sentences of the kinds the product embeds (short objections, questions, long rambling turns,
# one past the 256-token limit) on which the exported model must match the original.
GATE_SENTENCES = (
    "The price is way over our budget this year.",
    "Legal won't sign a three-year term.",
    "We already use Gong for this.",
    "How long does the integration with Salesforce take?",
    "Honestly, I'm not sure my team would actually use it.",
    "Can you send me the security questionnaire?",
    "Our procurement process takes at least a quarter.",
    "yeah",
    "ok so what happens to our data if we cancel",
    "Does it support single sign-on with Okta?",
    "We tried something like this two years ago and nobody adopted it.",
    "I need to run this by my CFO before we commit to anything.",
    "What's the difference between the pro and the enterprise plan?",
    "The onboarding looked heavy, our admins are already stretched thin.",
    "Is there a discount if we pay annually?",
    "Support response times were a real problem with our last vendor.",
    "We're locked into a contract with a competitor until next spring.",
    "Can it handle calls in Spanish and German?",
    "I don't see how this fits with our current workflow at all.",
    "Sounds good, let's set up a follow-up next Tuesday.",
    ("Um, so, basically the thing is that we have, like, a lot of reps, and they all record calls "
    "differently, some in Zoom, some in Teams, and nobody really listens to them afterwards, so "
    "I guess what I'm asking is whether your tool can pull all of that together without us "
    "having to change how the reps work, because that's been the problem every single time."),
    " ".join([("Our renewal depends on the budget review, the security audit and the pilot "
              "results from the two regional teams.")] * 12),
)


class GateFailedError(RuntimeError):
    """The exported model's vectors drift from the original's; nothing was written."""


@dataclass(frozen=True)
class GateResult:
    min_cosine: float
    mean_cosine: float
    sentences: int

    @property
    def passed(self) -> bool:
        return self.min_cosine >= GATE_COSINE


def model_root() -> Path:
    """Where exported models live: $VERBATIM_MODEL_DIR, else the environment's share/verbatim."""
    configured = os.environ.get(MODEL_DIR_ENV)
    return Path(configured) if configured else Path(sys.prefix) / "share" / "verbatim"


def source_fingerprint(source: Path) -> str:
    """sha256 of the shipped weights, so an export made from other weights is never used."""
    digest = hashlib.sha256()
    with open(source / "model.safetensors", "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def exported_model(source: Path, root: Path | None = None) -> Path | None:
    """The verified export of these weights, or None when there is none (or it is stale)."""
    folder = (root or model_root()) / EXPORT_NAME
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    fresh = meta.get("source_sha256") == source_fingerprint(source)
    return folder if fresh and (folder / "model.onnx").is_file() else None


def export(source: Path, root: Path | None = None) -> GateResult:
    """Trace, verify and install the ONNX model for the weights in `source`; raises GateFailedError."""
    dest = (root or model_root()) / EXPORT_NAME
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".export-") as tmp:
        staged = Path(tmp) / EXPORT_NAME
        stage(source, staged, load_transformer(source))
        return install(staged, dest, reference=load_reference(source))


def load_transformer(source: Path) -> Any:
    """The bare Hugging Face encoder (no pooling) from the shipped folder."""
    from transformers import AutoModel

    return AutoModel.from_pretrained(str(source)).eval()


def load_reference(source: Path) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(source), device="cpu")


def stage(source: Path, folder: Path, transformer: Any) -> None:
    """Writes model.onnx, tokenizer.json and meta.json for `transformer` into `folder`."""
    _require_mean_pooling(source)
    folder.mkdir(parents=True)
    _trace(transformer, folder / "model.onnx")
    shutil.copyfile(source / "tokenizer.json", folder / "tokenizer.json")
    st_config = json.loads((source / "sentence_bert_config.json").read_text())
    meta = {"source_sha256": source_fingerprint(source), "dim": transformer.config.hidden_size,
            "max_seq_length": st_config["max_seq_length"], "opset": ONNX_OPSET}
    (folder / "meta.json").write_text(json.dumps(meta, indent=2))


def install(staged: Path, dest: Path, *, reference: Any) -> GateResult:
    """Moves `staged` to `dest` only if it passes the gate against `reference`."""
    result = check_gate(staged, reference)
    if not result.passed:
        raise GateFailedError(
            f"exported model rejected: min cosine {result.min_cosine:.4f} to the original "
            f"over {result.sentences} sentences (gate {GATE_COSINE})")
    meta = json.loads((staged / "meta.json").read_text())
    meta["gate"] = {"min_cosine": result.min_cosine, "mean_cosine": result.mean_cosine,
                    "sentences": result.sentences, "threshold": GATE_COSINE}
    (staged / "meta.json").write_text(json.dumps(meta, indent=2))
    if dest.exists():
        shutil.rmtree(dest)
    os.replace(staged, dest)
    return result


def check_gate(folder: Path, reference: Any) -> GateResult:
    """Cosine of the exported model's vectors to the original's on GATE_SENTENCES."""
    from pipelines.embed import OnnxEmbedder

    texts = list(GATE_SENTENCES)
    ours = OnnxEmbedder(folder, cache_size=0).encode(texts)
    theirs = np.asarray(reference.encode(texts, normalize_embeddings=True,
                                         convert_to_numpy=True), dtype=np.float32)
    cosines = (ours * theirs).sum(axis=1)
    return GateResult(float(cosines.min()), float(cosines.mean()), len(texts))


def _require_mean_pooling(source: Path) -> None:
    pooling = json.loads((source / "1_Pooling" / "config.json").read_text())
    if not pooling.get("pooling_mode_mean_tokens"):
        raise ValueError(f"{source}: only mean-pooled models can be exported")


def _trace(transformer: Any, path: Path) -> None:
    import torch

    class LastHidden(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    # a padded example: an all-ones mask could let the encoder trace its no-padding shortcut
    example = torch.tensor([[101, 2000, 2001, 2002, 102], [101, 2003, 102, 0, 0]])
    mask = (example != 0).long()
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    with warnings.catch_warnings():
        # the legacy exporter is the one that traces this encoder in a second; its notices about
        # Python-side shape checks and index lowering are expected, not defects of the graph
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message="Exporting aten::index", category=UserWarning)
        torch.onnx.export(LastHidden(transformer), (example, mask, torch.zeros_like(example)),
                          str(path), input_names=list(INPUTS), output_names=["last_hidden_state"],
                          dynamic_axes=axes, opset_version=ONNX_OPSET, dynamo=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=None,
                        help=f"model folder (default ${MODEL_DIR_ENV} or <venv>/share/verbatim)")
    args = parser.parse_args(argv)
    from pipelines.nlp_models import sentence_model_path

    try:
        result = export(sentence_model_path(), args.dest)
    except GateFailedError as exc:
        print(f"onnx export: {exc}; the app will use sentence-transformers", file=sys.stderr)
        return 1
    print(f"onnx export: {(args.dest or model_root()) / EXPORT_NAME} "
          f"(cosine to the original: min {result.min_cosine:.5f}, mean {result.mean_cosine:.5f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
