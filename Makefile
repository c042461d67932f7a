# harmonise — two commands for a new user:
#   make run    set up .venv, run the main job on the bundled SYNTHETIC surveys, write reports/
#   make test   set up .venv (+ R/survey and Chromium from Debian when missing), run ruff, mypy, pytest
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck pytest r-deps browser-deps axe-deps postgres-deps java-deps r-reference samples bench bench-web clean help

help:
	@echo "make run     - set up and run the main job on the bundled synthetic surveys (writes reports/)"
	@echo "make test    - set up and run ruff, mypy and pytest (installs R + survey if missing)"
	@echo "make samples - regenerate the synthetic sample surveys under surveys/"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,suggest]'
	touch $(STAMP)

# The questionnaire bridge and plan are written before the build, whose index.html links
# every file already in reports/questionnaire/; the main job last, so the report links the
# joint survey design.
run: $(STAMP)
	$(BIN)/harmonise questionnaire bridge --out reports/questionnaire
	$(BIN)/harmonise questionnaire sample-size --out reports/questionnaire
	$(BIN)/harmonise questionnaire build questionnaire/joint-v1.yaml --out reports/questionnaire
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

# axe-core (npm) for the report's accessibility test: injected into the real headless
# Chromium by tests/report/test_report_in_browser.py. Installed into .cache/npm (git-ignored).
AXE_VERSION ?= 4.14.1
AXE := .cache/npm/node_modules/axe-core/axe.min.js
axe-deps: $(AXE)
$(AXE):
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed for axe-core (apt-get install npm)"; exit 1; }
	mkdir -p .cache/npm
	npm install --silent --no-audit --no-fund --no-save --prefix .cache/npm axe-core@$(AXE_VERSION)
# A Java runtime for ODK Validate (its jar ships inside pyxform's wheel; the questionnaire tests
# run it on the built forms).
java-deps:
	@if ! command -v java >/dev/null 2>&1; then \
	  echo "Installing Debian default-jre-headless (needed by ODK Validate in the questionnaire tests)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq default-jre-headless >/dev/null; \
	fi

# PostgreSQL for the shared-deployment store test: Debian's server on 127.0.0.1:5432.
PG_URL ?= postgresql+psycopg://postgres:harmonise@127.0.0.1:5432/postgres
postgres-deps:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	if ! command -v pg_ctlcluster >/dev/null 2>&1; then \
	  echo "Installing Debian postgresql (needed by the PostgreSQL store test)"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; \
	fi; \
	cluster=$$(pg_lsclusters -h | awk 'NR==1 {print $$1" "$$2}'); \
	if [ -z "$$cluster" ]; then echo "no PostgreSQL cluster found (pg_lsclusters)"; exit 1; fi; \
	$$SUDO pg_ctlcluster $$cluster start 2>/dev/null || true; \
	for i in 1 2 3 4 5 6 7 8 9 10; do pg_lsclusters -h | grep -q online && break; sleep 1; done; \
	$$SUDO su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'harmonise'\"" >/dev/null

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) r-deps browser-deps axe-deps postgres-deps java-deps
	HARMONISE_REQUIRE_R=1 HARMONISE_REQUIRE_BROWSER=1 HARMONISE_REQUIRE_POSTGRES=1 HARMONISE_REQUIRE_JAVA=1 HARMONISE_REQUIRE_AXE=1 \
	HARMONISE_TEST_POSTGRES_URL='$(PG_URL)' $(BIN)/pytest -q

test: lint typecheck pytest

# Regenerate the cached R survey reference values the fast tests compare against.
r-reference: $(STAMP) r-deps
	$(BIN)/python tests/rreference.py
	$(BIN)/python tests/rpower.py

samples: $(STAMP)
	$(BIN)/harmonise samples --root .

bench: $(STAMP)
	$(BIN)/python bench/bench_main_job.py --repeats 3
	$(BIN)/python bench/bench_questionnaire.py --repeats 3
	$(BIN)/python bench/bench_suggest.py
	$(BIN)/python bench/bench_platforms.py --repeats 3

# The web workspace on loopback: upload -> report p95 for a 3,000-respondent export,
# uploads per second (SQLite; pass DB=postgresql+psycopg://... for PostgreSQL).
bench-web: $(STAMP)
	$(BIN)/python bench/bench_web.py --repeats 10 $(if $(DB),--database '$(DB)')

clean:
	rm -rf $(VENV) reports/*.html reports/*.csv reports/*.json
