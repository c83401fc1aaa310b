# One command runs the demo, one runs the tests; both set up .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install browser run test test-fast check bench-extract bench-cluster bench-scale bench-parse bench-embed bench-floor onnx-export

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first: the CPU wheel on this disk; otherwise pip pulls a multi-GB CUDA build
	$(BIN)/pip install --disable-pip-version-check -q torch==2.13.0
	$(BIN)/pip install --disable-pip-version-check -q -e '.[dev]'
	# the embedder's ONNX export, from the shipped weights; if it fails its gate the app keeps torch
	$(BIN)/python -m pipelines.onnx_export || true
	touch $(STAMP)

install: $(STAMP)

# the browser tests drive Debian's Chromium (never a downloaded browser)
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; } \
	  || echo "chromium could not be installed: the browser tests will be skipped" >&2

run: install
	$(BIN)/verbatim demo --host 127.0.0.1 --port 8000

test: install browser
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

check: install
	$(BIN)/ruff check app pipelines models tests benchmarks
	$(BIN)/python -m pytest -q

bench-extract: install
	$(BIN)/python benchmarks/extraction_eval.py benchmarks/data/extraction_dev.jsonl

bench-cluster: install
	$(BIN)/python benchmarks/cluster_eval.py --input ../shared/eval/banking77/train.csv
	$(BIN)/python benchmarks/cluster_eval.py --input ../shared/eval/dstc11-banking/utterances.jsonl --text-field utterance --label-field intent

bench-scale: install
	$(BIN)/python benchmarks/cluster_scale.py

bench-parse: install
	$(BIN)/python benchmarks/parse_throughput.py

# re-export the embedder to ONNX (install does it once); VERBATIM_MODEL_DIR moves the folder
onnx-export: install
	$(BIN)/python -m pipelines.onnx_export

bench-embed: install
	$(BIN)/python benchmarks/embed_backends.py

bench-floor: install
	$(BIN)/python benchmarks/pipeline_floor.py
