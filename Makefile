# reidbook: two commands.
#   make book   build the HTML book (world, pretraining, the default suite of book/manifest.yml, then Jupyter Book)
#   make test   sync check, nbdev_test, pytest
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.reidbook-installed
# torch and torchvision must come from the registry together (the CUDA build also runs on CPU).
# `===` pins the exact public version, so a local `+cpu` wheel (which torchvision cannot load) is never chosen.
TORCH := torch===2.13.0 torchvision==0.28.0
# runs of the book's suite at a time (each with cores/JOBS torch threads; benchmarks and pretraining run alone)
JOBS ?= 2

.PHONY: book test install sync clean-book

install: $(STAMP)

$(STAMP): settings.ini setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install $(TORCH)
	$(BIN)/python -m pip install -e ".[dev]"
	touch $(STAMP)

sync: $(STAMP)
	$(BIN)/reidbook tags
	$(BIN)/nbdev_clean
	$(BIN)/nbdev_export
	@changed="$$(git status --porcelain -- nbs reidbook)"; \
	if [ -n "$$changed" ]; then \
	  echo "Notebooks and package are out of sync (commit the result of nbdev_clean/nbdev_export):"; \
	  echo "$$changed"; exit 1; fi

test: sync
	# one torch thread per nbdev_test worker: the workers already use every core
	OMP_NUM_THREADS=1 $(BIN)/nbdev_test --timing
	$(BIN)/pytest -q tests/

book: $(STAMP)
	$(BIN)/reidbook book --jobs $(JOBS)

clean-book:
	rm -rf _build
