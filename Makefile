# Everything starts from python3: `make` builds .venv and installs every
# distribution (editable) with the test tools.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := -e . -e plugins/sentiero_store_sqlite -e plugins/sentiero_store_mongo \
            -e plugins/sentiero_store_file -e plugins/sentiero_store_redis \
            -e plugins/sentiero_analytics -e plugins/sentiero_reporter \
            -e plugins/sentiero_django -e plugins/sentiero_flask
DEV_TOOLS := -r requirements-dev.txt

.PHONY: install demo test lint typecheck bench frontend clean system-deps bench-deps dist

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

$(STAMP): $(BIN)/python pyproject.toml plugins/*/pyproject.toml requirements-dev.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python $(PACKAGES) $(DEV_TOOLS)
	touch $(STAMP)

install: $(STAMP)

system-deps:
	bash .ci/system-deps.sh test

bench-deps:
	bash .ci/system-deps.sh bench

demo: $(STAMP)
	$(BIN)/sentiero demo --host 127.0.0.1 --port 9292

lint: $(STAMP)
	$(BIN)/ruff check sentiero_core plugins tests bench
	$(BIN)/ruff format --check sentiero_core plugins tests bench

typecheck: $(STAMP)
	$(BIN)/mypy sentiero_core plugins/sentiero_store_sqlite/sentiero_store_sqlite \
	    plugins/sentiero_store_mongo/sentiero_store_mongo plugins/sentiero_store_file/sentiero_store_file \
	    plugins/sentiero_store_redis/sentiero_store_redis \
	    plugins/sentiero_analytics/sentiero_analytics plugins/sentiero_reporter/sentiero_reporter \
	    plugins/sentiero_django/sentiero_django plugins/sentiero_flask/sentiero_flask

test: system-deps $(STAMP) lint typecheck
	$(BIN)/python -m pytest -q

# Every bench, then one table of their figures against their targets
# (bench/_summary.py, which also writes the "Last run" of docs/benchmarks.md).
# A failing bench is marked and the others still run.
BENCH_RESULTS ?= bench/results
bench: bench-deps $(STAMP)
	@rm -rf $(BENCH_RESULTS) && mkdir -p $(BENCH_RESULTS)
	@for script in bench/[!_]*.py; do \
	    echo "== $$script"; \
	    BENCH_RESULTS_DIR=$(BENCH_RESULTS) $(BIN)/python $$script \
	        || touch $(BENCH_RESULTS)/$$(basename $$script .py).failed; \
	done
	@echo "== summary"
	@BENCH_RESULTS_DIR=$(BENCH_RESULTS) $(BIN)/python bench/_summary.py

# Every wheel and sdist, into dist/ (each wheel is built from its sdist,
# so a file missing from an sdist fails here).
DISTS := . plugins/sentiero_store_sqlite plugins/sentiero_store_mongo plugins/sentiero_store_file \
	    plugins/sentiero_store_redis \
         plugins/sentiero_analytics plugins/sentiero_reporter \
         plugins/sentiero_django plugins/sentiero_flask
dist: $(BIN)/python
	rm -rf dist
	@for src in $(DISTS); do $(BIN)/uv build --quiet --out-dir dist $$src || exit 1; done
	@ls -1 dist

frontend:
	cd frontend && npm ci && npm run build

clean:
	rm -rf $(VENV) build dist
