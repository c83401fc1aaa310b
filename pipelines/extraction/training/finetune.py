"""Fine-tune the top two layers of the shipped MiniLM on segment labels, on CPU (issue 10).

    python -m pipelines.extraction.training.finetune            # fit, report dev, store
    python -m pipelines.extraction.training.finetune --subset 800 --epochs 1   # time an epoch

The frozen sentence vectors top out near dev turn F1 0.76 whatever sits on them; fine-tuning
the transformer is the lever left. Full fine-tuning does not fit 2 shared CPU cores, so layers
1-4 stay frozen: their output for every (segment, rep turn) pair is computed once and cached,
and only layers 5-6 plus the head of step5_transformer.py are trained on that cache.
The epoch is chosen by dev average precision; the test split is only scored, for the
candidates' report, never used for a choice.
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pipelines.extraction.step2_cues import DATA_DIR
from pipelines.extraction.step5_transformer import (
    FROZEN_LAYERS,
    SEED,
    TUNED_PATH,
    Cached,
    batch_tensors,
    cache_pairs,
    head_class,
    load_base,
    predict,
)

THREADS = 1  # 2 shared cores: a second torch thread mostly waits on the first
EPOCHS = 4  # dev AP peaked at epoch 4 (0.661) in round 3, at 3 (0.660) in round 4
LOGITS_PATH = DATA_DIR.parents[2] / "benchmarks" / ".cache" / "tuned_logits.npz"


def _batches(data: Cached, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of similar length (sorted within chunks of 20 batches)."""
    order = rng.permutation(len(data.states))
    chunk = batch_size * 20
    batches = []
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort([len(data.states[k]) for k in part], kind="stable")]
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def train(bert, train_data: Cached, dev_data: Cached, *, epochs: int, lr: float = 8e-5,
          head_lr: float = 1e-3, batch_size: int = 32):
    """Train layers 5-6 and the head (objection BCE + category cross-entropy on positives);
    the epoch with the best dev average precision wins."""
    import torch
    from sklearn.metrics import average_precision_score

    head = head_class()(bert)
    optimiser = torch.optim.AdamW([
        {"params": head.layers.parameters(), "lr": lr},
        {"params": [*head.objection.parameters(), *head.category.parameters()], "lr": head_lr},
    ], weight_decay=0.01)
    rng = np.random.default_rng(SEED)
    bce, ce = torch.nn.BCEWithLogitsLoss(), torch.nn.CrossEntropyLoss()
    best: tuple[float, dict, int] | None = None
    for epoch in range(1, epochs + 1):
        head.train()
        started = time.perf_counter()
        for picked in _batches(train_data, batch_size, rng):
            z, c = head(*batch_tensors(train_data, picked))
            loss = bce(z, torch.from_numpy(train_data.label[picked].astype(np.float32)))
            positive = train_data.category[picked] >= 0
            if positive.any():
                gold = torch.from_numpy(train_data.category[picked][positive].astype(np.int64))
                loss = loss + ce(c[torch.from_numpy(positive)], gold)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        z_dev, c_dev = predict(head, dev_data)
        ap = average_precision_score(dev_data.label, z_dev)
        positives = dev_data.category >= 0
        accuracy = float(np.mean(c_dev[positives].argmax(1) == dev_data.category[positives]))
        print(f"  epoch {epoch}: {time.perf_counter() - started:.0f} s, dev AP {ap:.3f}, "
              f"dev category accuracy {accuracy:.3f}", flush=True)
        if best is None or ap > best[0]:
            best = (ap, copy.deepcopy(head.state_dict()), epoch)
    assert best is not None
    head.load_state_dict(best[1])
    print(f"  chosen epoch {best[2]} (dev AP {best[0]:.3f})")
    return head


def save_head(head, path: Path = TUNED_PATH) -> None:
    """The trained layers and heads in float16, plain arrays (no pickle)."""
    arrays = {name: value.detach().numpy().astype(np.float16)
              for name, value in head.state_dict().items()}
    np.savez_compressed(path, **arrays)


def split_data(subset: int | None = None, names: Sequence[str] = ("train", "dev")):
    """Cached layer-4 states of each split's segments (train optionally subsampled)."""
    from pipelines.extraction.training.data import all_segments, by_split

    turns, segments = all_segments()
    splits = by_split(turns, segments)
    bert, tokenizer = load_base()
    out = {}
    for name in names:
        segs = splits[name]
        picked = np.arange(len(segs.texts))
        if subset and name == "train":
            picked = np.random.default_rng(SEED).choice(len(picked), subset, replace=False)
        started = time.perf_counter()
        out[name] = cache_pairs(
            bert, tokenizer,
            [segs.texts[k] for k in picked],
            [turns[int(segs.turn[k])].context for k in picked],
            segs.label[picked], segs.category[picked],
        )
        print(f"  cached layer-{FROZEN_LAYERS} states of {len(picked)} {name} segments in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
    return bert, splits, out


def stored_logits(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The last fine-tune run's objection and category logits of the split whose segments
    these are (candidates get segment arrays without the rep turns the scorer needs)."""
    if not LOGITS_PATH.exists():
        raise FileNotFoundError(f"{LOGITS_PATH} is missing: run `make train-tuned`")
    with np.load(LOGITS_PATH, allow_pickle=False) as raw:
        for name in ("train", "dev", "test"):
            if tuple(str(t) for t in raw[f"{name}_texts"]) == tuple(texts):
                return raw[f"{name}_objection"], raw[f"{name}_category"]
    raise LookupError(f"{LOGITS_PATH} does not match the segments: run python -m {__name__}")


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--subset", type=int, default=None, help="train segments (timing)")
    parser.add_argument("--out", type=Path, default=TUNED_PATH)
    args = parser.parse_args()
    torch.set_num_threads(THREADS)
    names = ("train", "dev") if args.subset else ("train", "dev", "test")
    bert, splits, data = split_data(args.subset, names)
    head = train(bert, data["train"], data["dev"], epochs=args.epochs)
    if args.subset:
        return
    save_head(head, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")
    logits = {}
    for name, cached in data.items():
        logits[f"{name}_objection"], logits[f"{name}_category"] = predict(head, cached)
        logits[f"{name}_texts"] = np.array(splits[name].texts, dtype=str)
    LOGITS_PATH.parent.mkdir(parents=True, exist_ok=True)
    np.savez(LOGITS_PATH, **logits)


if __name__ == "__main__":
    main()
