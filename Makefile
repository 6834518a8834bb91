# make run [FOLDER=docs] [PORT=8080]: set up, index FOLDER, serve the chat on 127.0.0.1:PORT
# make test: set up if needed, run the whole suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
FOLDER ?= seeds
INDEX ?= .rag-index
PORT ?= 7860

.PHONY: setup index run test bench bench-scale load-test eval eval-variants train-reader \
	eval-squad crash-test clean

setup: $(STAMP)

# torch is pinned first so pip takes the CPU wheel that lies on disk, never a CUDA build.
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	HF_HUB_OFFLINE=1 $(PY) -m rag.embedders
	touch $(STAMP)

index: setup
	$(VENV)/bin/rag index $(FOLDER) --index $(INDEX)

# serve builds or refreshes the index itself (only changed files are embedded), then serves.
run: setup
	$(VENV)/bin/rag serve $(FOLDER) --index $(INDEX) --port $(PORT)

test: setup
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

# The seed set on its own index (.rag-eval/), never the chat's: uploads cannot move the figures.
eval: setup
	$(VENV)/bin/rag eval --mode all --report eval/report

# The seed set on the article as users' files are: wrapped text, PDF, HTML (eval/README.md).
eval-variants: setup
	$(PY) eval/variants.py --eval

# Every embedding backend side by side (eval/README.md); the first run indexes SciFact once per
# backend (~15 min), later runs reuse those indexes.
bench: setup
	$(PY) eval/bench.py

# The stores at 10k, 100k and 1M synthetic passages (local exact, local HNSW, milvus-lite up to
# 100k): build, RSS, disk, query latency, recall, adding a document (eval/README.md; ~1 h).
bench-scale: setup
	$(PY) eval/bench_scale.py --out eval/report/scale.json --plot eval/report/scale.png

# 50 users x 10 questions on `rag serve` (REST and Gradio), uploads meanwhile, kill -9 of
# `rag api` during uploads 10 times; all on 127.0.0.1 (eval/README.md; ~6 min).
load-test: setup
	$(PY) eval/load.py

# Retrain the reader from the packaged MiniLM on SQuAD part A (CPU, seeded; ~20 min on 2 cores).
# Writes rag/models/reader-int8.onnx + reader.json and eval/report/reader_reliability.png.
train-reader: setup
	$(PY) eval/train_reader.py

# End-to-end reader figures on the held-out SQuAD articles, both readers.
eval-squad: setup
	$(PY) eval/squad_eval.py

# kill -9 of `rag index` at random moments, 20 times: the index always opens (eval/README.md).
crash-test: setup
	$(PY) eval/crash.py --rounds 20

clean:
	rm -rf $(VENV) $(INDEX) $(INDEX)-uploads .rag-eval
