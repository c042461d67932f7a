# harmonise — two commands for a new user:
#   make run    set up .venv, run the main job on the bundled SYNTHETIC surveys, write reports/
#   make test   set up .venv (+ R/survey and Chromium from Debian when missing), run ruff, mypy, pytest
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck pytest r-deps browser-deps samples bench clean help

help:
	@echo "make run     - set up and run the main job on the bundled synthetic surveys (writes reports/)"
	@echo "make test    - set up and run ruff, mypy and pytest (installs R + survey if missing)"
	@echo "make samples - regenerate the synthetic sample surveys under surveys/"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/harmonise run --manifest surveys/manifest.yaml --out reports

# R's survey package is the reference implementation the estimates are checked against.
r-deps:
	@if ! command -v Rscript >/dev/null 2>&1 || ! Rscript -e 'library(survey)' >/dev/null 2>&1; then \
	  echo "Installing R and r-cran-survey from Debian (needed by the cross-check tests)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq r-base-core r-cran-survey >/dev/null; \
	fi

# Debian's Chromium for the browser test of the report (playwright drives it; no browser download).
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  echo "Installing Debian chromium (needed by the report's browser test)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) r-deps browser-deps
	HARMONISE_REQUIRE_R=1 HARMONISE_REQUIRE_BROWSER=1 $(BIN)/pytest -q

test: lint typecheck pytest

samples: $(STAMP)
	$(BIN)/harmonise samples --root .

bench: $(STAMP)
	$(BIN)/python bench/bench_main_job.py --repeats 3

clean:
	rm -rf $(VENV) reports/*.html reports/*.csv reports/*.json
