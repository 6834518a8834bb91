# make run: set up, index seeds/, serve the chat on http://127.0.0.1:7860
# make test: set up if needed, run the whole suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
FOLDER ?= seeds
INDEX ?= .rag-index

.PHONY: setup index run test bench eval clean

setup: $(STAMP)

# torch is pinned first so pip takes the CPU wheel that lies on disk, never a CUDA build.
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

index: setup
	$(VENV)/bin/rag index $(FOLDER) --index $(INDEX)

# serve builds or refreshes the index itself (only changed files are embedded), then serves.
run: setup
	$(VENV)/bin/rag serve $(FOLDER) --index $(INDEX)

test: setup
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

eval: setup
	$(VENV)/bin/rag eval --mode all --index $(INDEX) --report eval/report

bench: setup
	$(PY) eval/bench.py

clean:
	rm -rf $(VENV) $(INDEX)
