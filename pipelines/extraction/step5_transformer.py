"""The fine-tuned MiniLM: objection and category logits for (segment, rep turn) pairs.

The sentence vectors of step 4 are the frozen MiniLM's; this is the same network with its top
two layers and a small head (objection yes/no, category) fine-tuned on the labelled segments
(`training/finetune.py`). Its input is the pair "[CLS] segment [SEP] end of the rep turn [SEP]":
the rep's question decides whether "we use spreadsheets" is an objection or an answer. Layers
1-4 and the embeddings are the shipped package's (nothing downloads); layers 5-6 and the head
are stored in float16 in data/tuned_minilm.npz (~6.5 MB, `make train-tuned`). The head reads
the mean of the segment's own tokens, as the sentence embedder pools. step5_model adds these
logits to its own when its weights say so; the shipped model's are 0, so this never loads
(benchmarks/extraction_notes.md: better on dev, but it reads "I don't think the contract
length is a concern" as a confident objection, and costs ~3.6x the embedder's CPU time:
an extra transformer pass per segment on a longer input, in torch rather than ONNX).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from pipelines.extraction.step2_cues import DATA_DIR

TUNED_PATH = DATA_DIR / "tuned_minilm.npz"
FROZEN_LAYERS = 4
MAX_SEGMENT_TOKENS = 64
MAX_CONTEXT_TOKENS = 32  # the rep turn's end (the question just asked); longer costs CPU time
N_CATEGORIES = 9
SEED = 0


def load_base():
    """The shipped MiniLM (a BertModel) and its tokenizer, from the package folder, eval mode."""
    import torch
    from tokenizers import Tokenizer
    from transformers import BertModel

    from pipelines.nlp_models import sentence_model_path

    folder = sentence_model_path()
    torch.manual_seed(SEED)
    bert = BertModel.from_pretrained(str(folder), attn_implementation="eager")
    bert.eval()
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return bert, tokenizer


def pair_ids(
    tokenizer, segments: Sequence[str], contexts: Sequence[str | None]
) -> list[tuple[list[int], list[int]]]:
    """Token ids and token types of "[CLS] segment [SEP] rep turn [SEP]" per segment."""
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    seg_ids = [e.ids[1:-1] for e in tokenizer.encode_batch([s.strip() for s in segments])]
    unique = list(dict.fromkeys((c or "").strip() for c in contexts))
    encoded = {
        c: (e.ids[1:-1] if c else [])
        for c, e in zip(unique, tokenizer.encode_batch(unique), strict=True)
    }
    rows = []
    for seg, context in zip(seg_ids, contexts, strict=True):
        seg = seg[:MAX_SEGMENT_TOKENS]
        ctx = encoded[(context or "").strip()][-MAX_CONTEXT_TOKENS:]
        ids = [cls, *seg, sep] + ([*ctx, sep] if ctx else [])
        types = [0] * (len(seg) + 2) + [1] * (len(ids) - len(seg) - 2)
        rows.append((ids, types))
    return rows


def _pad(rows):
    import torch

    width = max(len(ids) for ids, _ in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for k, (row_ids, row_types) in enumerate(rows):
        ids[k, : len(row_ids)] = torch.tensor(row_ids)
        types[k, : len(row_types)] = torch.tensor(row_types)
        mask[k, : len(row_ids)] = 1
    return ids, types, mask


def additive_mask(mask):
    """(B, L) 0/1 attention mask as the (B, 1, 1, L) additive mask a BertLayer takes."""
    import torch

    return (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min


def frozen_states(bert, rows, batch_size: int = 64) -> list[np.ndarray]:
    """Output of layer FROZEN_LAYERS for every pair (float16, one (tokens, 384) array each)."""
    import torch

    out: list[np.ndarray] = [np.zeros(0)] * len(rows)
    order = np.argsort([len(ids) for ids, _ in rows], kind="stable")
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            picked = order[start : start + batch_size]
            ids, types, mask = _pad([rows[k] for k in picked])
            hidden = bert.embeddings(input_ids=ids, token_type_ids=types)
            extended = additive_mask(mask)
            for layer in bert.encoder.layer[:FROZEN_LAYERS]:
                hidden = layer(hidden, extended)
            for k, row in enumerate(picked):
                out[row] = hidden[k, : int(mask[k].sum())].numpy().astype(np.float16)
    return out


def head_class():
    """The TunedHead module class (defined lazily: torch loads only when a model uses it)."""
    import torch
    from torch import nn

    class TunedHead(nn.Module):
        """Layers 5-6 of MiniLM (initialised from the shipped ones) and two linear heads."""

        def __init__(self, bert) -> None:
            super().__init__()
            self.layers = nn.ModuleList(
                copy.deepcopy(layer) for layer in bert.encoder.layer[FROZEN_LAYERS:]
            )
            self.dropout = nn.Dropout(0.1)
            self.objection = nn.Linear(bert.config.hidden_size, 1)
            self.category = nn.Linear(bert.config.hidden_size, N_CATEGORIES)

        def pooled(self, hidden, mask, types):
            extended = additive_mask(mask)
            for layer in self.layers:
                hidden = layer(hidden, extended)
            own = (mask * (types == 0)).unsqueeze(-1).float()
            return (hidden * own).sum(1) / own.sum(1).clamp(min=1.0)

        def forward(self, hidden, mask, types):
            pooled = self.dropout(self.pooled(hidden, mask, types))
            return self.objection(pooled)[:, 0], self.category(pooled)

    torch.manual_seed(SEED)
    return TunedHead


@dataclass(frozen=True)
class Cached:
    """Layer-4 states of segment pairs, with their labels when training."""

    states: list[np.ndarray]
    types: list[np.ndarray]
    label: np.ndarray
    category: np.ndarray


def cache_pairs(bert, tokenizer, texts, contexts, label=None, category=None) -> Cached:
    """Run layers 1-4 once on every (segment, rep turn) pair."""
    rows = pair_ids(tokenizer, texts, contexts)
    n = len(rows)
    return Cached(
        frozen_states(bert, rows),
        [np.array(t, dtype=np.int8) for _, t in rows],
        np.zeros(n, dtype=int) if label is None else np.asarray(label),
        np.full(n, -1) if category is None else np.asarray(category),
    )


def batch_tensors(data: Cached, picked: Sequence[int]):
    """Padded (hidden, mask, types) tensors of the picked cached pairs."""
    import torch

    width = max(len(data.states[k]) for k in picked)
    hidden = torch.zeros((len(picked), width, data.states[picked[0]].shape[1]))
    mask = torch.zeros((len(picked), width), dtype=torch.long)
    types = torch.zeros_like(mask)
    for row, k in enumerate(picked):
        n = len(data.states[k])
        hidden[row, :n] = torch.from_numpy(data.states[k].astype(np.float32))
        mask[row, :n] = 1
        types[row, :n] = torch.from_numpy(data.types[k].astype(np.int64))
    return hidden, mask, types


def predict(head, data: Cached, batch_size: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Objection logits (n,) and category logits (n, 9) of every cached pair."""
    import torch

    head.eval()
    order = np.argsort([len(s) for s in data.states], kind="stable")
    objection = np.zeros(len(order), dtype=np.float32)
    category = np.zeros((len(order), N_CATEGORIES), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            picked = order[start : start + batch_size]
            z, c = head(*batch_tensors(data, picked))
            objection[picked], category[picked] = z.numpy(), c.numpy()
    return objection, category


class TunedScorer:
    """The stored fine-tuned layers on top of the shipped base model, ready to score pairs."""

    def __init__(self, path: Path = TUNED_PATH) -> None:
        import torch

        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `make train-extractor`")
        self.bert, self.tokenizer = load_base()
        self.head = head_class()(self.bert)
        with np.load(path, allow_pickle=False) as raw:
            state = {name: torch.from_numpy(raw[name].astype(np.float32)) for name in raw.files}
        self.head.load_state_dict(state)
        self.head.eval()

    def logits(
        self, texts: Sequence[str], contexts: Sequence[str | None]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Objection logits (n,) and category logits (n, 9) per segment and its rep turn."""
        if not texts:
            return np.zeros(0, dtype=np.float32), np.zeros((0, N_CATEGORIES), dtype=np.float32)
        return predict(self.head, cache_pairs(self.bert, self.tokenizer, texts, contexts))


@cache
def default_scorer() -> TunedScorer:
    """The shipped fine-tuned layers, loaded once per process."""
    return TunedScorer()
