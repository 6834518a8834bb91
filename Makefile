# make run [FOLDER=docs] [PORT=8080]: set up the runtime, index FOLDER, serve the chat on
#   127.0.0.1:PORT (the index: INDEX if given, else ./.rag-index, else FOLDER/.rag-index when
#   ./.rag-index holds another folder)
# make test: set up the runtime and the test tools if needed, run the whole suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
FOLDER ?= seeds
INDEX ?=
PORT ?= 7860
INDEX_ARG := $(if $(INDEX),--index $(INDEX))
# uv installs; it does not read pip's configuration, so it is given pip's find-links (where
# this machine keeps the CPU wheel of torch 2.13.0) to take torch from there, never a CUDA build.
FIND_LINKS := $(shell $(PYTHON) -m pip config get global.find-links 2>/dev/null)
# Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set (as on the machines this
# is built on), every `rag` command would otherwise compile ~400 modules again (~0.5 s a start).
UV_INSTALL := $(UV) pip install -q --compile-bytecode -p $(PY) \
	$(foreach l,$(FIND_LINKS),--find-links $(l))

.PHONY: setup setup-test setup-llm index run test bench bench-scale load-test eval eval-variants \
	eval-llm bench-cold train-reader calibrate-heuristic fit-gate eval-squad crash-test clean

setup: $(STAMP)

setup-test: $(TEST_STAMP)

# The runtime set only (requirements.lock): what `rag` and the chat need. torch is pinned so
# the CPU wheel is taken; the model is exported to ONNX once here, not on the first question.
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -qq uv==0.13.9
	$(UV_INSTALL) torch==2.13.0 -r requirements.lock
	$(UV_INSTALL) --no-deps -e .
	$(PY) -m compileall -q rag ui eval
	HF_HUB_OFFLINE=1 $(PY) -m rag.embedders
	touch $(STAMP)
	@echo "rag is installed in $(VENV)/bin: run '. $(VENV)/bin/activate' to put it on the PATH"

# What only the tests and the integrations need (pytest, Playwright, LangChain, LlamaIndex...).
$(TEST_STAMP): $(STAMP) requirements-test.lock
	$(UV_INSTALL) -r requirements-test.lock
	touch $(TEST_STAMP)

# The LLM server the tests talk to: llama.cpp's OpenAI-compatible server and the Gemma 3 270M
# GGUF, in a venv of their own (.venv-llm). PyPI has no wheel of llama-cpp-python: pip builds it
# from source (10+ minutes on 2 cores) once and keeps the wheel in its cache.
LLM_STAMP := .venv-llm/.installed
setup-llm: $(LLM_STAMP)

$(LLM_STAMP): requirements-llm.lock
	$(PYTHON) -m venv .venv-llm
	.venv-llm/bin/pip install -qq -r requirements-llm.lock
	touch $(LLM_STAMP)

# The seed set with answers written by llama.cpp + Gemma 3 270M (started on 127.0.0.1 here).
eval-llm: setup setup-llm
	$(PY) -m eval.llm_eval

index: setup
	$(VENV)/bin/rag index $(FOLDER) $(INDEX_ARG)

# serve builds or refreshes the index itself (only changed files are embedded), then serves.
run: setup
	$(VENV)/bin/rag serve $(FOLDER) $(INDEX_ARG) --port $(PORT)

test: setup-test
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

# The seed set on its own index (.rag-eval/), never the chat's: uploads cannot move the figures.
eval: setup
	$(VENV)/bin/rag eval --mode all --report eval/report

# The seed set on the article as users' files are: wrapped text, PDF, HTML (docs/decisions.md).
eval-variants: setup-test
	$(PY) -m eval.variants --eval

# Every embedding backend side by side (docs/decisions.md); the first run indexes SciFact once per
# backend (~15 min), later runs reuse those indexes.
bench: setup
	$(PY) -m eval.bench

# The stores at 10k, 100k and 1M synthetic passages (local exact, local HNSW, milvus-lite up to
# 100k): build, RSS, disk, query latency, recall, adding a document (docs/decisions.md; ~1 h).
bench-scale: setup
	$(PY) -m eval.bench_scale --out eval/report/scale.json --plot eval/report/scale.png

# 50 users x 10 questions on `rag serve` (REST and Gradio), uploads meanwhile, kill -9 of
# `rag api` during uploads 10 times; all on 127.0.0.1 (docs/decisions.md; ~6 min).
load-test: setup
	$(PY) -m eval.load

# Retrain the reader from the packaged MiniLM on all the SQuAD training articles (seeded; 87,593
# questions, ~5.3 h on 2 CPU cores in bf16; checkpoints every 200 steps in eval/cache/train-reader,
# so the same command resumes an interrupted run, ARGS="--minutes 120" stops one in time;
# ARGS="--questions 24000" samples ~75 min of it; ARGS="--device cuda" on a GPU). Part A's development
# articles validate, calibrate and fit its answer head. Writes rag/models/reader-int8.onnx +
# reader.json and eval/report/reader_reliability.png; then `make fit-gate`.
train-reader: setup
	$(PY) -m eval.train_reader $(ARGS)

# Calibrate the heuristic reader's confidence on held-out SQuAD (~2 min): rag/models/heuristic.json.
calibrate-heuristic: setup
	$(PY) -m eval.calibrate_heuristic

# Fit the answer gate (abstention, hedge, short answers) on held-out SQuAD and SQuAD 2.0's
# unanswerable questions (~10 min on 2 cores): rag/models/gate.json and eval/report/gate_*.png.
fit-gate: setup
	$(PY) -m eval.fit_gate --write

# End-to-end reader figures on the held-out SQuAD articles, both readers.
eval-squad: setup
	$(PY) -m eval.squad_eval

# Cold `rag ask` (a new process per question): median of 5 and where a cold start spends its time.
bench-cold: setup
	$(PY) -m eval.cold --runs 5

# kill -9 of `rag index` at random moments, 20 times: the index always opens (docs/decisions.md).
crash-test: setup
	$(PY) -m eval.crash --rounds 20

clean:
	rm -rf $(VENV) .venv-llm .rag-index .rag-index-uploads .rag-eval
